/* Low-rank query/key compression plan (SPEC.md section 7; paper Appendix C,
 * eqs. 18-20).
 *
 * For each head's W (d_head x d: W_Q of a query head, W_K of a KV head),
 * W = sum_l sigma_l u_l v_l^T (dense SVD). Over one prompt's hidden states H
 * [n, d] (the attention input after RMSNorm) direction l >= 1 carries the
 * energy  e_l = ||sigma_l v_l^T H^T||^2 = sigma_l^2 v_l^T G v_l  (G = H^T H),
 * and the bias, direction 0 (sigma_0 = 1, v_0 = b), carries e_0 = n ||b||^2
 * (0 without a bias): what it adds to every one of the n rows. The prompt's
 * shares r_l(H) = e_l / sum_i e_i (eq. 18) are averaged over the prompts
 * (eq. 19, r_l here).
 *
 * Plan (eq. 20): directions l >= 1 sorted by decreasing r_l, the bias always
 * first; R_thre is the least R with r_0 + (R largest r_l) > thre (strict, as
 * the paper writes it; d_head when no R reaches it, so thre = 1 keeps
 * everything). A matrix is compressed when R_thre <= rank_thre and R_thre <
 * d_head (a full-rank "compression" would only add parameters); it then
 * costs R (d_head + d) parameters instead of d_head d. */
#ifndef SS_ANALYSIS_COMPRESS_H
#define SS_ANALYSIS_COMPRESS_H

#include <stdint.h>

#include "analysis/analysis.h"
#include "common/error.h"
#include "model/model.h"

typedef struct {
    int n_layer, n_head, n_kv_head, d_head, d_model, has_bias;
    int64_t prompts;
    /* mean shares r_0..r_dh: q_r [L, H, dh + 1], k_r [L, K, dh + 1]; entry 0
     * is the bias, entry l >= 1 the l-th singular direction (sigma descending) */
    double *q_r, *k_r;
} ss_compress_result;

/* A compress analysis (finish fills an ss_compress_result). It needs no
 * attention: the pass stops after the last layer's hidden states. */
ss_code ss_compress_analysis_new(ss_analysis *an, const ss_model *m, ss_error *err);
void ss_compress_result_free(ss_compress_result *r);

/* R_thre of one matrix from its shares r[0..dh] (eq. 20); keep (may be NULL)
 * receives the 1-based directions kept, in decreasing r, R of them. */
int ss_compress_kept_rank(const double *r, int dh, double thre, int *keep);

/* The plan's parameter counts for one (thre, rank_thre) pair: every W_Q and
 * W_K of the model, compressed ones at R (d_head + d). */
typedef struct {
    double thre;
    int rank_thre;
    int64_t params_total, params_kept;
    int compressed_q, compressed_k; /* matrices compressed */
    double saved_share;             /* (total - kept) / total */
} ss_compress_summary;

ss_compress_summary ss_compress_summarize(const ss_compress_result *r, double thre,
                                          int rank_thre);

/* The SVD of one head's weight: sigma [dh] descending, vt [dh, d] (rows
 * v_l^T), u [dh, dh] (column l is u_l; may be NULL). */
ss_code ss_head_weight_svd(const ss_model *m, int layer, int head, int key, double *sigma,
                           double *vt, double *u, ss_error *err);

#endif
