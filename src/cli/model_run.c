#include "cli/model_run.h"

#include <stdlib.h>
#include <string.h>

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
    ss_code rc = ss_model_open(a->positional[0], &r->model, err);
    if (rc)
        return rc;
    r->rope = r->model->rope;
    if ((rc = ss_rope_from_flags(a, &r->rope, err)) ||
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
    ss_model_close(r->model);
    free(r->ids);
    memset(r, 0, sizeof *r);
}
