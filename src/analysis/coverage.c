#include "analysis/coverage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

void ss_vs_grid_default(int n, ss_vs_grid *g)
{
    memset(g, 0, sizeof *g);
    g->v[g->n_v++] = 0;
    g->s[g->n_s++] = 0;
    for (int p = 1; p < n && g->n_v < SS_VS_GRID_MAX - 1; p *= 2) {
        g->v[g->n_v++] = p;
        g->s[g->n_s++] = p;
    }
    g->s[g->n_s++] = n;
}

static ss_code check_list(const int *x, int count, int n, const char *name, ss_error *err)
{
    if (count < 1 || count > SS_VS_GRID_MAX)
        return ss_fail(err, SS_ERR_USAGE, "%s: expected 1 to %d sizes, got %d", name,
                       SS_VS_GRID_MAX, count);
    for (int k = 0; k < count; k++) {
        if (x[k] < 0 || x[k] > n)
            return ss_fail(err, SS_ERR_USAGE, "%s: size %d is outside [0, %d] (the prompt length)",
                           name, x[k], n);
        if (k > 0 && x[k] <= x[k - 1])
            return ss_fail(err, SS_ERR_USAGE, "%s: sizes must be ascending and distinct, got %d "
                           "after %d", name, x[k], x[k - 1]);
    }
    return SS_OK;
}

ss_code ss_vs_grid_check(const ss_vs_grid *g, int n, ss_error *err)
{
    ss_code rc = check_list(g->v, g->n_v, n, "vertical sizes", err);
    return rc ? rc : check_list(g->s, g->n_s, n, "slash sizes", err);
}

ss_code ss_coverage_init(ss_coverage *c, int n_layer, int n_head, int n, const ss_vs_grid *grid,
                         ss_error *err)
{
    memset(c, 0, sizeof *c);
    if (n_layer < 1 || n_head < 1 || n < 1)
        return ss_fail(err, SS_ERR_USAGE, "coverage: bad dimensions L=%d H=%d n=%d", n_layer,
                       n_head, n);
    ss_code rc = ss_vs_grid_check(grid, n, err);
    if (rc)
        return rc;
    c->n_layer = n_layer;
    c->n_head = n_head;
    c->n = n;
    c->grid = *grid;
    c->vmax = grid->v[grid->n_v - 1];
    c->smax = grid->s[grid->n_s - 1];
    size_t lh = (size_t)n_layer * n_head, N = (size_t)n;
    size_t G = (size_t)grid->n_v * grid->n_s;
    size_t vm = c->vmax > 0 ? (size_t)c->vmax : 1;
    c->col = ss_aligned_calloc(lh * N, sizeof *c->col, "coverage column sums", err);
    c->rdiag = ss_aligned_calloc(lh * N, sizeof *c->rdiag, "coverage diagonal sums", err);
    c->pick = ss_calloc(lh * vm, sizeof *c->pick, "coverage columns", err);
    c->pick_bin = ss_calloc(lh * vm, sizeof *c->pick_bin, "coverage columns", err);
    c->diag_bin = ss_calloc(lh * N, sizeof *c->diag_bin, "coverage diagonals", err);
    c->col_top = ss_calloc(lh * grid->n_v, sizeof *c->col_top, "coverage sums", err);
    c->diag_top = ss_calloc(lh * grid->n_s, sizeof *c->diag_top, "coverage sums", err);
    c->col_cnt = ss_calloc(lh * grid->n_v, sizeof *c->col_cnt, "coverage counts", err);
    c->diag_cnt = ss_calloc(lh * grid->n_s, sizeof *c->diag_cnt, "coverage counts", err);
    c->hist = ss_calloc(lh * G, sizeof *c->hist, "coverage overlaps", err);
    c->hist_cnt = ss_calloc(lh * G, sizeof *c->hist_cnt, "coverage overlaps", err);
    c->total1 = ss_calloc(lh, sizeof *c->total1, "coverage totals", err);
    c->total2 = ss_calloc(lh, sizeof *c->total2, "coverage totals", err);
    c->cov_sum = ss_calloc(lh * G, sizeof *c->cov_sum, "coverage results", err);
    c->kept_sum = ss_calloc(lh * G, sizeof *c->kept_sum, "coverage results", err);
    if (!c->col || !c->rdiag || !c->pick || !c->pick_bin || !c->diag_bin || !c->col_top ||
        !c->diag_top || !c->col_cnt || !c->diag_cnt || !c->hist || !c->hist_cnt || !c->total1 ||
        !c->total2 || !c->cov_sum || !c->kept_sum ||
        ss_colmass_init(&c->colmass, n_layer, n_head, n, err)) {
        ss_coverage_free(c);
        return err->code ? err->code : SS_ERR_NOMEM;
    }
    return SS_OK;
}

