/* The cone analysis in the public API: the library's cone report
 * (analysis/cone_vocab.h) laid out as arrays of a generic result. */
#include <stdlib.h>

#include "analysis/cone_vocab.h"
#include "api/handles.h"
#include "common/mem.h"

ss_cone_params ss_cone_defaults(void)
{
    return (ss_cone_params){.tau = 0.95, .max_delta = 4};
}

typedef struct {
    ss_cone_report rep;
    double *q, *k;    /* [H, 10], [H_kv, 10] */
    int64_t *ints;    /* heads [n], cs_pairs [n, D] */
} cone_owned;

static void release_cone(void *p)
{
    cone_owned *o = p;
    ss_cone_report_free(&o->rep);
    free(o->q);
    free(o->k);
    free(o->ints);
    free(o);
}

static ss_code layout(cone_owned *o, ss_result *r, ss_error *err)
{
    const ss_cone_report *x = &o->rep;
    int64_t H = x->n_head, K = x->n_kv_head, n = x->n_cs, D = x->max_delta + 1;
    o->q = ss_calloc((size_t)(H * SS_CONE_N_SIDE), sizeof *o->q, "cone result", err);
    o->k = ss_calloc((size_t)(K * SS_CONE_N_SIDE), sizeof *o->k, "cone result", err);
    o->ints = ss_calloc((size_t)(n + n * D) + 1, sizeof *o->ints, "cone result", err);
    if (!o->q || !o->k || !o->ints)
        return SS_ERR_NOMEM;
    for (int64_t h = 0; h < H; h++)
        ss_cone_side_values(&x->q[h], o->q + h * SS_CONE_N_SIDE);
    for (int64_t h = 0; h < K; h++)
        ss_cone_side_values(&x->k[h], o->k + h * SS_CONE_N_SIDE);
    for (int64_t c = 0; c < n; c++) {
        o->ints[c] = x->cs_heads[c];
        for (int64_t d = 0; d < D; d++)
            o->ints[n + c * D + d] = x->cs_n[c * D + d];
    }
    ss_api_result_add(r, "q", o->q, 2, H, SS_CONE_N_SIDE, 0);
    ss_api_result_add(r, "k", o->k, 2, K, SS_CONE_N_SIDE, 0);
    ss_api_result_add_i64(r, "heads", o->ints, 1, n, 0, 0);
    ss_api_result_add_i64(r, "cs_pairs", o->ints + n, 2, n, D, 0);
    ss_api_result_add(r, "cs_mean", x->cs_mean, 2, n, D, 0);
    ss_api_result_add(r, "cs_min", x->cs_min, 2, n, D, 0);
    ss_api_result_add(r, "cs_max", x->cs_max, 2, n, D, 0);
    ss_api_result_add(r, "cs_logit_mean", x->cs_logit, 2, n, D, 0);
    ss_api_result_add(r, "cs_bound_mean", x->cs_bound, 2, n, D, 0);
    cJSON *cols = cJSON_AddArrayToObject(r->meta, "columns");
    for (int c = 0; c < SS_CONE_N_SIDE; c++)
        cJSON_AddItemToArray(cols, cJSON_CreateString(SS_CONE_SIDE_COLS[c]));
    cJSON_AddNumberToObject(r->meta, "rv_random", x->rv_random);
    cJSON_AddNumberToObject(r->meta, "vocab", x->vocab);
    return SS_OK;
}

ss_code ss_run_cone(const ss_model *m, const ss_cone_params *c, ss_result **out, ss_error *err)
{
    *out = NULL;
    if (!m || !c)
        return ss_fail(err, SS_ERR_USAGE, "ss_run_cone: a NULL argument");
    if (!(c->tau >= 0 && c->tau <= 1) || c->max_delta < 0 || c->chunk < 0 || c->n_heads < 0 ||
        (c->n_heads > 0 && !c->heads))
        return ss_fail(err, SS_ERR_USAGE, "cone: want tau in [0, 1], max_delta >= 0, chunk >= 0 "
                       "and a heads list for n_heads (got %g, %d, %d, %d)", c->tau, c->max_delta,
                       c->chunk, c->n_heads);
    int H = m->cfg.n_head;
    int *all = NULL;
    for (int i = 0; i < c->n_heads; i++)
        if (c->heads[i] < 0 || c->heads[i] >= H)
            return ss_fail(err, SS_ERR_USAGE, "heads[%d] = %d: layer 0 has heads 0..%d", i,
                           c->heads[i], H - 1);
    if (c->n_heads == 0) {
        if (!(all = ss_calloc((size_t)H, sizeof *all, "head list", err)))
            return SS_ERR_NOMEM;
        for (int h = 0; h < H; h++)
            all[h] = h;
    }
    ss_cone_opts o = {.tau = c->tau, .max_delta = c->max_delta, .seed = c->seed,
                      .chunk = c->chunk, .cs_heads = all ? all : c->heads,
                      .n_cs = all ? H : c->n_heads};
    cone_owned *own = ss_calloc(1, sizeof *own, "cone result", err);
    ss_code rc = own ? ss_cone_vocab(m, &o, &own->rep, err) : SS_ERR_NOMEM;
    free(all);
    if (rc) {
        if (own)
            release_cone(own);
        return rc;
    }
    ss_result *r = ss_api_result_new("cone", own, release_cone, err);
    if (!r)
        return SS_ERR_NOMEM;
    cJSON *lowrank = ss_api_interventions(m, NULL); /* a low-rank model's, as cone.json's */
    if (lowrank)
        cJSON_AddItemToObject(r->meta, "interventions", lowrank);
    if ((rc = layout(own, r, err))) {
        ss_result_free(r);
        return rc;
    }
    *out = r;
    return SS_OK;
}
