/* Low rank of pre-PE queries, keys and hidden states (SPEC.md section 3;
 * paper section 4.2, Tables 3-4, Figures 9, 10, 14) as an observer of the
 * forward pass.
 *
 * For every prompt and layer, on_layer hands us H [n, d] (attention input
 * after RMSNorm), Q and K (pre-RoPE, half order). Per prompt we form the Gram
 * matrix of each head's Q [n, d_head], of each KV head's K and of the layer's
 * H, take its eigenvalues (the squared singular values) and add r_l and
 * R_tau to sums; results are means over prompts (each prompt's matrix is its
 * own n rows, as in the paper's per-prompt figures). Memory is one d x d
 * Gram plus one d_head x d_head per head, whatever n.
 *
 * The norms ||q_i||, ||k_j|| are pooled over every token of every prompt:
 * their relative variation std / mean is Figure 14.
 *
 * Weights: r_l and R_tau of a head's W_Q (d x d_head) and of its KV head's
 * W_K, by dense SVD (they do not depend on prompts). */
#ifndef SS_ANALYSIS_RANK_OBS_H
#define SS_ANALYSIS_RANK_OBS_H

#include <stdint.h>

#include "analysis/analysis.h"
#include "analysis/cone.h"
#include "analysis/lowrank.h"
#include "common/error.h"
#include "engine/observer.h"
#include "model/model.h"

#define SS_RANK_MAX_TAU 8

typedef struct {
    int n_layer, n_head, n_kv_head, d_head, d_model;
    int n_tau;
    double tau[SS_RANK_MAX_TAU];
    int64_t prompts;
    /* sums over prompts of r_l [.., m] and R_tau [.., n_tau], with the
     * number of prompts that had a non-zero matrix */
    double *q_r, *q_R, *k_r, *k_R, *h_r, *h_R;
    int64_t *q_cnt, *k_cnt, *h_cnt;
    ss_moments *q_norm, *k_norm; /* [L * H], [L * H_kv] */
    /* per-layer scratch */
    ss_gram *gq, *gk, gh;
    double *sv2;                 /* [(H + H_kv) * d_head + d_model] */
    unsigned char *layer_done;   /* [L]: layers seen in the prompt under way */
} ss_rank_acc;

/* tau: n_tau thresholds in [0, 1] (the first is the headline one, 0.95). */
ss_code ss_rank_acc_init(ss_rank_acc *a, const ss_config *c, const double *tau, int n_tau,
                         ss_error *err);
void ss_rank_acc_free(ss_rank_acc *a);
/* The rank as an analysis (analysis/analysis.h) over a state allocated
 * here (released by ss_analysis_free); ss_rank_analysis_acc is its
 * accumulator. finish fills an ss_rank_result (analysis/rank_result.h),
 * the weight ranks of m included. */
ss_code ss_rank_analysis_new(ss_analysis *an, const ss_model *m, const double *tau, int n_tau,
                             ss_error *err);
ss_rank_acc *ss_rank_analysis_acc(const ss_analysis *an);
/* The observer callback, callable directly (tests). */
ss_code ss_rank_acc_on_layer(void *ctx, int layer, int n, const float *h, const float *q,
                             const float *k, ss_error *err);
/* Ends a prompt: every layer must have been seen. */
ss_code ss_rank_acc_end_prompt(ss_rank_acc *a, ss_error *err);
/* Adds b's sums, counts and norm moments into a (same model shape and tau,
 * else SS_ERR_INCOMPATIBLE): a then holds both prompt sets. */
ss_code ss_rank_acc_merge(ss_rank_acc *a, const ss_rank_acc *b, ss_error *err);

typedef enum { SS_RANK_Q, SS_RANK_K, SS_RANK_H } ss_rank_kind;

/* Mean over prompts of r_1..r_m (out [m]: d_head for Q/K, d_model for H) and
 * of R_tau for each tau (R [n_tau]); idx is the query head (Q), the KV head
 * (K) or ignored (H). NaN when no prompt counted. */
void ss_rank_acc_mean(const ss_rank_acc *a, ss_rank_kind kind, int layer, int idx, double *r,
                      double *R);

/* r_l [d_head] and R_tau [n_tau] of W_Q of query head `head` (key = 0) or of
 * W_K of key/value head `head` (key = 1) in `layer`; an all-zero matrix
 * (a zeroed head) has R_tau NaN and r NaN (ss_lowrank_R). */
ss_code ss_rank_weight(const ss_model *m, int layer, int head, int key, const double *tau,
                       int n_tau, double *r, double *R, ss_error *err);

/* W^T of one head as doubles [d_head, d_model] (rows of wq/wk): the matrix
 * whose SVD both the weight ranks and the cone analysis need. */
ss_code ss_head_weight(const ss_model *m, int layer, int head, int key, double *wt,
                       ss_error *err);

#endif