void ss_coverage_free(ss_coverage *c)
{
    free(c->col); free(c->rdiag); free(c->pick); free(c->pick_bin); free(c->diag_bin);
    free(c->col_top); free(c->diag_top); free(c->col_cnt); free(c->diag_cnt);
    free(c->hist); free(c->hist_cnt); free(c->total1); free(c->total2);
    free(c->cov_sum); free(c->kept_sum);
    ss_colmass_free(&c->colmass);
    memset(c, 0, sizeof *c);
}

/* Pass 1, one row: column sums and (reversed) diagonal sums advance
 * together over j, a contiguous walk the compiler vectorises. */
static void gather_row(double *restrict col, double *restrict rdiag_row, const float *restrict p,
                       int i)
{
#pragma omp simd
    for (int j = 0; j <= i; j++) {
        col[j] += (double)p[j];
        rdiag_row[j] += (double)p[j];
    }
}

/* Pass 2, one row i: every entry in a kept column and a kept diagonal into
 * its (column bin, diagonal bin) cell; returns the row's fingerprint
 * sum_j (j + 1) P[i][j] (see total1). */
static double measure_row(const ss_coverage *c, size_t x, int i, const float *p, double *hist,
                          int64_t *hist_cnt)
{
    const int *pick = c->pick + x * (size_t)c->vmax;
    const int16_t *pbin = c->pick_bin + x * (size_t)c->vmax;
    const int16_t *dbin = c->diag_bin + x * (size_t)c->n;
    int ns = c->grid.n_s;
    for (int k = 0; k < c->vmax && pick[k] <= i; k++) {
        int j = pick[k], sb = dbin[i - j];
        if (sb >= 0) {
            hist[pbin[k] * ns + sb] += (double)p[j];
            hist_cnt[pbin[k] * ns + sb]++;
        }
    }
    double total = 0;
#pragma omp simd reduction(+ : total)
    for (int j = 0; j <= i; j++)
        total += (double)(j + 1) * (double)p[j];
    return total;
}

ss_code ss_coverage_on_probs(void *ctx, int layer, int head, int row0, int nrows, const float *p,
                             int64_t ld)
{
    ss_coverage *c = ctx;
    if (layer < 0 || layer >= c->n_layer || head < 0 || head >= c->n_head || row0 < 0 ||
        nrows < 0 || row0 + nrows > c->n) {
        /* reported by select / end_prompt; other heads' threads may store it too */
        __atomic_store_n(&c->bad_call, 1, __ATOMIC_RELAXED);
        return SS_ERR_USAGE;
    }
    size_t x = (size_t)layer * c->n_head + head, N = (size_t)c->n;
    size_t G = (size_t)c->grid.n_v * c->grid.n_s;
    for (int r = 0; r < nrows; r++) {
        int i = row0 + r;
        const float *row = p + (int64_t)r * ld;
        if (!c->measuring)
            gather_row(c->col + x * N, c->rdiag + x * N + (N - 1 - (size_t)i), row, i);
        else
            c->total2[x] += measure_row(c, x, i, row, c->hist + x * G, c->hist_cnt + x * G);
    }
    return SS_OK;
}

ss_code ss_coverage_on_layer_done(void *ctx, int layer, ss_error *err)
{
    ss_coverage *c = ctx;
    if (layer < 0 || layer >= c->n_layer) {
        c->bad_call = 1;
        return ss_fail(err, SS_ERR_USAGE, "coverage: layer %d of a %d-layer model", layer,
                       c->n_layer);
    }
    c->layers_done++;
    return SS_OK;
}

