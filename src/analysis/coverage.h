/* Exact coverage of vertical-and-slash patterns (MInference's
 * "vertical_and_slash"): how much of a head's attention falls on its v
 * heaviest key columns and s heaviest diagonals.
 *
 * Per prompt of length N and head, as MInference picks its indices per
 * input: rank the key columns j by their mass sum_i S[i][j] and the
 * diagonals (offsets d = i - j >= 0) by sum_i S[i][i - d], heaviest first,
 * ties to the lower index; the pattern (v, s) is the union U of the top v
 * columns and the top s diagonals, and
 *   coverage_P(v, s) = (sum of S[i][j] over (i, j) in U) / N
 *   kept_P(v, s)     = |U| / (N (N + 1) / 2)      (the kept fraction)
 * each entry of U counted once. The head's values are the means over the
 * prompts. Every (v, s) of a grid is measured from the same two looks at a
 * prompt's attention:
 *   pass 1 (gather): the prompt's column and diagonal sums; then
 *     ss_coverage_select ranks them, which fixes every pattern of the grid;
 *   pass 2 (measure): the same attention again (a second forward pass of the
 *     same ids: the engine is bit-identical run to run); the entries lying
 *     in both a kept column and a kept diagonal are summed by grid bin, so
 *     mass(U) = mass(top v columns) + mass(top s diagonals) - mass(both),
 *     exactly, for every grid point at once. ss_coverage_end_prompt checks
 *     the second pass saw the same attention as the first (a fingerprint,
 *     sum over entries of (j + 1) S[i][j], equal to 1e-9 relative).
 * Pass 1 also feeds the column-mass accumulator (analysis/colmass.h).
 *
 * Memory: O(L H N) for the prompt under way, never O(N^2). Observer contract
 * as engine/observer.h: calls for different heads may run concurrently and
 * each writes only its own head's state. */
#ifndef SS_ANALYSIS_COVERAGE_H
#define SS_ANALYSIS_COVERAGE_H

#include <stdint.h>

#include <stddef.h>

#include "analysis/analysis.h"
#include "analysis/colmass.h"
#include "common/error.h"
#include "engine/observer.h"
#include "model/model.h"

#define SS_VS_GRID_MAX 64

/* The sizes measured: every (v[a], s[b]). Values ascending, distinct, in
 * [0, N]. */
typedef struct {
    int n_v, n_s;
    int v[SS_VS_GRID_MAX], s[SS_VS_GRID_MAX];
} ss_vs_grid;

/* The default grid for length n: v in {0, 1, 2, 4, ... < n}, s in {0, 1, 2,
 * 4, ... < n, n} (s = n keeps every entry; v = n would add nothing). */
void ss_vs_grid_default(int n, ss_vs_grid *g);
/* Checks a grid against n, naming the offending value. */
ss_code ss_vs_grid_check(const ss_vs_grid *g, int n, ss_error *err);

typedef struct {
    int n_layer, n_head, n;
    ss_vs_grid grid;
    int vmax, smax;           /* the largest v and s of the grid */
    int measuring;            /* 0: pass 1 under way, 1: pass 2 */
    int layers_done, bad_call;
    /* the prompt under way, per head x = layer * H + head */
    double *col;              /* [LH * n] column sums, pass 1 */
    double *rdiag;            /* [LH * n] diagonal sums, offset d at n - 1 - d */
    int *pick;                /* [LH * vmax] the top vmax columns, in index order */
    int16_t *pick_bin;        /* [LH * vmax] grid bin of each: smallest a with rank < v[a] */
    int16_t *diag_bin;        /* [LH * n] grid bin of offset d, -1 outside the top smax */
    double *col_top, *diag_top;   /* [LH * n_v], [LH * n_s] mass of the top v[a] / s[b] */
    int64_t *col_cnt, *diag_cnt;  /* entries in them */
    double *hist;             /* [LH * n_v * n_s] pass-2 mass in a kept column and a kept
                                 diagonal, by (column bin, diagonal bin) */
    int64_t *hist_cnt;
    double *total1, *total2;  /* [LH] the fingerprint in pass 1 and pass 2 */
    /* over prompts */
    double *cov_sum, *kept_sum;   /* [LH * n_v * n_s] per-prompt values summed */
    int64_t prompts;
    ss_colmass colmass;
} ss_coverage;

