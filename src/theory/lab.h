/* One theory-lab experiment end to end: build the frequencies, check
 * Assumption 5.1 on them, train the reduced model with Algorithm 1, and
 * evaluate it in and out of distribution. `slashscope theory`, `demo` and
 * the sweep are thin layers over this. */
#ifndef SS_THEORY_LAB_H
#define SS_THEORY_LAB_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "analysis/freqcond.h"
#include "common/error.h"
#include "report/textbuf.h"
#include "theory/freqs.h"
#include "theory/ood.h"
#include "theory/train.h"

#define SS_LAB_EVAL_PROMPTS 4096

typedef struct {
    ss_train_config train;
    ss_freqs_kind freqs;
    const char *freqs_path; /* for SS_FREQS_FILE */
    const char *freqs_name; /* how to call the set in outputs ("high", a path, ...) */
    const double *theta;    /* explicit d/2 frequencies: used instead of freqs when set */
    double base;            /* for standard */
    double prope;           /* p-RoPE fraction applied last; 1 = plain RoPE */
    double L;               /* Assumption 5.1's constant to judge against; <= 0: none */
    int n_eval;             /* prompts per evaluation case */
} ss_lab_config;

void ss_lab_defaults(ss_lab_config *c);

typedef struct {
    int F_c, F_s, N;
    double *theta;              /* F_c + F_s */
    ss_freq_condition_result cone; /* the cone frequencies' pulse fit (eq. 11) */
    double sem_max;             /* largest semantic frequency */
    double sem_alpha;           /* sem_max = N^-alpha (inf when sem_max is 0) */
    int sem_pass;               /* alpha >= 2: part 1 of Assumption 5.1 */
    int cone_pass;              /* -1 without an L, else eps_FN <= L C1 / N */
    ss_train_result train;
    ss_ood_case ood[SS_OOD_CASES];
    double loss_init;           /* the initial model on the in-distribution eval prompts */
    double loss_final;          /* the trained model on the same prompts */
    double s1_final, s1_final_min;
} ss_lab_result;

ss_code ss_lab_run(const ss_lab_config *c, ss_lab_result *r, ss_error *err);
void ss_lab_free(ss_lab_result *r);

/* Did layer 1 become kappa-slash-dominant, and did the loss fall below 5%
 * of its initial value? */
int ss_lab_slash_dominant(const ss_lab_config *c, const ss_lab_result *r);
int ss_lab_loss_converged(const ss_lab_result *r);

/* trajectory.csv, trajectory.svg, layer1.npy, layer1.png, layer1.svg, frequencies.json, ood.json and
 * run.json into dir (created if needed). */
ss_code ss_lab_write(const char *dir, const ss_lab_config *c, const ss_lab_result *r,
                     ss_error *err);

/* The frequency condition's fit as JSON (C1, C2, eps_FN, L_min, peak_gap,
 * peak_x): frequencies.json's "cone" and the API's theory record. */
cJSON *ss_lab_condition_json(const ss_freq_condition_result *c);

/* The run's figures as SVG documents appended to svg: the training
 * trajectory, and layer 1's attention with axes and a log colour bar fixed
 * to [1e-4, 1] so that runs compare at a glance. */
ss_code ss_lab_trajectory_figure(ss_text *svg, const ss_lab_result *r, const char *title,
                                 ss_error *err);
ss_code ss_lab_layer1_figure(ss_text *svg, const ss_lab_result *r, const char *title,
                             ss_error *err);

/* The short verdict in words. */
void ss_lab_print_verdict(FILE *out, const ss_lab_config *c, const ss_lab_result *r);

#endif