ss_observer ss_coverage_observer(ss_coverage *c)
{
    ss_observer o = {c, NULL, ss_coverage_on_probs, ss_coverage_on_layer_done};
    return o;
}

static ss_code check_pass(ss_coverage *c, int pass, ss_error *err)
{
    int done = c->layers_done, bad = c->bad_call;
    c->layers_done = 0;
    c->bad_call = 0;
    if (bad)
        return ss_fail(err, SS_ERR_USAGE,
                       "coverage: attention block outside the %d x %d heads or %d rows",
                       c->n_layer, c->n_head, c->n);
    if (c->measuring != pass - 1)
        return ss_fail(err, SS_ERR_USAGE, "coverage: pass %d ended while pass %d was under way",
                       pass, c->measuring + 1);
    if (done != c->n_layer)
        return ss_fail(err, SS_ERR_USAGE, "coverage: pass %d ended after %d of %d layers", pass,
                       done, c->n_layer);
    return SS_OK;
}

typedef struct {
    double mass;
    int idx;
} ranked;

/* Heaviest first; equal masses: the lower index first. */
static int by_mass(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->mass != b->mass)
        return a->mass > b->mass ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static int by_index(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* The grid bin of rank r: the smallest a with r < sizes[a] (-1: none). */
static int bin_of(const int *sizes, int count, int r)
{
    for (int a = 0; a < count; a++)
        if (r < sizes[a])
            return a;
    return -1;
}

/* top[a] = mass of the sizes[a] heaviest, cnt[a] = their entries (an index
 * t, column or offset, holds n - t entries). */
static void prefix_tops(const ranked *r, int n, const int *sizes, int count, double *top,
                        int64_t *cnt)
{
    double m = 0;
    int64_t e = 0;
    int k = 0;
    for (int a = 0; a < count; a++) {
        for (; k < sizes[a]; k++) {
            m += r[k].mass;
            e += n - r[k].idx;
        }
        top[a] = m;
        cnt[a] = e;
    }
}

static void select_head(ss_coverage *c, size_t x, ranked *rc, ranked *rd)
{
    int n = c->n;
    const ss_vs_grid *g = &c->grid;
    const double *col = c->col + x * (size_t)n, *rdiag = c->rdiag + x * (size_t)n;
    double total = 0;
    for (int j = 0; j < n; j++) {
        rc[j] = (ranked){col[j], j};
        rd[j] = (ranked){rdiag[n - 1 - j], j};
        total += (double)(j + 1) * col[j];
    }
    c->total1[x] = total;
    qsort(rc, (size_t)n, sizeof *rc, by_mass);
    qsort(rd, (size_t)n, sizeof *rd, by_mass);
    prefix_tops(rc, n, g->v, g->n_v, c->col_top + x * g->n_v, c->col_cnt + x * g->n_v);
    prefix_tops(rd, n, g->s, g->n_s, c->diag_top + x * g->n_s, c->diag_cnt + x * g->n_s);
    int16_t *dbin = c->diag_bin + x * (size_t)n;
    for (int d = 0; d < n; d++)
        dbin[d] = -1;
    for (int r = 0; r < c->smax; r++)
        dbin[rd[r].idx] = (int16_t)bin_of(g->s, g->n_s, r);
    /* the kept columns in index order, so pass 2 walks a row left to right
     * and stops at the diagonal; rc[r].mass is reused to carry the bin */
    for (int r = 0; r < c->vmax; r++)
        rc[r].mass = bin_of(g->v, g->n_v, r);
    qsort(rc, (size_t)c->vmax, sizeof *rc, by_index);
    for (int k = 0; k < c->vmax; k++) {
        c->pick[x * (size_t)c->vmax + k] = rc[k].idx;
        c->pick_bin[x * (size_t)c->vmax + k] = (int16_t)rc[k].mass;
    }
}

ss_code ss_coverage_select(ss_coverage *c, ss_error *err)
{
    ss_code rc = check_pass(c, 1, err);
    if (rc)
        return rc;
    ranked *rcol = ss_calloc((size_t)c->n * 2, sizeof *rcol, "coverage ranking", err);
    if (!rcol)
        return SS_ERR_NOMEM;
    for (int l = 0; l < c->n_layer; l++)
        for (int h = 0; h < c->n_head; h++) {
            size_t x = (size_t)l * c->n_head + h;
            select_head(c, x, rcol, rcol + c->n);
            ss_colmass_add_prompt(&c->colmass, l, h, c->col + x * (size_t)c->n);
        }
    free(rcol);
    c->measuring = 1;
    return SS_OK;
}

/* One head's coverage and kept fraction at every grid point of this prompt
 * into the sums. The mass in both a kept column and a kept diagonal at
 * (a, b) is the sum of the bins (a' <= a, b' <= b), accumulated without
 * subtraction: row by row, then down the columns. */
static void finish_head(ss_coverage *c, size_t x, double *both, int64_t *both_cnt)
{
    int nv = c->grid.n_v, ns = c->grid.n_s;
    size_t G = (size_t)nv * ns;
    const double *hist = c->hist + x * G;
    const int64_t *hcnt = c->hist_cnt + x * G;
    for (int a = 0; a < nv; a++) {
        double m = 0;
        int64_t e = 0;
        for (int b = 0; b < ns; b++) {
            m += hist[a * ns + b];
            e += hcnt[a * ns + b];
            both[a * ns + b] = m + (a > 0 ? both[(a - 1) * ns + b] : 0);
            both_cnt[a * ns + b] = e + (a > 0 ? both_cnt[(a - 1) * ns + b] : 0);
        }
    }
    double n = c->n, causal = n * (n + 1) / 2;
    for (int a = 0; a < nv; a++)
        for (int b = 0; b < ns; b++) {
            size_t g = (size_t)a * ns + b;
            double mass = c->col_top[x * nv + a] + c->diag_top[x * ns + b] - both[g];
            int64_t kept = c->col_cnt[x * nv + a] + c->diag_cnt[x * ns + b] - both_cnt[g];
            c->cov_sum[x * G + g] += mass / n;
            c->kept_sum[x * G + g] += (double)kept / causal;
        }
}

ss_code ss_coverage_end_prompt(ss_coverage *c, ss_error *err)
{
    ss_code rc = check_pass(c, 2, err);
    if (rc)
        return rc;
    size_t lh = (size_t)c->n_layer * c->n_head, G = (size_t)c->grid.n_v * c->grid.n_s;
    /* both passes must have seen the same attention, or the patterns chosen
     * in pass 1 were measured on other numbers: compare a fingerprint that
     * moves with any change of where the mass sits (the whole mass would
     * not: every row sums to 1) */
    for (size_t x = 0; x < lh; x++)
        if (!(fabs(c->total1[x] - c->total2[x]) <= 1e-9 * fabs(c->total1[x])))
            return ss_fail(err, SS_ERR_VALUE, "coverage: L%zuH%zu's attention differed between "
                           "the two passes over the prompt (fingerprint %.17g, then %.17g): the "
                           "forward pass is not deterministic here", x / c->n_head, x % c->n_head,
                           c->total1[x], c->total2[x]);
    double *both = ss_calloc(G, sizeof *both, "coverage overlaps", err);
    int64_t *both_cnt = ss_calloc(G, sizeof *both_cnt, "coverage overlaps", err);
    if (!both || !both_cnt) {
        free(both);
        free(both_cnt);
        return SS_ERR_NOMEM;
    }
    for (size_t x = 0; x < lh; x++)
        finish_head(c, x, both, both_cnt);
    free(both);
    free(both_cnt);
    size_t N = (size_t)c->n;
    memset(c->col, 0, lh * N * sizeof *c->col);
    memset(c->rdiag, 0, lh * N * sizeof *c->rdiag);
    memset(c->hist, 0, lh * G * sizeof *c->hist);
    memset(c->hist_cnt, 0, lh * G * sizeof *c->hist_cnt);
    memset(c->total2, 0, lh * sizeof *c->total2);
    c->measuring = 0;
    c->prompts++;
    return SS_OK;
}

static double mean_at(const ss_coverage *c, const double *sum, int layer, int head, int a, int b)
{
    if (c->prompts == 0)
        return NAN;
    size_t G = (size_t)c->grid.n_v * c->grid.n_s;
    size_t x = (size_t)layer * c->n_head + head;
    return sum[x * G + (size_t)a * c->grid.n_s + b] / (double)c->prompts;
}

double ss_coverage_mean(const ss_coverage *c, int layer, int head, int a, int b)
{
    return mean_at(c, c->cov_sum, layer, head, a, b);
}

double ss_coverage_kept_mean(const ss_coverage *c, int layer, int head, int a, int b)
{
    return mean_at(c, c->kept_sum, layer, head, a, b);
}

ss_code ss_coverage_merge(ss_coverage *into, const ss_coverage *from, ss_error *err)
{
    if (into->n_layer != from->n_layer || into->n_head != from->n_head || into->n != from->n ||
        memcmp(&into->grid, &from->grid, sizeof into->grid) != 0)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "coverage: cannot merge %d x %d heads at N = %d "
                       "into %d x %d at N = %d, or their (v, s) grids differ", from->n_layer,
                       from->n_head, from->n, into->n_layer, into->n_head, into->n);
    if (into->measuring || from->measuring)
        return ss_fail(err, SS_ERR_USAGE, "coverage: merge between prompts only");
    size_t cells = (size_t)into->n_layer * into->n_head * into->grid.n_v * into->grid.n_s;
    for (size_t x = 0; x < cells; x++) {
        into->cov_sum[x] += from->cov_sum[x];
        into->kept_sum[x] += from->kept_sum[x];
    }
    into->prompts += from->prompts;
    return ss_colmass_merge(&into->colmass, &from->colmass, err);
}

