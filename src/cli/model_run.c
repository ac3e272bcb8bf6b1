#include "cli/model_run.h"

#include <stdlib.h>
#include <string.h>

#include "common/parse.h"

ss_code ss_head_ablation_from_flags(const ss_args *a, ss_head_ablation *abl, ss_error *err)
{
    const char *spec = ss_args_get(a, "--ablate");
    if (!spec)
        return SS_OK;
    const char *colon = strchr(spec, ':');
    int mode = SS_ABLATE_ZERO;
    if (colon && !strcmp(colon, ":mean"))
        mode = SS_ABLATE_MEAN;
    else if (colon && strcmp(colon, ":zero"))
        return ss_fail(err, SS_ERR_USAGE, "--ablate '%s': the mode after ':' must be zero or "
                       "mean", spec);
    const char *end = colon ? colon : spec + strlen(spec);
    for (const char *p = spec; p < end;) {
        int l, h;
        const char *q;
        if (!ss_parse_head_name(p, &q, &l, &h) || (q != end && *q != ','))
            return ss_fail(err, SS_ERR_USAGE, "--ablate '%s': expected heads like L1H3,L2H0 "
                           "with an optional :zero or :mean", spec);
        if (l >= abl->n_layer || h >= abl->n_head)
            return ss_fail(err, SS_ERR_USAGE, "--ablate: no head L%dH%d (the model has %d "
                           "layers x %d heads)", l, h, abl->n_layer, abl->n_head);
        unsigned char *m = &abl->mode[(size_t)l * abl->n_head + h];
        abl->n += !*m;
        *m = (unsigned char)mode;
        p = q == end ? q : q + 1;
    }
    return SS_OK;
}

void ss_model_run_edits(const ss_model_run *r, ss_forward_opts *o)
{
    if (r->ablation.n) {
        o->edit_heads = ss_head_ablation_edit;
        o->edit_ctx = (void *)&r->ablation;
    }
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
    ss_code rc = ss_model_open(a->positional[0], &r->model, err);
    if (rc)
        return rc;
    r->rope = r->model->rope;
    if ((rc = ss_head_ablation_init(&r->ablation, &r->model->cfg, err)) ||
        (rc = ss_head_ablation_from_flags(a, &r->ablation, err)) ||
        (rc = ss_rope_from_flags(a, &r->rope, err)) ||
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
    ss_head_ablation_free(&r->ablation);
    free(r->ids);
    memset(r, 0, sizeof *r);
}
