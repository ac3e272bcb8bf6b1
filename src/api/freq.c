/* The freq analysis in the public API: the library's freq result struct
 * (analysis/freq_result.h) behind a generic result; its small integer and
 * per-head condition fields are laid out as arrays here. */
#include <stdlib.h>
#include <string.h>

#include "analysis/bands.h"
#include "analysis/freq_result.h"
#include "api/handles.h"
#include "common/mem.h"

ss_freq_params ss_freq_defaults(void)
{
    return (ss_freq_params){.row = -1, .skip = 4, .inp_rows = 64, .max_delta = 4,
                            .active_frac = 0.1, .bands = 1};
}

#define N_COND_F64 5
/* The analyzer's own: the ablations its analysis borrows. */
typedef struct {
    ss_ablation abl[SS_BAND_COUNT + 1];
    int n_abl;
} freq_state;

typedef struct {
    ss_freq_result res;
    int64_t *ints;   /* heads [S,2], active [S,F], n_active, cond_ok, cond_peak_x [S],
                      * cs_pairs [S,D] */
    double *cond;    /* [N_COND_F64, S] */
} freq_owned;

static void release_freq(void *p)
{
    freq_owned *o = p;
    ss_freq_result_free(&o->res);
    free(o->ints);
    free(o->cond);
    free(o);
}

static ss_code check(const ss_model *m, int n, const ss_freq_params *f, ss_error *err)
{
    const ss_config *c = &m->cfg;
    if (n < 1)
        return ss_fail(err, SS_ERR_USAGE, "len must be at least 1, got %d", n);
    if (f->n_heads < 0 || (f->n_heads > 0 && !f->heads))
        return ss_fail(err, SS_ERR_USAGE, "heads: %d heads but no list", f->n_heads);
    for (int i = 0; i < f->n_heads; i++)
        if (f->heads[2 * i] < 0 || f->heads[2 * i] >= c->n_layer || f->heads[2 * i + 1] < 0 ||
            f->heads[2 * i + 1] >= c->n_head)
            return ss_fail(err, SS_ERR_USAGE, "heads[%d] = L%dH%d is outside the model's %d "
                           "layers x %d heads", i, f->heads[2 * i], f->heads[2 * i + 1],
                           c->n_layer, c->n_head);
    if (f->row < -1 || f->row >= n)
        return ss_fail(err, SS_ERR_USAGE, "row %d must be from 0 to len - 1 = %d (-1: default)",
                       f->row, n - 1);
    if (f->skip < 0 || f->skip >= n)
        return ss_fail(err, SS_ERR_USAGE, "skip %d must be from 0 to len - 1 = %d", f->skip,
                       n - 1);
    if (f->inp_rows < 1 || f->max_delta < 0)
        return ss_fail(err, SS_ERR_USAGE, "inp_rows must be >= 1 and max_delta >= 0 (got %d, "
                       "%d)", f->inp_rows, f->max_delta);
    if (!(f->active_frac >= 0 && f->active_frac <= 1))
        return ss_fail(err, SS_ERR_USAGE, "active_frac must be from 0 to 1, got %g",
                       f->active_frac);
    if (f->n_remove < 0 || (f->n_remove > 0 && !f->remove))
        return ss_fail(err, SS_ERR_USAGE, "remove: %d frequencies but no list", f->n_remove);
    return SS_OK;
}

/* The band ablations and the custom one, over the pass's schedule. */
static ss_code ablations(const ss_rope *base, const ss_freq_params *f, ss_ablation *abl, int *n,
                         ss_error *err)
{
    int l[SS_ROPE_MAX_FREQ];
    ss_code rc;
    *n = 0;
    for (int b = 0; f->bands && b < SS_BAND_COUNT; b++) {
        int m = ss_band_removed(base->n_freq, (ss_band)b, l);
        if (m > 0 && (rc = ss_ablation_make(&abl[(*n)++], ss_band_name((ss_band)b), base, l, m,
                                            err)))
            return rc;
    }
    if (f->n_remove > 0)
        return ss_ablation_make(&abl[(*n)++], "custom", base, f->remove, f->n_remove, err);
    return SS_OK;
}