ss_code ss_coverage_collect(const ss_coverage *c, ss_coverage_result *r, ss_error *err)
{
    memset(r, 0, sizeof *r);
    size_t G = (size_t)c->n_layer * c->n_head * c->grid.n_v * c->grid.n_s;
    size_t C = (size_t)c->n_layer * c->n_head * c->n;
    r->coverage = ss_calloc(G, sizeof *r->coverage, "coverage result", err);
    r->kept = ss_calloc(G, sizeof *r->kept, "coverage result", err);
    r->coverage_sum = ss_calloc(G, sizeof *r->coverage_sum, "coverage result", err);
    r->kept_sum = ss_calloc(G, sizeof *r->kept_sum, "coverage result", err);
    r->colmass_sum = ss_calloc(C, sizeof *r->colmass_sum, "column mass result", err);
    r->colmass_count = ss_calloc(C, sizeof *r->colmass_count, "column mass result", err);
    if (!r->coverage || !r->kept || !r->coverage_sum || !r->kept_sum || !r->colmass_sum ||
        !r->colmass_count) {
        ss_coverage_result_free(r);
        return SS_ERR_NOMEM;
    }
    r->n_layer = c->n_layer;
    r->n_head = c->n_head;
    r->n = c->n;
    r->grid = c->grid;
    r->prompts = c->prompts;
    for (size_t x = 0; x < G; x++) {
        r->coverage[x] = c->prompts ? c->cov_sum[x] / (double)c->prompts : NAN;
        r->kept[x] = c->prompts ? c->kept_sum[x] / (double)c->prompts : NAN;
    }
    memcpy(r->coverage_sum, c->cov_sum, G * sizeof *r->coverage_sum);
    memcpy(r->kept_sum, c->kept_sum, G * sizeof *r->kept_sum);
    memcpy(r->colmass_sum, c->colmass.sum, C * sizeof *r->colmass_sum);
    memcpy(r->colmass_count, c->colmass.count, C * sizeof *r->colmass_count);
    return SS_OK;
}

void ss_coverage_result_free(ss_coverage_result *r)
{
    free(r->coverage);
    free(r->kept);
    free(r->coverage_sum);
    free(r->kept_sum);
    free(r->colmass_sum);
    free(r->colmass_count);
    memset(r, 0, sizeof *r);
}
