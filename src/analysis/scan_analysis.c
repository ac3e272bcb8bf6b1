#include "analysis/scan_analysis.h"

#include <stdlib.h>
#include <string.h>

#include "analysis/scan_result.h"
#include "common/mem.h"

static ss_code scan_begin(void *self, const int32_t *ids, int n, ss_error *err)
{
    (void)ids;
    const ss_scan_acc *a = self;
    if (n != a->n)
        return ss_fail(err, SS_ERR_VALUE, "scan: a prompt of %d tokens; this scan counts "
                       "prompts of exactly %d", n, a->n);
    return SS_OK;
}

static ss_code scan_end_prompt(void *self, ss_error *err)
{
    return ss_scan_acc_end_prompt(self, err);
}

static ss_code scan_finish(void *self, void *result, ss_error *err)
{
    const ss_scan_acc *a = self;
    ss_scan_result *r = result;
    memset(r, 0, sizeof *r);
    size_t cells = (size_t)a->n_layer * a->n_head * a->n, bb = (size_t)a->bins * a->bins;
    r->n_layer = a->n_layer;
    r->n_head = a->n_head;
    r->n = a->n;
    r->skip = a->skip;
    r->prompts = a->prompts;
    r->slash_sum = ss_memdup(a->slash_sum, cells * sizeof(double), "slash sums", err);
    r->slash_sumsq = ss_memdup(a->slash_sumsq, cells * sizeof(double), "slash sums of squares",
                               err);
    r->slash_count = ss_memdup(a->slash_count, cells * sizeof(int64_t), "slash counts", err);
    if (!r->slash_sum || !r->slash_sumsq || !r->slash_count) {
        ss_scan_result_free(r);
        return SS_ERR_NOMEM;
    }
    if (a->n_maps == 0)
        return SS_OK;
    r->map_size = a->map_size;
    r->bins = a->bins;
    r->map_heads = ss_calloc((size_t)a->n_maps, sizeof *r->map_heads, "map heads", err);
    r->map_sum = ss_memdup(a->map_sum, (size_t)a->n_maps * bb * sizeof(double), "maps", err);
    if (!r->map_heads || !r->map_sum) {
        ss_scan_result_free(r);
        return SS_ERR_NOMEM;
    }
    for (int x = 0; x < a->n_layer * a->n_head; x++)
        if (a->map_slot[x] >= 0)
            r->map_heads[r->n_maps++] = x; /* slots are numbered in head order */
    return SS_OK;
}

static ss_code scan_merge(void *self, const void *other, ss_error *err)
{
    return ss_scan_acc_merge(self, other, err);
}

static void scan_free(void *self)
{
    if (self)
        ss_scan_acc_free(self);
    free(self);
}

static int scan_fields(void *self, ss_state_field *out)
{
    ss_scan_acc *a = self;
    size_t cells = (size_t)a->n_layer * a->n_head * a->n;
    int k = 0;
    SS_STATE_FIELD(out, k, a->slash_sum, cells);
    SS_STATE_FIELD(out, k, a->slash_sumsq, cells);
    SS_STATE_FIELD(out, k, a->slash_count, cells);
    SS_STATE_FIELD(out, k, a->map_sum, (size_t)a->n_maps * a->bins * a->bins);
    SS_STATE_FIELD(out, k, &a->prompts, 1);
    return k;
}

static ss_code scan_fresh(void *self, ss_analysis *out, ss_error *err)
{
    const ss_scan_acc *a = self;
    size_t lh = (size_t)a->n_layer * a->n_head;
    unsigned char *flags = ss_calloc(lh, 1, "map selection", err);
    if (!flags)
        return SS_ERR_NOMEM;
    for (size_t i = 0; i < lh; i++)
        flags[i] = a->map_slot[i] >= 0;
    ss_code rc = ss_scan_analysis_new(out, a->n_layer, a->n_head, a->n, a->skip, a->map_size,
                                      a->n_maps ? flags : NULL, err);
    free(flags);
    return rc;
}

static const ss_analysis_vtable scan_vt = {
    .fields = scan_fields,
    .fresh = scan_fresh,
    .name = "scan",
    .begin = scan_begin,
    .on_probs = ss_scan_acc_on_probs,
    .on_layer_done = ss_scan_acc_on_layer_done,
    .end_prompt = scan_end_prompt,
    .finish = scan_finish,
    .merge = scan_merge,
    .free = scan_free,
};

ss_code ss_scan_analysis_new(ss_analysis *an, int n_layer, int n_head, int n, int skip,
                             int map_size, const unsigned char *map_heads, ss_error *err)
{
    an->vt = &scan_vt;
    an->self = ss_calloc(1, sizeof(ss_scan_acc), "scan", err);
    if (!an->self)
        return SS_ERR_NOMEM;
    ss_code rc = ss_scan_acc_init(an->self, n_layer, n_head, n, skip, map_size, map_heads, err);
    if (rc) {
        free(an->self);
        an->self = NULL;
    }
    return rc;
}

ss_scan_acc *ss_scan_analysis_acc(const ss_analysis *an)
{
    return an->vt == &scan_vt ? an->self : NULL;
}
