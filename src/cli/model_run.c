#include "cli/model_run.h"

#include <stdlib.h>
#include <string.h>

#include "analysis/head_edits.h"
#include "analysis/lowrank_model.h"
#include "common/parse.h"
#include "common/timing.h"
#include "store/provenance.h"

/* --ablate and --head-rope-remove (repeatable) into e: the API's parser,
 * its messages naming the flags. */
static ss_code head_edits_from_flags(const ss_args *a, const ss_model *m, ss_head_edits *e,
                                     ss_error *err)
{
    const char *spec[SS_ARGS_MAX_REPEAT];
    int n = ss_args_all(a, "--head-rope-remove", spec, SS_ARGS_MAX_REPEAT);
    return ss_head_edits_parse_as(e, m, ss_args_get(a, "--ablate"), "--ablate", spec, n,
                                  "--head-rope-remove", err);
}

ss_code ss_lowrank_from_flags(const ss_args *a, ss_model *m, ss_lowrank_applied *out,
                              cJSON **digest, ss_error *err)
{
    *digest = NULL;
    const char *spec = ss_args_get(a, "--lowrank");
    return spec ? ss_lowrank_apply_spec(m, spec, "--lowrank", out, digest, err) : SS_OK;
}

void ss_model_run_edits(const ss_model_run *r, ss_forward_opts *o)
{
    ss_head_edits_forward(&r->edits, o);
}

cJSON *ss_model_run_edits_json(const ss_model_run *r, const ss_args *a)
{
    const char *spec[SS_ARGS_MAX_REPEAT];
    int n = ss_args_all(a, "--head-rope-remove", spec, SS_ARGS_MAX_REPEAT);
    return ss_head_edits_json(ss_args_get(a, "--ablate"), spec, n, ss_args_get(a, "--lowrank"),
                              r->lowrank_plan);
}

const char *ss_model_run_plan_sha256(const ss_model_run *r)
{
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(r->lowrank_plan, "sha256");
    return cJSON_IsString(sha) ? sha->valuestring : NULL;
}

ss_code ss_rope_from_flags(const ss_args *a, ss_rope *rope, ss_error *err)
{
    const char *p = ss_args_get(a, "--p-rope");
    const char *list = ss_args_get(a, "--rope-remove");
    ss_code rc;
    if (p) {
        double frac;
        if ((rc = ss_args_double(a, "--p-rope", 1.0, 0.0, 1.0, &frac, err)) ||
            (rc = ss_rope_keep_fraction(rope, frac, err)))
            return rc;
    }
    if (list) {
        int *l, n;
        if ((rc = ss_rope_parse_list(list, rope->n_freq, &l, &n, err)))
            return rc;
        rc = ss_rope_remove(rope, l, n, err);
        free(l);
        if (rc)
            return rc;
    }
    return SS_OK;
}

ss_code ss_model_run_open(ss_model_run *r, const ss_args *a, int want_ids, ss_error *err)
{
    memset(r, 0, sizeof *r);
    if (a->n_positional != 1)
        return ss_fail(err, SS_ERR_USAGE, "expected one MODEL argument (see --help)");
    ss_set_threads(a->threads);
    r->allow_long = ss_args_has(a, "--allow-long");
    ss_timing_mark("command line");
    ss_code rc = ss_model_open(a->positional[0], &r->model, err);
    ss_timing_mark("model: open");
    if (rc)
        return rc;
    r->rope = r->model->rope;
    if ((rc = head_edits_from_flags(a, r->model, &r->edits, err)) ||
        (rc = ss_rope_from_flags(a, &r->rope, err)) ||
        (rc = ss_lowrank_from_flags(a, r->model, &r->lowrank, &r->lowrank_plan, err)) ||
        (want_ids && (rc = ss_args_ids(a, &r->ids, &r->n, err)))) {
        ss_model_run_close(r);
        return rc;
    }
    if (want_ids && r->n > r->model->cfg.ctx_len && !r->allow_long) {
        rc = ss_fail(err, SS_ERR_VALUE, "the sequence has %d tokens, more than the model's "
                     "context of %d (pass --allow-long to run it anyway)", r->n,
                     r->model->cfg.ctx_len);
        ss_model_run_close(r);
        return rc;
    }
    return SS_OK;
}

void ss_model_run_close(ss_model_run *r)
{
    ss_lowrank_restore(&r->lowrank);
    ss_model_close(r->model);
    ss_head_edits_free(&r->edits);
    cJSON_Delete(r->lowrank_plan);
    free(r->ids);
    memset(r, 0, sizeof *r);
}
