#include "analysis/scan_acc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/slash.h"
#include "common/mem.h"

void ss_scan_map_edges(int n, int map_size, int *bins, int *edge)
{
    int b = map_size < n ? map_size : n;
    *bins = b;
    for (int k = 0; k <= b; k++)
        edge[k] = (int)((int64_t)k * n / b);
}

ss_code ss_scan_acc_init(ss_scan_acc *a, int n_layer, int n_head, int n, int skip,
                         int map_size, const unsigned char *map_heads, ss_error *err)
{
    memset(a, 0, sizeof *a);
    if (n_layer < 1 || n_head < 1 || n < 1 || skip < 0)
        return ss_fail(err, SS_ERR_USAGE, "scan accumulator: bad dimensions L=%d H=%d n=%d skip=%d",
                       n_layer, n_head, n, skip);
    a->n_layer = n_layer;
    a->n_head = n_head;
    a->n = n;
    a->skip = skip;
    size_t lh = (size_t)n_layer * (size_t)n_head;
    a->map_slot = ss_calloc(lh, sizeof *a->map_slot, "scan map slots", err);
    a->rdiag = ss_aligned_calloc((size_t)n_head * (size_t)n, sizeof *a->rdiag,
                                 "scan diagonal sums", err);
    a->tmp = ss_calloc((size_t)n, sizeof *a->tmp, "scan buffer", err);
    a->slash_sum = ss_calloc(lh * (size_t)n, sizeof *a->slash_sum, "slash sums", err);
    a->slash_sumsq = ss_calloc(lh * (size_t)n, sizeof *a->slash_sumsq, "slash sums of squares",
                               err);
    a->slash_count = ss_calloc(lh * (size_t)n, sizeof *a->slash_count, "slash counts", err);
    if (!a->map_slot || !a->rdiag || !a->tmp || !a->slash_sum || !a->slash_sumsq ||
        !a->slash_count) {
        ss_scan_acc_free(a);
        return SS_ERR_NOMEM;
    }
    for (size_t x = 0; x < lh; x++) {
        a->map_slot[x] = -1;
        if (map_heads && map_heads[x])
            a->map_slot[x] = a->n_maps++;
    }
    if (a->n_maps == 0)
        return SS_OK;
    if (map_size < 1) {
        ss_scan_acc_free(a);
        return ss_fail(err, SS_ERR_USAGE, "map size must be at least 1, got %d", map_size);
    }
    int room = map_size < n ? map_size : n;
    a->edge = ss_calloc((size_t)room + 1, sizeof *a->edge, "map bins", err);
    a->bin_of = ss_calloc((size_t)n, sizeof *a->bin_of, "map bins", err);
    if (!a->edge || !a->bin_of) {
        ss_scan_acc_free(a);
        return SS_ERR_NOMEM;
    }
    a->map_size = map_size;
    ss_scan_map_edges(n, map_size, &a->bins, a->edge);
    for (int b = 0; b < a->bins; b++)
        for (int i = a->edge[b]; i < a->edge[b + 1]; i++)
            a->bin_of[i] = b;
    a->map_sum = ss_calloc((size_t)a->n_maps * (size_t)a->bins * (size_t)a->bins,
                           sizeof *a->map_sum, "attention maps", err);
    if (!a->map_sum) {
        ss_scan_acc_free(a);
        return SS_ERR_NOMEM;
    }
    return SS_OK;
}

void ss_scan_acc_free(ss_scan_acc *a)
{
    free(a->edge);
    free(a->bin_of);
    free(a->map_slot);
    free(a->rdiag);
    free(a->tmp);
    free(a->slash_sum);
    free(a->slash_sumsq);
    free(a->slash_count);
    free(a->map_sum);
    memset(a, 0, sizeof *a);
}

/* Row i of one head into its pooled map: one contiguous sum per key bin. */
static void map_row(const ss_scan_acc *a, double *map, int i, const float *row)
{
    double *out = map + (size_t)a->bin_of[i] * (size_t)a->bins;
    for (int b = 0; b < a->bins && a->edge[b] <= i; b++) {
        int lo = a->edge[b], hi = a->edge[b + 1] - 1;
        if (hi > i)
            hi = i;
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int j = lo; j <= hi; j++)
            s += (double)row[j];
        out[b] += s;
    }
}

