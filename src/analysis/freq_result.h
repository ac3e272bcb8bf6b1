/* A finished freq analysis (SPEC.md section 5) as a plain struct: every
 * number `slashscope freq` writes, computed here rather than by the CLI.
 *  - scores: average slash score of each chosen head under the unablated
 *    schedule (variant 0) and each band ablation (variant 1 + a);
 *  - inp: InP(i = row, j, l) of the first prompt (Figure 15);
 *  - inp_mean_abs: mean |InP| per frequency (0 for a frequency the run
 *    leaves unrotated: it carries no position); active: those above
 *    active_frac of the head's largest (Figure 17), and the frequency
 *    condition of the active set at the prompt length with its cosine-sum
 *    curve f(x), x = 0..n;
 *  - alignment: Cauchy-Schwarz ratio logit / (s ||q|| ||k||) at offsets
 *    0..max_delta: mean, min, max, and the mean logit and bound;
 *  - usage: mean 2-norm of each frequency's chunk of q and k per head
 *    (Barbero et al. Fig. 3-4), and per layer averaged over its heads. */
#ifndef SS_ANALYSIS_FREQ_RESULT_H
#define SS_ANALYSIS_FREQ_RESULT_H

#include <stdint.h>

#include "analysis/freq_obs.h"
#include "analysis/freqcond.h"

typedef struct {
    int n_layer, n_head, n_kv_head, n_freq, n, n_sel, n_var, row, max_delta;
    int64_t prompts;
    int inp_rows;                    /* query rows behind the mean |InP| */
    double scale;                    /* the logit scale s */
    double active_frac;
    ss_head_ref *sel;                /* [n_sel] */
    double *scores;                  /* [n_sel, n_var, n] */
    double *inp;                     /* [n_sel, row + 1, F] */
    double *inp_mean_abs;            /* [n_sel, F] */
    double *inp_share;               /* [n_sel, F]: over the head's largest (NaN if 0) */
    double *theta;                   /* [n_sel, F]: the angles of the head's own layer */
    double *nope_mean_abs;           /* [n_sel]: mean |position-free logit| (partial
                                        rotary; 0 when every dim rotates) */
    unsigned char *active;           /* [n_sel, F] */
    int *n_active;                   /* [n_sel] */
    int *cond_ok;                    /* [n_sel]: the condition could be evaluated */
    ss_freq_condition_result *cond;  /* [n_sel] */
    double *curve;                   /* [n_sel, n + 1] (NaN without active frequencies) */
    int64_t *cs_pairs;               /* [n_sel, max_delta + 1] */
    double *cs_mean, *cs_min, *cs_max, *cs_logit_mean, *cs_bound_mean; /* same shape */
    double *usage_q, *usage_k;       /* [L, H, F], [L, H_kv, F] */
    double *usage_layer_q, *usage_layer_k; /* [L, F] */
    double *layer_theta;             /* [L, F]: each layer's angles (radians/token) */
} ss_freq_result;

/* active_frac in [0, 1]: the paper's 0.1. */
ss_code ss_freq_result_make(const ss_freq_acc *a, double active_frac, ss_freq_result *r,
                            ss_error *err);
void ss_freq_result_free(ss_freq_result *r);

#endif
