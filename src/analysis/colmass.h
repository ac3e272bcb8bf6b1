/* Column mass: how much attention each key position receives, the vertical
 * lines of a sparse-attention pattern (MInference's "vertical"), next to the
 * diagonals the slash score measures (analysis/slash.h).
 *
 * For one prompt of length N and one head:
 *   colmass_P(j) = mean of S[i][j] over i in [j, N - 1]   (N - j rows)
 * No skip: the first key positions (attention sinks) are exactly the columns
 * a vertical pattern keeps. Over prompts, the per-prompt means are summed
 * (sum) with the number of prompts counted at each j (count), stored
 * [L, H, N] like the slash sums, so disjoint prompt sets merge exactly by
 * adding (ss_colmass_merge). */
#ifndef SS_ANALYSIS_COLMASS_H
#define SS_ANALYSIS_COLMASS_H

#include <stdint.h>

#include "common/error.h"

typedef struct {
    int n_layer, n_head, n;
    double *sum;     /* [L * H * N] per-prompt means, summed */
    int64_t *count;  /* [L * H * N] prompts counted */
} ss_colmass;

ss_code ss_colmass_init(ss_colmass *c, int n_layer, int n_head, int n, ss_error *err);
void ss_colmass_free(ss_colmass *c);

/* col[j] += P[i][j] for the rows [row0, row0 + nrows) of a causal block,
 * j = 0..i (row r at p + r * ld): one prompt's raw column sums. */
void ss_colmass_add_rows(double *col, const float *p, int64_t ld, int row0, int nrows);

/* Folds one prompt's raw column sums of head (layer, head) into the sums:
 * sum[j] += col[j] / (N - j), count[j] += 1. */
void ss_colmass_add_prompt(ss_colmass *c, int layer, int head, const double *col);

/* into += from; both of the same L x H x N. */
ss_code ss_colmass_merge(ss_colmass *into, const ss_colmass *from, ss_error *err);

/* Mean column mass [L * H * N] (NaN where no prompt was counted). */
void ss_colmass_mean(const ss_colmass *c, double *out);

#endif