ss_code ss_scan_acc_on_probs(void *ctx, int layer, int head, int row0, int nrows, const float *p,
                             int64_t ld)
{
    ss_scan_acc *a = ctx;
    if (layer < 0 || layer >= a->n_layer || head < 0 || head >= a->n_head || row0 < 0 ||
        nrows < 0 || row0 + nrows > a->n) {
        /* reported by end_prompt; other heads' threads may store it too */
        __atomic_store_n(&a->bad_call, 1, __ATOMIC_RELAXED);
        return SS_OK;
    }
    double *rdiag = a->rdiag + (size_t)head * (size_t)a->n;
    int slot = a->map_slot[(size_t)layer * a->n_head + head];
    double *map = slot < 0 ? NULL : a->map_sum + (size_t)slot * a->bins * a->bins;
    ss_slash_add_rows_rev(rdiag, a->n, p, ld, row0, nrows, a->skip);
    for (int r = 0; map && r < nrows; r++)
        map_row(a, map, row0 + r, p + (int64_t)r * ld);
    return SS_OK;
}

ss_code ss_scan_acc_on_layer_done(void *ctx, int layer, ss_error *err)
{
    ss_scan_acc *a = ctx;
    if (layer < 0 || layer >= a->n_layer) {
        a->bad_call = 1;
        return ss_fail(err, SS_ERR_USAGE, "scan accumulator: layer %d outside 0..%d", layer,
                       a->n_layer - 1);
    }
    int n = a->n;
    for (int h = 0; h < a->n_head; h++) {
        double *rdiag = a->rdiag + (size_t)h * n;
        for (int d = 0; d < n; d++)
            a->tmp[d] = rdiag[n - 1 - d];
        size_t at = ((size_t)layer * a->n_head + h) * (size_t)n;
        ss_slash_finish_prompt(a->tmp, n, a->skip, a->slash_sum + at, a->slash_sumsq + at,
                               a->slash_count + at);
        memset(rdiag, 0, (size_t)n * sizeof *rdiag);
    }
    a->layers_done++;
    return SS_OK;
}

ss_code ss_scan_acc_end_prompt(ss_scan_acc *a, ss_error *err)
{
    int done = a->layers_done, bad = a->bad_call;
    a->layers_done = 0;
    a->bad_call = 0;
    if (bad)
        return ss_fail(err, SS_ERR_USAGE,
                       "scan accumulator: attention block outside the %d x %d heads or %d rows",
                       a->n_layer, a->n_head, a->n);
    if (done != a->n_layer)
        return ss_fail(err, SS_ERR_USAGE, "scan accumulator: prompt ended after %d of %d layers",
                       done, a->n_layer);
    a->prompts++;
    return SS_OK;
}

void ss_scan_acc_map_mean(const ss_scan_acc *a, int slot, double *out)
{
    const double *m = a->map_sum + (size_t)slot * a->bins * a->bins;
    for (int r = 0; r < a->bins; r++)
        for (int c = 0; c < a->bins; c++) {
            double area = (double)(a->edge[r + 1] - a->edge[r]) *
                          (double)(a->edge[c + 1] - a->edge[c]);
            out[(size_t)r * a->bins + c] =
                a->prompts > 0 ? m[(size_t)r * a->bins + c] / (area * (double)a->prompts) : NAN;
        }
}

ss_code ss_scan_acc_merge(ss_scan_acc *a, const ss_scan_acc *b, ss_error *err)
{
    if (a->n_layer != b->n_layer || a->n_head != b->n_head || a->n != b->n || a->skip != b->skip)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "scan merge: %d x %d heads, length %d, skip %d "
                       "against %d x %d, %d, %d", a->n_layer, a->n_head, a->n, a->skip,
                       b->n_layer, b->n_head, b->n, b->skip);
    size_t lh = (size_t)a->n_layer * a->n_head, cells = lh * a->n;
    int same_maps = a->n_maps == b->n_maps && a->bins == b->bins;
    for (size_t x = 0; x < lh && same_maps; x++)
        same_maps = a->map_slot[x] == b->map_slot[x];
    if (!same_maps)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "scan merge: the two scans keep maps of "
                       "different heads or sizes");
    for (size_t x = 0; x < cells; x++) {
        a->slash_sum[x] += b->slash_sum[x];
        a->slash_sumsq[x] += b->slash_sumsq[x];
        a->slash_count[x] += b->slash_count[x];
    }
    size_t m = (size_t)a->n_maps * a->bins * a->bins;
    for (size_t x = 0; x < m; x++)
        a->map_sum[x] += b->map_sum[x];
    a->prompts += b->prompts;
    return SS_OK;
}