ss_code ss_coverage_init(ss_coverage *c, int n_layer, int n_head, int n, const ss_vs_grid *grid,
                         ss_error *err);
void ss_coverage_free(ss_coverage *c);

/* The observer to pass to ss_forward (ctx = c), for both passes. */
ss_observer ss_coverage_observer(ss_coverage *c);
/* Its callbacks, callable directly (tests feed reference arrays). */
ss_code ss_coverage_on_probs(void *ctx, int layer, int head, int row0, int nrows, const float *p,
                             int64_t ld);
ss_code ss_coverage_on_layer_done(void *ctx, int layer, ss_error *err);

/* After pass 1 of a prompt: ranks columns and diagonals, fixes the patterns
 * and switches to pass 2. */
ss_code ss_coverage_select(ss_coverage *c, ss_error *err);
/* After pass 2: coverage and kept fraction of every grid point added to the
 * sums; the prompt is counted and the next one starts at pass 1. */
ss_code ss_coverage_end_prompt(ss_coverage *c, ss_error *err);

/* Means over the prompts at grid point (a, b) (NaN before any prompt). */
double ss_coverage_mean(const ss_coverage *c, int layer, int head, int a, int b);
double ss_coverage_kept_mean(const ss_coverage *c, int layer, int head, int a, int b);

/* into += from (sums, counts, column mass): the same dimensions and grid,
 * both between prompts. Disjoint prompt sets merge exactly. */
ss_code ss_coverage_merge(ss_coverage *into, const ss_coverage *from, ss_error *err);

/* What a finished run hands on: plain arrays, owned. */
typedef struct {
    int n_layer, n_head, n;
    ss_vs_grid grid;
    int64_t prompts;
    double *coverage;    /* [L, H, n_v, n_s] means over the prompts */
    double *kept;        /* [L, H, n_v, n_s] mean kept fractions */
    double *coverage_sum, *kept_sum; /* the per-prompt values summed: runs over disjoint
                                        prompt sets merge by adding these and prompts */
    double *colmass_sum; /* [L, H, N] column mass sums (colmass.h) */
    int64_t *colmass_count;
} ss_coverage_result;

ss_code ss_coverage_collect(const ss_coverage *c, ss_coverage_result *r, ss_error *err);
void ss_coverage_result_free(ss_coverage_result *r);
/* Index of (layer, head, a, b) in coverage / kept. */
static inline size_t ss_coverage_at(const ss_coverage_result *r, int layer, int head, int a,
                                    int b)
{
    return (((size_t)layer * r->n_head + head) * r->grid.n_v + a) * r->grid.n_s + b;
}

/* The coverage as an analysis (analysis/analysis.h): the driver's forward
 * pass is pass 1 of each prompt; end_prompt runs pass 2 itself, a second
 * ss_forward of the same ids with these settings, which must be the
 * driver's (rope, allow_long, block_rows), or the fingerprint check fails.
 * finish fills an ss_coverage_result; merge adds. */
typedef struct {
    const ss_model *model;
    const ss_rope *rope;  /* NULL: the model's own */
    int allow_long, block_rows;
} ss_coverage_pass2;

ss_code ss_coverage_analysis_new(ss_analysis *an, int n_layer, int n_head, int n,
                                 const ss_vs_grid *grid, const ss_coverage_pass2 *pass2,
                                 ss_error *err);
ss_coverage *ss_coverage_analysis_acc(const ss_analysis *an);

#endif
