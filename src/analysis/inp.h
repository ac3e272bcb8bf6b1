/* Per-frequency decomposition of the attention logit (SPEC.md section 5,
 * paper eq. 9): with pre-RoPE q_i, k_j in half order (frequency f pairs dims
 * f and f + F, F = d_head / 2),
 *
 *   InP(i, j, f) = s * [R_i q_i]_f . [R_j k_j]_f
 *               = s * ((qa ka + qb kb) cos((i-j) theta_f) + (qa kb - qb ka) sin((i-j) theta_f))
 *
 * for an active frequency (theta_f replaced by 0 for an inactive one, which
 * is left unrotated), so that sum_f InP(i, j, f) is exactly the logit
 * s (R_i q_i)^T (R_j k_j). Indices here are 0-based f; output files use l = f + 1.
 * F is the schedule's n_freq = rotary_dim / 2: with partial rotary (GPT-NeoX)
 * dims 2F..d_head-1 are not rotated and not part of any InP; they add the
 * position-free term s q_nope . k_nope to the logit (ss_nope_logit). Where
 * RoPE multiplies cos and sin by an attention factor m (yarn, longrope) every
 * InP carries m^2, as the model's logit does. */
#ifndef SS_ANALYSIS_INP_H
#define SS_ANALYSIS_INP_H

#include <stdint.h>

#include "common/error.h"
#include "model/rope.h"

/* cos and sin of delta * theta_f for delta = 0..n-1 and every frequency, in
 * double precision: shared by every head of a prompt. */
typedef struct {
    int n, n_freq;
    double *cs; /* [n, 2, n_freq]: per offset m^2 cos of every frequency, then m^2 sin */
    double gain; /* m^2 (1 without an attention factor) */
} ss_inp_table;

ss_code ss_inp_table_init(ss_inp_table *t, const ss_rope *rope, int n, ss_error *err);
void ss_inp_table_free(ss_inp_table *t);

/* s q_nope . k_nope over dims from..d_head-1 (from = 2F): the unrotated,
 * position-free part of the logit under partial rotary (0 if none). */
double ss_nope_logit(const float *q, const float *k, int from, int d_head, double scale);

/* InP(i, j, f) for one pair, every frequency, into out [F]; returns the logit
 * (their sum). |i - j| < t->n. */
double ss_inp_pair(const ss_inp_table *t, const float *q, const float *k, int i, int j,
                   double scale, double *out);

/* InP(i, j, f) for j = 0..i, every f: out [i + 1, F] (row j at out + j * F).
 * Key j's row starts at k + j * ldk. i < t->n. */
void ss_inp_row(const ss_inp_table *t, const float *q_i, const float *k, int64_t ldk, int i,
                double scale, double *out);

/* abs_sum[f] += |InP(i, j, f)| over keys j in [j0, i]; returns the number of
 * keys added (0 when j0 > i). For the mean |InP| that picks active frequencies. */
int64_t ss_inp_row_abs_add(const ss_inp_table *t, const float *q_i, const float *k, int64_t ldk,
                           int i, int j0, double scale, double *abs_sum);

/* Frequency usage (Barbero et al. Fig. 3-4): acc[f] += 2-norm of the chunk
 * (x_f, x_{f+F}) of one row x [2F]. */
void ss_chunk_norms_add(const float *x, int n_freq, double *acc);

/* active[f] = 1 when mean_abs[f] > frac * max_f mean_abs[f] (the paper: frac
 * 0.1); returns how many are active (0 when every value is 0 or NaN). */
int ss_inp_active(const double *mean_abs, int n_freq, double frac, unsigned char *active);

/* Cauchy-Schwarz alignment (Barbero et al. appendix E.1): the logit from i
 * to j over its bound s ||q_i|| ||k_j||, in [-1, 1]; NaN for a zero vector. */
double ss_cs_ratio(const ss_inp_table *t, const float *q_i, const float *k_j, int i, int j,
                   double scale, double *logit, double *bound);

/* ||x||^2 over the 2 n_freq rotated dims, summed in dim order (the norm
 * ss_cs_ratio forms). */
double ss_inp_sqnorm(const float *x, int n_freq);

/* ss_cs_ratio of query i against keys j = i - d for d = d0..d0+n_delta-1
 * while j >= j0, into ratio / logit / bound [d - d0] (the same values, bit
 * for bit), with q_i converted and its norm taken once and the keys'
 * squared norms from k_sqnorm [j] (ss_inp_sqnorm of key j's row, i < t->n):
 * freq's loop over every (i, i - d). Returns how many offsets were filled. */
int ss_cs_row(const ss_inp_table *t, const float *q_i, const float *k, int64_t ldk,
              const double *k_sqnorm, int i, int j0, int d0, int n_delta, double scale,
              double *ratio, double *logit, double *bound);

#endif
