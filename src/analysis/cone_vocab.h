/* Layer-0 analysis over the whole vocabulary (SPEC.md section 4; paper
 * section 4.3, Table 2, 11, 12, Figures 11-13; Barbero et al. appendix E.1).
 *
 * The paper's prompt here is "the concatenation of all tokens": token t at
 * position t, t = 0..V-1. At layer 0 the pre-RoPE q and k of a token do not
 * depend on its neighbours, so we run the forward pass over the vocabulary
 * in chunks, stop each chunk at layer 0's on_layer (nothing after the Q/K/V
 * projections is computed) and keep h = RMSN(x) (the layer-0 attention
 * input, with the model's embedding scale and norm weight) and q, k.
 *
 * Per query head (W_Q) and per key/value head (W_K): r~_1 and R~_tau averaged
 * over the vocabulary, the dominant singular direction l* = argmax_l
 * sum_x (sigma_l v_l^T h_x)^2 with its energy share and RV(v_l*), the mean
 * ||W^T h|| against ||b||, and the plain r_1, R_tau of Q (bias included) and
 * K over the vocabulary. RV of one seeded Gaussian direction is the baseline.
 *
 * Cauchy-Schwarz alignment for chosen layer-0 heads: for offsets
 * delta = 0..max_delta, logit(t, t - delta) / (s ||q_t|| ||k_{t-delta}||)
 * over the vocabulary prompt (mean, min, max, and the mean logit and bound:
 * Barbero's Tables 3-5 per token, summarised). */
#ifndef SS_ANALYSIS_CONE_VOCAB_H
#define SS_ANALYSIS_CONE_VOCAB_H

#include <stdint.h>

#include "analysis/cone.h"
#include "common/error.h"
#include "model/model.h"

typedef struct {
    double tau;         /* R~_tau and R_tau (0.95) */
    int max_delta;      /* alignment offsets 0..max_delta */
    uint64_t seed;      /* the random baseline direction */
    int chunk;          /* tokens per forward chunk (0: 2048) */
    const int *cs_heads;/* layer-0 query heads for the alignment */
    int n_cs;
} ss_cone_opts;

typedef struct {
    ss_cone_result w;   /* r~, dominant direction, RV, mean ||W^T h|| */
    double r1, R;       /* r_1, R_tau of Q (or K) over the vocabulary, bias included */
    double bias_norm;   /* ||b|| (0 without a bias) */
    double sigma1;      /* largest singular value of W */
    /* RV (std / mean) over the vocabulary of ||W^T h|| and of ||q|| as RoPE
     * sees it (bias added, after q_norm / k_norm): with a per-head RMSNorm
     * the second is the first with the norm's own fixing of ||q|| applied */
    double norm_rv_proj, norm_rv;
} ss_cone_side;

typedef struct {
    int n_head, n_kv_head, vocab, max_delta, n_cs;
    ss_cone_side *q;    /* [H] */
    ss_cone_side *k;    /* [H_kv] */
    double rv_random;   /* RV of the Gaussian direction over the vocabulary */
    /* [n_cs, max_delta + 1] */
    double *cs_mean, *cs_min, *cs_max, *cs_logit, *cs_bound;
    int64_t *cs_n;
    int *cs_heads;      /* [n_cs] */
} ss_cone_report;

/* One side's numbers in a fixed column order (names in SS_CONE_SIDE_COLS:
 * what cone.csv and the public API's q / k arrays show); the dominant
 * direction 1-based like every index shown to users. */
#define SS_CONE_N_SIDE 12
extern const char *const SS_CONE_SIDE_COLS[SS_CONE_N_SIDE];
void ss_cone_side_values(const ss_cone_side *s, double *v);

ss_code ss_cone_vocab(const ss_model *m, const ss_cone_opts *o, ss_cone_report *out,
                      ss_error *err);
void ss_cone_report_free(ss_cone_report *r);

/* A standard normal vector [d] from a seed (Box-Muller over SplitMix64). */
void ss_gaussian_vector(uint64_t seed, double *v, int d);

#endif
