/* Algorithm 1: two-stage gradient descent on the reduced model (rmodel.h).
 * W1 = 0, W2 = I; stage I updates W1 alone for tau1 steps with rate eta1,
 * stage II updates W2 alone for tau2 steps with rate eta2. Each step draws
 * a fresh batch of prompts (a Monte Carlo estimate of the expectation in
 * eq. 15) from the stream (seed, step), so a run is a function of its seed.
 *
 * One trajectory row per state: row t (t = 0..tau1+tau2) describes the
 * parameters after t updates, measured on the batch of step t (the last row
 * on a fresh batch): the loss, the mean and min over i >= delta of
 * S1[i][i-delta], and the layer-2 attention on the question's feature
 * (eq. 16). stage is 1 for rows 0..tau1-1 (their update trains W1), 2 from
 * row tau1 on. */
#ifndef SS_THEORY_TRAIN_H
#define SS_THEORY_TRAIN_H

#include <stdint.h>

#include "common/error.h"
#include "theory/icl.h"
#include "theory/rmodel.h"

typedef struct {
    ss_icl_config icl;
    int d_c;
    double eta1, eta2;
    int tau1, tau2;
    int batch;
    uint64_t seed;
    double kappa;      /* slash-dominant when mean S1[i][i-delta] >= kappa */
    int quiet;         /* no progress line */
    const char *label; /* progress line prefix */
} ss_train_config;

/* Defaults chosen so that the default run reaches the thresholds
 * quickly (docs/theory.md has the measurements). */
#define SS_TRAIN_ETA1 5.0
#define SS_TRAIN_ETA2 100.0
#define SS_TRAIN_TAU1 100
#define SS_TRAIN_TAU2 100
#define SS_TRAIN_BATCH 1024
#define SS_TRAIN_KAPPA 0.95

void ss_train_defaults(ss_train_config *c);

typedef struct {
    int step, stage;
    double loss, s1_mean, s1_min, s2_match;
} ss_train_row;

typedef struct {
    ss_rmodel model; /* the trained parameters */
    int N;
    ss_train_row *rows;
    int n_rows;      /* tau1 + tau2 + 1 */
    double *S1;      /* [N, N] final layer-1 attention */
    int slash_step;  /* first row with s1_mean >= kappa, -1 if none */
    double seconds;  /* wall time of the run */
} ss_train_result;

/* theta: the F = d_c/2 + d_x/2 + 1 frequencies (freqs.h). */
ss_code ss_train_run(const ss_train_config *c, const double *theta, ss_train_result *r,
                     ss_error *err);
void ss_train_result_free(ss_train_result *r);

/* Mean and min over i in [delta, N-1] of S1[i][i - delta]. */
void ss_train_slash_stats(const double *S1, int N, int delta, double *mean, double *min);

#endif
