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

/* Number of valid rows at offset d for a prompt of length n: n - d - skip,
 * or 0. */
int ss_slash_rows_at(int n, int d, int skip);

/* Ends a prompt: score_sum[d] += diag_sum[d] / rows_at(d), count[d] += 1 for
 * every d in 0..n-1 with rows_at(d) > 0. diag_sum is left unchanged. */
void ss_slash_finish_prompt(const double *diag_sum, int n, int skip, double *score_sum,
                            int64_t *count);

/* Average slash score from sums and counts (NaN where count is 0). */
void ss_slash_average(const double *score_sum, const int64_t *count, int64_t n, double *out);

#endif
