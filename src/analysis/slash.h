/* Average slash score (SPEC.md section 2) accumulated on the fly from blocks
 * of attention probabilities, never from a whole map.
 *
 * For one prompt of length N and one head, with skip k:
 *   score_P(d) = mean of S[i][i-d] over i in [d + k, N - 1]
 * and over prompts the average of score_P(d) over the prompts that have at
 * least one valid pair at d. We keep the per-prompt means summed
 * (score_sum) and the number of prompts counted (count), so disjoint
 * prompt sets merge exactly by adding. */
#ifndef SS_ANALYSIS_SLASH_H
#define SS_ANALYSIS_SLASH_H

#include <stdint.h>

/* Adds rows [row0, row0 + nrows) of a causal probability block to the
 * per-diagonal sums of one prompt: diag_sum[d] += P[i][i - d] for every
 * valid pair (i - d >= skip). Row r of the block starts at p + r * ld and
 * holds keys 0..row0 + r. */
void ss_slash_add_rows(double *diag_sum, const float *p, int64_t ld, int row0, int nrows,
                       int skip);

/* The same into reversed sums: rdiag[n - 1 - d] += P[i][i - d], n the
 * prompt length. Each row then adds to a contiguous run in key order, which
 * vectorises; every sum sees the same additions in the same order as
 * ss_slash_add_rows, so the two agree bit for bit. */
void ss_slash_add_rows_rev(double *rdiag, int n, const float *p, int64_t ld, int row0, int nrows,
                           int skip);

/* Reverses a[0..n-1] in place: reversed sums back to diag_sum order. */
void ss_slash_reverse(double *a, int n);

/* Number of valid rows at offset d for a prompt of length n: n - d - skip,
 * or 0. */
int ss_slash_rows_at(int n, int d, int skip);

/* Ends a prompt: with s = diag_sum[d] / rows_at(d), score_sum[d] += s,
 * score_sumsq[d] += s^2 (unless score_sumsq is NULL) and count[d] += 1
 * (unless count is NULL) for every d in 0..n-1 with rows_at(d) > 0.
 * diag_sum is left unchanged. */
void ss_slash_finish_prompt(const double *diag_sum, int n, int skip, double *score_sum,
                            double *score_sumsq, int64_t *count);

/* Average slash score from sums and counts (NaN where count is 0). */
void ss_slash_average(const double *score_sum, const int64_t *count, int64_t n, double *out);

/* Spread over prompts (SPEC.md section 2), from sums, sums of squares and
 * counts c: sd[i] = sqrt((sumsq - sum^2 / c) / (c - 1)), the sample standard
 * deviation (0 when rounding makes the numerator negative), and half[i] =
 * t_{0.975, c - 1} sd / sqrt(c), the half-width of the 95% Student-t
 * interval around the mean; both NaN where c < 2. half may be NULL. */
void ss_slash_spread(const double *score_sum, const double *score_sumsq, const int64_t *count,
                     int64_t n, double *sd, double *half);

#endif
