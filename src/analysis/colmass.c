#include "analysis/colmass.h"

#include <stdlib.h>
#include <string.h>

#include "analysis/slash.h"
#include "common/mem.h"

ss_code ss_colmass_init(ss_colmass *c, int n_layer, int n_head, int n, ss_error *err)
{
    memset(c, 0, sizeof *c);
    if (n_layer < 1 || n_head < 1 || n < 1)
        return ss_fail(err, SS_ERR_USAGE, "column mass: bad dimensions L=%d H=%d n=%d", n_layer,
                       n_head, n);
    size_t total = (size_t)n_layer * (size_t)n_head * (size_t)n;
    c->n_layer = n_layer;
    c->n_head = n_head;
    c->n = n;
    c->sum = ss_calloc(total, sizeof *c->sum, "column mass sums", err);
    c->count = ss_calloc(total, sizeof *c->count, "column mass counts", err);
    if (!c->sum || !c->count) {
        ss_colmass_free(c);
        return SS_ERR_NOMEM;
    }
    return SS_OK;
}

void ss_colmass_free(ss_colmass *c)
{
    free(c->sum);
    free(c->count);
    memset(c, 0, sizeof *c);
}

void ss_colmass_add_rows(double *col, const float *p, int64_t ld, int row0, int nrows)
{
    for (int r = 0; r < nrows; r++) {
        int i = row0 + r;
        const float *row = p + (int64_t)r * ld;
#pragma omp simd
        for (int j = 0; j <= i; j++)
            col[j] += (double)row[j];
    }
}

void ss_colmass_add_prompt(ss_colmass *c, int layer, int head, const double *col)
{
    size_t at = ((size_t)layer * c->n_head + head) * (size_t)c->n;
    /* column j is seen by N - j rows: the slash score's row count at skip 0,
     * so the same fold serves both and they merge the same way */
    ss_slash_finish_prompt(col, c->n, 0, c->sum + at, NULL, c->count + at);
}

ss_code ss_colmass_merge(ss_colmass *into, const ss_colmass *from, ss_error *err)
{
    if (into->n_layer != from->n_layer || into->n_head != from->n_head || into->n != from->n)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "column mass: cannot merge %d x %d x %d sums "
                       "into %d x %d x %d", from->n_layer, from->n_head, from->n, into->n_layer,
                       into->n_head, into->n);
    size_t total = (size_t)into->n_layer * (size_t)into->n_head * (size_t)into->n;
    for (size_t x = 0; x < total; x++) {
        into->sum[x] += from->sum[x];
        into->count[x] += from->count[x];
    }
    return SS_OK;
}

void ss_colmass_mean(const ss_colmass *c, double *out)
{
    ss_slash_average(c->sum, c->count,
                     (int64_t)c->n_layer * c->n_head * c->n, out);
}
