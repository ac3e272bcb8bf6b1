/* Analyzer handles of the public API: several analyses over one pass of a
 * source through the library's driver (ss_api_pass). */
#include <stdlib.h>
#include <string.h>

#include "api/handles.h"
#include "common/mem.h"

ss_analyzer *ss_api_analyzer_new(const char *kind, ss_error *err)
{
    ss_analyzer *a = ss_calloc(1, sizeof *a, "analyzer", err);
    if (a)
        a->kind = kind;
    return a;
}

void ss_analyzer_free(ss_analyzer *a)
{
    if (!a)
        return;
    if (a->an.vt)
        ss_analysis_free(&a->an);
    if (a->free_state)
        a->free_state(a->state);
    cJSON_Delete(a->interventions);
    free(a);
}

/* Every analyzer fits this pass: not run yet, made for its length and
 * RoPE schedule. */
static ss_code check_fit(const ss_model *m, const ss_source *src, ss_analyzer *const *a, int n,
                         const ss_pass_params *p, ss_error *err)
{
    ss_rope rope;
    ss_code rc = ss_api_rope(m, &p->run, &rope, err);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++) {
        if (!a[i])
            return ss_fail(err, SS_ERR_USAGE, "ss_run_analyzers: analyzer %d is NULL", i);
        if (a[i]->ran)
            return ss_fail(err, SS_ERR_USAGE, "analyzer %d (%s) has run already: make a new one",
                           i, a[i]->kind);
        if (a[i]->len && a[i]->len != src->opts.len)
            return ss_fail(err, SS_ERR_USAGE, "analyzer %d (%s) was made for prompts of %d "
                           "tokens, the source gives %d", i, a[i]->kind, a[i]->len,
                           src->opts.len);
        if (a[i]->has_rope && (memcmp(a[i]->rope.theta, rope.theta, sizeof rope.theta) ||
                               memcmp(a[i]->rope.active, rope.active, sizeof rope.active)))
            return ss_fail(err, SS_ERR_USAGE, "analyzer %d (%s) was made for another RoPE "
                           "schedule than this pass's run options", i, a[i]->kind);
    }
    return SS_OK;
}

ss_code ss_run_analyzers(const ss_model *m, ss_source *src, ss_analyzer *const *a, int n,
                         const ss_pass_params *p, ss_error *err)
{
    if (!m || !src || !p || n < 1 || !a)
        return ss_fail(err, SS_ERR_USAGE, "ss_run_analyzers: want a model, a source, params and "
                       "at least one analyzer");
    ss_code rc = check_fit(m, src, a, n, p, err);
    if (rc)
        return rc;
    ss_analysis **list = ss_calloc((size_t)n, sizeof *list, "analyses", err);
    if (!list)
        return SS_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        list[i] = &a[i]->an;
        a[i]->ran = 1;
        cJSON_Delete(a[i]->interventions);
        a[i]->interventions = ss_api_interventions(m, &p->run);
    }
    rc = ss_api_pass(m, src, list, n, p, n == 1 ? a[0]->kind : "analyses", err);
    free(list);
    if (rc) /* a stopped or failed pass leaves incomplete sums: no results */
        for (int i = 0; i < n; i++)
            a[i]->ran = -1;
    return rc;
}

ss_code ss_analyzer_result(ss_analyzer *a, ss_result **out, ss_error *err)
{
    *out = NULL;
    if (!a || a->ran != 1)
        return ss_fail(err, SS_ERR_USAGE, "%s analyzer: no complete pass to take a result from",
                       a ? a->kind : "NULL");
    return a->result(a, out, err);
}

ss_code ss_api_analyzer_finish(ss_analyzer *a, size_t size, void (*release)(void *),
                               ss_code (*lay)(ss_result *r, void *owned, const ss_analyzer *a,
                                              ss_error *err),
                               ss_result **out, ss_error *err)
{
    void *owned = ss_calloc(1, size, "result", err);
    if (!owned)
        return SS_ERR_NOMEM;
    ss_code rc = ss_analysis_finish(&a->an, owned, err);
    if (rc) {
        release(owned);
        return rc;
    }
    ss_result *r = ss_api_result_new(a->kind, owned, release, err);
    if (!r)
        return SS_ERR_NOMEM;
    if ((rc = lay(r, owned, a, err))) {
        ss_result_free(r);
        return rc;
    }
    /* as the program's rank.json / freq.json / ppl.json (absent without any) */
    if (a->interventions)
        cJSON_AddItemToObject(r->meta, "interventions", cJSON_Duplicate(a->interventions, 1));
    *out = r;
    return SS_OK;
}

ss_code ss_api_run_one(ss_analyzer *a, const ss_model *m, ss_source *src,
                       const ss_pass_params *p, ss_result **out, ss_error *err)
{
    ss_code rc = ss_run_analyzers(m, src, &a, 1, p, err);
    if (!rc)
        rc = ss_analyzer_result(a, out, err);
    ss_analyzer_free(a);
    return rc;
}