static ss_code layout(ss_result *r, void *owned, const ss_analyzer *an, ss_error *err)
{
    freq_owned *o = owned;
    const freq_state *st = an->state;
    const ss_freq_result *x = &o->res;
    int64_t S = x->n_sel, F = x->n_freq, D = x->max_delta + 1, L = x->n_layer;
    size_t ni = (size_t)(S * 2 + S * F + 3 * S + S * D);
    o->ints = ss_calloc(ni, sizeof *o->ints, "freq result", err);
    o->cond = ss_calloc((size_t)(N_COND_F64 * S) + 1, sizeof *o->cond, "freq result", err);
    if (!o->ints || !o->cond)
        return SS_ERR_NOMEM;
    int64_t *heads = o->ints, *active = heads + 2 * S, *n_active = active + S * F,
            *cond_ok = n_active + S, *peak_x = cond_ok + S, *pairs = peak_x + S;
    for (int64_t s = 0; s < S; s++) {
        heads[2 * s] = x->sel[s].layer;
        heads[2 * s + 1] = x->sel[s].head;
        for (int64_t f = 0; f < F; f++)
            active[s * F + f] = x->active[s * F + f];
        n_active[s] = x->n_active[s];
        cond_ok[s] = x->cond_ok[s];
        peak_x[s] = x->cond[s].peak_x;
        const double v[N_COND_F64] = {x->cond[s].C1, x->cond[s].C2, x->cond[s].eps_fn,
                                      x->cond[s].L_min, x->cond[s].peak_gap};
        for (int k = 0; k < N_COND_F64; k++)
            o->cond[k * S + s] = v[k];
        for (int64_t d = 0; d < D; d++)
            pairs[s * D + d] = x->cs_pairs[s * D + d];
    }
    ss_api_result_add_i64(r, "heads", heads, 2, S, 2, 0);
    ss_api_result_add(r, "scores", x->scores, 3, S, x->n_var, x->n);
    ss_api_result_add(r, "inp", x->inp, 3, S, x->row + 1, F);
    ss_api_result_add(r, "inp_mean_abs", x->inp_mean_abs, 2, S, F, 0);
    ss_api_result_add(r, "inp_share", x->inp_share, 2, S, F, 0);
    ss_api_result_add_i64(r, "active", active, 2, S, F, 0);
    ss_api_result_add_i64(r, "n_active", n_active, 1, S, 0, 0);
    ss_api_result_add_i64(r, "cond_ok", cond_ok, 1, S, 0, 0);
    static const char *names[N_COND_F64] = {"cond_C1", "cond_C2", "cond_eps_fn", "cond_L_min",
                                            "cond_peak_gap"};
    for (int k = 0; k < N_COND_F64; k++)
        ss_api_result_add(r, names[k], o->cond + k * S, 1, S, 0, 0);
    ss_api_result_add_i64(r, "cond_peak_x", peak_x, 1, S, 0, 0);
    ss_api_result_add(r, "curve", x->curve, 2, S, x->n + 1, 0);
    ss_api_result_add_i64(r, "cs_pairs", pairs, 2, S, D, 0);
    ss_api_result_add(r, "cs_mean", x->cs_mean, 2, S, D, 0);
    ss_api_result_add(r, "cs_min", x->cs_min, 2, S, D, 0);
    ss_api_result_add(r, "cs_max", x->cs_max, 2, S, D, 0);
    ss_api_result_add(r, "cs_logit_mean", x->cs_logit_mean, 2, S, D, 0);
    ss_api_result_add(r, "cs_bound_mean", x->cs_bound_mean, 2, S, D, 0);
    ss_api_result_add(r, "usage_q", x->usage_q, 3, L, x->n_head, F);
    ss_api_result_add(r, "usage_k", x->usage_k, 3, L, x->n_kv_head, F);
    ss_api_result_add(r, "usage_layer_q", x->usage_layer_q, 2, L, F, 0);
    ss_api_result_add(r, "usage_layer_k", x->usage_layer_k, 2, L, F, 0);
    cJSON *vars = cJSON_AddArrayToObject(r->meta, "variants");
    cJSON *none = cJSON_CreateObject();
    cJSON_AddStringToObject(none, "name", "none");
    cJSON_AddItemToObject(none, "removed", cJSON_CreateArray());
    cJSON_AddItemToArray(vars, none);
    for (int a = 0; a < st->n_abl; a++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", st->abl[a].name);
        cJSON_AddItemToObject(e, "removed",
                              cJSON_CreateIntArray(st->abl[a].removed, st->abl[a].n_removed));
        cJSON_AddItemToArray(vars, e);
    }
    cJSON_AddNumberToObject(r->meta, "prompts", (double)x->prompts);
    cJSON_AddNumberToObject(r->meta, "row", x->row);
    cJSON_AddNumberToObject(r->meta, "inp_rows", x->inp_rows);
    cJSON_AddNumberToObject(r->meta, "max_delta", x->max_delta);
    cJSON_AddNumberToObject(r->meta, "scale", x->scale);
    cJSON_AddNumberToObject(r->meta, "active_frac", x->active_frac);
    return SS_OK;
}

