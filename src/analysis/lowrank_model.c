#include "analysis/lowrank_model.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/parse.h"
#include "store/provenance.h"

/* PLAN[@THRE,RANK_THRE] into the folder and, after '@', the pair. */
static ss_code parse_spec(const char *spec, const char *label, char *dir, size_t cap, int *pair,
                          double *thre, int *rank_thre, ss_error *err)
{
    const char *at = strrchr(spec, '@');
    size_t len = at ? (size_t)(at - spec) : strlen(spec);
    if (len >= cap)
        return ss_fail(err, SS_ERR_USAGE, "%s: path too long", label);
    memcpy(dir, spec, len);
    dir[len] = '\0';
    *pair = at != NULL;
    if (!at)
        return SS_OK;
    char *end;
    *thre = strtod(at + 1, &end);
    long long r = 0;
    if (end == at + 1 || *end != ',' || !(*thre >= 0 && *thre <= 1) ||
        ss_parse_ll_all(end + 1, 0, 1 << 20, &r))
        return ss_fail(err, SS_ERR_USAGE, "%s '%s': expected PLAN@THRE,RANK_THRE with THRE in "
                       "[0, 1] and a whole RANK_THRE", label, spec);
    *rank_thre = (int)r;
    return SS_OK;
}

ss_code ss_lowrank_apply_spec(ss_model *m, const char *spec, const char *label,
                              ss_lowrank_applied *out, cJSON **plan, ss_error *err)
{
    *plan = NULL;
    memset(out, 0, sizeof *out);
    char dir[4096];
    double t = 0;
    int rk = 0, pair = 0;
    ss_code rc = parse_spec(spec, label, dir, sizeof dir, &pair, &t, &rk, err);
    if (rc)
        return rc;
    ss_compress_result r;
    double thre[16];
    int rank_thre[16], nt, nr;
    if ((rc = ss_compress_plan_read(dir, &r, thre, &nt, rank_thre, &nr, 16, err))) {
        ss_error_prefix(err, "%s", label);
        return rc;
    }
    if (!pair && (nt != 1 || nr != 1))
        rc = ss_fail(err, SS_ERR_USAGE, "%s %s: the plan has %d thre and %d rank_thre values; "
                     "choose one pair as %s@THRE,RANK_THRE", label, dir, nt, nr, dir);
    if (!rc)
        rc = ss_lowrank_apply(m, &r, pair ? t : thre[0], pair ? rk : rank_thre[0], out, err);
    ss_compress_result_free(&r);
    /* the shares are read only while the plan is applied: nothing after
     * this keeps a pointer to the freed plan */
    out->r = NULL;
    if (!rc && !(*plan = ss_prov_folder_digest(dir, "plan.json", err))) {
        ss_error_prefix(err, "%s", label);
        rc = err->code;
        ss_lowrank_restore(out);
    }
    return rc;
}

/* What a low-rank model owns beyond its ss_model block and layer table. */
typedef struct {
    ss_lowrank_applied applied; /* its replaced W_Q / W_K (bound into its layers) */
    char *spec;
    cJSON *plan;
} lowrank_own;

static void lowrank_release(ss_model *m)
{
    lowrank_own *o = m->derived;
    if (o) {
        ss_lowrank_restore(&o->applied);
        free(o->spec);
        cJSON_Delete(o->plan);
        free(o);
    }
    free(m->layers);
    free(m->path);
    free(m);
}

ss_code ss_model_open_lowrank(const ss_model *base, const char *spec, ss_model **out,
                              ss_error *err)
{
    *out = NULL;
    if (!base || !spec)
        return ss_fail(err, SS_ERR_USAGE, "low-rank model: %s is NULL",
                       base ? "the plan" : "the model");
    if (ss_model_lowrank_spec(base, NULL))
        return ss_fail(err, SS_ERR_USAGE, "low-rank model: %s already carries the plan %s; "
                       "apply %s to the model it was made from", base->path,
                       ss_model_lowrank_spec(base, NULL), spec);
    ss_model *m = ss_calloc(1, sizeof *m, "low-rank model", err);
    lowrank_own *o = m ? ss_calloc(1, sizeof *o, "low-rank model", err) : NULL;
    if (!o) {
        free(m);
        return SS_ERR_NOMEM;
    }
    /* every field shared (tensors, views, the GGUF vocabulary, config) but
     * what the model owns: its path, its layer table (the plan rebinds
     * wq / wk in it); the fingerprint is asked of the source (the digest is
     * of the stored tensors, which are the source's), so none is kept here */
    ss_model_copy_struct(m, base);
    m->derived = o;
    m->release = lowrank_release;
    m->source = base->source ? base->source : base;
    m->has_fingerprint = 0;
    memset(&m->fingerprint, 0, sizeof m->fingerprint);
    size_t nl = (size_t)base->cfg.n_layer;
    m->path = ss_strdup(base->path, err);
    m->layers = ss_calloc(nl ? nl : 1, sizeof *m->layers, "low-rank model", err);
    o->spec = ss_strdup(spec, err);
    ss_code rc = m->path && m->layers && o->spec ? SS_OK : SS_ERR_NOMEM;
    if (!rc) {
        memcpy(m->layers, base->layers, nl * sizeof *m->layers);
        rc = ss_lowrank_apply_spec(m, spec, "low-rank plan", &o->applied, &o->plan, err);
    }
    if (rc) {
        lowrank_release(m);
        return rc;
    }
    *out = m;
    return SS_OK;
}

const char *ss_model_lowrank_spec(const ss_model *m, const cJSON **plan)
{
    const lowrank_own *o = m && m->release == lowrank_release ? m->derived : NULL;
    if (plan)
        *plan = o ? o->plan : NULL;
    return o ? o->spec : NULL;
}

int ss_model_lowrank_compressed(const ss_model *m)
{
    const lowrank_own *o = m && m->release == lowrank_release ? m->derived : NULL;
    return o ? o->applied.compressed : 0;
}
