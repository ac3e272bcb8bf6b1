/* A finished rank analysis (SPEC.md section 3) as a plain struct: every
 * number `slashscope rank` writes. Means over prompts of r_l (the spectrum)
 * and R_tau of the pre-PE queries Q (per query head), keys K (per KV head)
 * and hidden states H (per layer); the same of the weights W_Q and W_K (dense
 * SVD, prompt-free); the mean and relative variation std / mean of ||q_i||
 * and ||k_j|| over every token (Figure 14). NaN where no prompt counted. */
#ifndef SS_ANALYSIS_RANK_RESULT_H
#define SS_ANALYSIS_RANK_RESULT_H

#include <stdint.h>

#include "analysis/rank_obs.h"

typedef struct {
    int n_layer, n_head, n_kv_head, d_head, d_model, n_tau;
    double tau[SS_RANK_MAX_TAU];
    int64_t prompts;
    double *q_r, *q_R;                /* [L, H, d_head], [L, H, n_tau] */
    double *k_r, *k_R;                /* [L, H_kv, d_head], [L, H_kv, n_tau] */
    double *h_r, *h_R;                /* [L, d_model], [L, n_tau] */
    double *wq_r, *wq_R;              /* [L, H, d_head], [L, H, n_tau] */
    double *wk_r, *wk_R;              /* [L, H_kv, d_head], [L, H_kv, n_tau] */
    double *q_norm_mean, *q_norm_rv;  /* [L, H] */
    double *k_norm_mean, *k_norm_rv;  /* [L, H_kv] */
} ss_rank_result;

/* The means of acc and the weight ranks of every head of m. */
ss_code ss_rank_result_make(const ss_model *m, const ss_rank_acc *acc, ss_rank_result *r,
                            ss_error *err);
void ss_rank_result_free(ss_rank_result *r);

/* Cumulative energy sum_{i<=l} r_i for l = 1..d_head (how R_tau is read,
 * Figures 9-10) into curves [5, d_head]: Q over the listed query heads, Q
 * over all, K over the KV heads a listed head reads, K over all, and H's
 * first d_head directions over layers. listed: [L * H] flags. *n_q_listed,
 * *n_k_listed: heads behind the listed curves (NaN curves when 0). */
ss_code ss_rank_cumulative(const ss_rank_result *r, const unsigned char *listed, double *curves,
                           int *n_q_listed, int *n_k_listed, ss_error *err);

#endif