static ss_code freq_result(ss_analyzer *a, ss_result **out, ss_error *err)
{
    return ss_api_analyzer_finish(a, sizeof(freq_owned), release_freq, layout, out, err);
}

ss_code ss_analyzer_freq(const ss_model *m, int len, const ss_freq_params *f,
                         const ss_run_opts *run, ss_analyzer **out, ss_error *err)
{
    *out = NULL;
    if (!m || !f)
        return ss_fail(err, SS_ERR_USAGE, "ss_analyzer_freq: a NULL argument");
    ss_code rc = check(m, len, f, err);
    if (rc)
        return rc;
    ss_analyzer *a = ss_api_analyzer_new("freq", err);
    freq_state *st = ss_calloc(1, sizeof *st, "freq ablations", err);
    const ss_config *c = &m->cfg;
    int S = f->n_heads > 0 ? f->n_heads : c->n_layer * c->n_head;
    ss_head_ref *sel = ss_calloc((size_t)S, sizeof *sel, "head list", err);
    if (!a || !st || !sel) {
        ss_analyzer_free(a);
        free(st);
        free(sel);
        return SS_ERR_NOMEM;
    }
    a->state = st;
    a->free_state = free;
    a->result = freq_result;
    a->len = len;
    a->has_rope = 1;
    for (int i = 0; i < S; i++)
        sel[i] = f->n_heads > 0 ? (ss_head_ref){f->heads[2 * i], f->heads[2 * i + 1]}
                                : (ss_head_ref){i / c->n_head, i % c->n_head};
    ss_freq_opts fo = {.row = f->row >= 0 ? f->row : (len > 100 ? 100 : len - 1),
                       .inp_rows = f->inp_rows, .skip = f->skip, .max_delta = f->max_delta,
                       .active_frac = f->active_frac};
    if (!(rc = ss_api_rope(m, run, &a->rope, err)) &&
        !(rc = ablations(&a->rope, f, st->abl, &st->n_abl, err)))
        rc = ss_freq_analysis_new(&a->an, m, &a->rope, len, sel, S, st->abl, st->n_abl, &fo,
                                  err);
    free(sel);
    if (rc) {
        ss_analyzer_free(a);
        return rc;
    }
    *out = a;
    return SS_OK;
}

ss_code ss_run_freq(const ss_model *m, ss_source *src, const ss_freq_params *f,
                    const ss_pass_params *p, ss_result **out, ss_error *err)
{
    *out = NULL;
    if (!src || !p)
        return ss_fail(err, SS_ERR_USAGE, "ss_run_freq: a NULL argument");
    ss_analyzer *a;
    ss_code rc = ss_analyzer_freq(m, src->opts.len, f, &p->run, &a, err);
    return rc ? rc : ss_api_run_one(a, m, src, p, out, err);
}
