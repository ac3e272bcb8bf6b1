/* The coverage observer (analysis/coverage.h) as an analysis of the driver
 * (analysis/analysis.h). The driver runs one forward pass per prompt: that
 * is pass 1; end_prompt selects the patterns and runs pass 2 itself. */
#include <stdlib.h>
#include <string.h>

#include "analysis/coverage.h"
#include "common/mem.h"
#include "engine/forward.h"

typedef struct {
    ss_coverage acc;        /* first, so the observer hooks take this state as theirs */
    ss_coverage_pass2 pass2;
    int32_t *ids;           /* [n]: the prompt under way, for pass 2 */
} coverage_state;

static ss_code cov_begin(void *self, const int32_t *ids, int n, ss_error *err)
{
    coverage_state *s = self;
    if (n != s->acc.n)
        return ss_fail(err, SS_ERR_VALUE, "coverage: a prompt of %d tokens; this run measures "
                       "prompts of exactly %d", n, s->acc.n);
    memcpy(s->ids, ids, (size_t)n * sizeof *ids);
    return SS_OK;
}

static ss_code cov_end_prompt(void *self, ss_error *err)
{
    coverage_state *s = self;
    ss_observer obs = ss_coverage_observer(&s->acc);
    ss_forward_opts fo = {.rope = s->pass2.rope, .allow_long = s->pass2.allow_long,
                          .block_rows = s->pass2.block_rows, .observers = &obs,
                          .n_observers = 1};
    ss_code rc = ss_coverage_select(&s->acc, err);
    if (!rc && (rc = ss_forward(s->pass2.model, s->ids, s->acc.n, &fo, NULL, err)))
        ss_error_prefix(err, "coverage, second pass over the prompt");
    /* a failure ends the run (the driver stops), so the half-measured
     * prompt is never mixed into another */
    return rc ? rc : ss_coverage_end_prompt(&s->acc, err);
}

static ss_code cov_finish(void *self, void *result, ss_error *err)
{
    return ss_coverage_collect(&((coverage_state *)self)->acc, result, err);
}

static ss_code cov_merge(void *self, const void *other, ss_error *err)
{
    return ss_coverage_merge(&((coverage_state *)self)->acc,
                             &((const coverage_state *)other)->acc, err);
}

static void cov_free(void *self)
{
    coverage_state *s = self;
    if (s) {
        ss_coverage_free(&s->acc);
        free(s->ids);
    }
    free(s);
}

static const ss_analysis_vtable coverage_vt = {
    .name = "coverage",
    .begin = cov_begin,
    .on_probs = ss_coverage_on_probs,
    .on_layer_done = ss_coverage_on_layer_done,
    .end_prompt = cov_end_prompt,
    .finish = cov_finish,
    .merge = cov_merge,
    .free = cov_free,
};

ss_code ss_coverage_analysis_new(ss_analysis *an, int n_layer, int n_head, int n,
                                 const ss_vs_grid *grid, const ss_coverage_pass2 *pass2,
                                 ss_error *err)
{
    memset(an, 0, sizeof *an);
    if (!pass2 || !pass2->model)
        return ss_fail(err, SS_ERR_USAGE, "coverage: the second pass needs the model");
    coverage_state *s = ss_calloc(1, sizeof *s, "coverage", err);
    if (!s)
        return SS_ERR_NOMEM;
    s->pass2 = *pass2;
    ss_code rc = ss_coverage_init(&s->acc, n_layer, n_head, n, grid, err);
    if (!rc && !(s->ids = ss_calloc((size_t)n, sizeof *s->ids, "coverage prompt", err)))
        rc = SS_ERR_NOMEM;
    if (rc) {
        cov_free(s);
        return rc;
    }
    an->vt = &coverage_vt;
    an->self = s;
    return SS_OK;
}

ss_coverage *ss_coverage_analysis_acc(const ss_analysis *an)
{
    return an->vt == &coverage_vt ? &((coverage_state *)an->self)->acc : NULL;
}
