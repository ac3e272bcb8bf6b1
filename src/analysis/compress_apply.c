#include "analysis/compress_apply.h"

#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/path.h"
#include "io/dequant.h"
#include "io/json.h"
#include "io/npy.h"

int ss_lowrank_rank(const ss_lowrank_applied *a, int layer, int head, int key)
{
    const ss_config *c = &a->m->cfg;
    size_t i = key ? (size_t)c->n_layer * c->n_head + (size_t)layer * c->n_kv_head + head
                   : (size_t)layer * c->n_head + head;
    return a->rank[i];
}

ss_code ss_lowrank_svds_init(ss_lowrank_svds *s, const ss_model *m, size_t budget,
                             ss_error *err)
{
    const ss_config *c = &m->cfg;
    memset(s, 0, sizeof *s);
    s->m = m;
    s->budget = budget;
    s->svd = ss_calloc((size_t)c->n_layer * (c->n_head + c->n_kv_head), sizeof *s->svd,
                       "kept SVDs", err);
    s->of = ss_calloc(2 * (size_t)c->n_layer, sizeof *s->of, "kept SVDs", err);
    if (!s->svd || !s->of) {
        ss_lowrank_svds_free(s);
        return SS_ERR_NOMEM;
    }
    return SS_OK;
}

void ss_lowrank_svds_free(ss_lowrank_svds *s)
{
    if (s->svd && s->m)
        for (size_t i = 0; i < (size_t)s->m->cfg.n_layer * (s->m->cfg.n_head + s->m->cfg.n_kv_head);
             i++)
            free(s->svd[i]);
    free(s->svd);
    free(s->of);
    memset(s, 0, sizeof *s);
}

/* The SVD of one head's weight (sigma, u, vt in one block of dh + dh^2 +
 * dh d doubles): the kept one, or computed into a new block, kept when the
 * budget allows. *owned: the caller frees the block. */
static ss_code head_svd(const ss_model *m, ss_lowrank_svds *svds, int layer, int head, int key,
                        double **block, int *owned, ss_error *err)
{
    const ss_config *c = &m->cfg;
    size_t dh = (size_t)c->d_head, d = (size_t)c->d_model, n = dh + dh * dh + dh * d;
    size_t i = key ? (size_t)c->n_layer * c->n_head + (size_t)layer * c->n_kv_head + head
                   : (size_t)layer * c->n_head + head;
    *owned = 1;
    if (svds) {
        const ss_tensor *t = key ? m->layers[layer].wk : m->layers[layer].wq;
        const ss_tensor **of = &svds->of[2 * layer + key];
        if (*of && *of != t)
            return ss_fail(err, SS_ERR_USAGE, "low-rank: layer %d's %s projection is not the "
                           "one its kept SVDs are of (a plan still applied?)", layer,
                           key ? "key" : "query");
        *of = t;
        if (svds->svd[i]) {
            *block = svds->svd[i];
            *owned = 0;
            return SS_OK;
        }
    }
    double *x = ss_calloc(n, sizeof *x, "SVD", err);
    if (!x)
        return SS_ERR_NOMEM;
    ss_code rc = ss_head_weight_svd(m, layer, head, key, x, x + dh + dh * dh, x + dh, err);
    if (rc) {
        free(x);
        return rc;
    }
    if (svds) {
        svds->computed++;
        if (svds->bytes + n * sizeof *x <= svds->budget) {
            svds->svd[i] = x;
            svds->bytes += n * sizeof *x;
            *owned = 0;
        }
    }
    *block = x;
    return SS_OK;
}

/* rows [dh, d] = sum over the R kept directions of sigma_l u_l v_l^T. */
static ss_code reconstruct(const ss_model *m, ss_lowrank_svds *svds, int layer, int head,
                           int key, const int *keep, int R, float *rows, ss_error *err)
{
    const ss_config *c = &m->cfg;
    int dh = c->d_head, d = c->d_model;
    double *acc = ss_calloc((size_t)dh * d, sizeof *acc, "SVD", err);
    double *block = NULL;
    int owned = 0;
    ss_code rc = acc ? head_svd(m, svds, layer, head, key, &block, &owned, err) : SS_ERR_NOMEM;
    const double *sigma = block, *u = block ? block + dh : NULL,
                 *vt = block ? block + dh + (size_t)dh * dh : NULL;
    for (int r = 0; !rc && r < R; r++) {
        int l = keep[r] - 1; /* keep is 1-based (0 is the bias) */
        for (int i = 0; i < dh; i++) {
            double s = sigma[l] * u[(size_t)i * dh + l];
            for (int j = 0; j < d; j++)
                acc[(size_t)i * d + j] += s * vt[(size_t)l * d + j];
        }
    }
    for (size_t i = 0; !rc && i < (size_t)dh * d; i++)
        rows[i] = (float)acc[i];
    if (owned)
        free(block);
    free(acc);
    return rc;
}

/* One layer's q (key 0) or k projection under the plan: its heads' kept
 * ranks (0: untouched), counted in a->compressed. */
static void plan_matrix(ss_lowrank_applied *a, int layer, int key, int rank_thre)
{
    const ss_config *c = &a->m->cfg;
    int heads = key ? c->n_kv_head : c->n_head, dh = c->d_head;
    const double *shares = key ? a->r->k_r : a->r->q_r;
    int *rank = a->rank + (key ? (size_t)c->n_layer * c->n_head + (size_t)layer * heads
                               : (size_t)layer * heads);
    for (int h = 0; h < heads; h++) {
        int R = ss_compress_kept_rank(shares + ((size_t)layer * heads + h) * (dh + 1), dh,
                                      a->thre, NULL);
        rank[h] = R <= rank_thre && R < dh ? R : 0;
        a->compressed += rank[h] > 0;
    }
}

int ss_lowrank_replaced(const ss_lowrank_applied *a, int layer, int key)
{
    int heads = key ? a->m->cfg.n_kv_head : a->m->cfg.n_head;
    for (int h = 0; h < heads; h++)
        if (ss_lowrank_rank(a, layer, h, key))
            return 1;
    return 0;
}

ss_code ss_lowrank_matrix(const ss_lowrank_applied *a, int layer, int key, float **out,
                          ss_error *err)
{
    const ss_model *m = a->m;
    const ss_config *c = &m->cfg;
    int heads = key ? c->n_kv_head : c->n_head, dh = c->d_head, d = c->d_model;
    const double *shares = key ? a->r->k_r : a->r->q_r;
    /* the source's weights: after ss_lowrank_apply bound a replacement, orig */
    const ss_tensor *t = a->orig && a->orig[2 * layer + key] ? a->orig[2 * layer + key]
                         : key                               ? m->layers[layer].wk
                                                             : m->layers[layer].wq;
    int keep[SS_ROPE_MAX_FREQ * 2 + 1];
    float *data = ss_calloc((size_t)heads * dh * d, sizeof *data, "low-rank weight", err);
    *out = NULL;
    if (!data)
        return SS_ERR_NOMEM;
    ss_code rc = SS_OK;
    for (int h = 0; !rc && h < heads; h++) {
        float *rows = data + (size_t)h * dh * d;
        int R = ss_lowrank_rank(a, layer, h, key);
        if (!R) {
            ss_weight_rows_f32(t, (int64_t)h * dh, dh, rows);
            continue;
        }
        ss_compress_kept_rank(shares + ((size_t)layer * heads + h) * (dh + 1), dh, a->thre, keep);
        rc = reconstruct(m, a->svds, layer, h, key, keep, R, rows, err);
    }
    if (rc)
        free(data);
    else
        *out = data;
    return rc;
}

ss_code ss_lowrank_plan(ss_model *m, const ss_compress_result *r, double thre, int rank_thre,
                        ss_lowrank_applied *out, ss_error *err)
{
    memset(out, 0, sizeof *out);
    const ss_config *c = &m->cfg;
    if (r->n_layer != c->n_layer || r->n_head != c->n_head || r->n_kv_head != c->n_kv_head ||
        r->d_head != c->d_head)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "the low-rank plan is for %d layers x %d/%d "
                       "heads of %d, the model %s has %d x %d/%d of %d", r->n_layer, r->n_head,
                       r->n_kv_head, r->d_head, m->path, c->n_layer, c->n_head, c->n_kv_head,
                       c->d_head);
    out->m = m;
    out->r = r;
    out->thre = thre;
    out->rank = ss_calloc((size_t)c->n_layer * (c->n_head + c->n_kv_head), sizeof *out->rank,
                          "low-rank plan", err);
    if (!out->rank) {
        memset(out, 0, sizeof *out);
        return SS_ERR_NOMEM;
    }
    for (int l = 0; l < c->n_layer; l++)
        for (int key = 0; key < 2; key++)
            plan_matrix(out, l, key, rank_thre);
    return SS_OK;
}

/* A planned matrix built and bound in the model in place of its tensor. */
static ss_code bind_matrix(ss_lowrank_applied *a, int layer, int key, ss_error *err)
{
    const ss_config *c = &a->m->cfg;
    int heads = key ? c->n_kv_head : c->n_head;
    ss_layer_weights *lw = &a->m->layers[layer];
    const ss_tensor *t = key ? lw->wk : lw->wq;
    ss_tensor *out = &a->repl[2 * layer + key];
    float *data;
    ss_code rc = ss_lowrank_matrix(a, layer, key, &data, err);
    if (rc)
        return rc;
    *out = *t;
    out->dtype = SS_DT_F32;
    out->data = data;
    out->nbytes = (uint64_t)heads * c->d_head * c->d_model * sizeof *data;
    a->orig[2 * layer + key] = t;
    if (key)
        lw->wk = out;
    else
        lw->wq = out;
    return SS_OK;
}

ss_code ss_lowrank_apply(ss_model *m, const ss_compress_result *r, double thre, int rank_thre,
                         ss_lowrank_applied *out, ss_error *err)
{
    return ss_lowrank_apply_svds(m, r, thre, rank_thre, NULL, out, err);
}

ss_code ss_lowrank_apply_svds(ss_model *m, const ss_compress_result *r, double thre,
                              int rank_thre, ss_lowrank_svds *svds, ss_lowrank_applied *out,
                              ss_error *err)
{
    ss_code rc = ss_lowrank_plan(m, r, thre, rank_thre, out, err);
    if (rc)
        return rc;
    out->svds = svds;
    const ss_config *c = &m->cfg;
    out->orig = ss_calloc(2 * (size_t)c->n_layer, sizeof *out->orig, "low-rank plan", err);
    out->repl = ss_calloc(2 * (size_t)c->n_layer, sizeof *out->repl, "low-rank plan", err);
    rc = out->orig && out->repl ? SS_OK : SS_ERR_NOMEM;
    for (int l = 0; !rc && l < c->n_layer; l++)
        for (int key = 0; !rc && key < 2; key++)
            if (ss_lowrank_replaced(out, l, key))
                rc = bind_matrix(out, l, key, err);
    if (rc)
        ss_lowrank_restore(out);
    return rc;
}

void ss_lowrank_restore(ss_lowrank_applied *a)
{
    if (!a->m) {
        memset(a, 0, sizeof *a);
        return;
    }
    for (int l = 0; a->orig && l < a->m->cfg.n_layer; l++)
        for (int key = 0; key < 2; key++) {
            if (!a->orig[2 * l + key])
                continue;
            if (key)
                a->m->layers[l].wk = a->orig[2 * l + key];
            else
                a->m->layers[l].wq = a->orig[2 * l + key];
        }
    for (int i = 0; a->repl && i < 2 * a->m->cfg.n_layer; i++)
        free((void *)a->repl[i].data);
    free(a->orig);
    free(a->repl);
    free(a->rank);
    memset(a, 0, sizeof *a);
}

/* energy_*.npy: float64 [L, heads, dh + 1]. */
static ss_code read_shares(const char *dir, const char *name, double **out, int64_t *shape,
                           ss_error *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return ss_fail(err, SS_ERR_USAGE, "%s: path too long", dir);
    ss_npy a;
    ss_code rc = ss_npy_read(path, &a, err);
    if (rc)
        return rc;
    if (a.type != SS_NPY_F64 || a.ndim != 3 || a.shape[2] < 2) {
        ss_npy_free(&a);
        return ss_fail(err, SS_ERR_FORMAT, "%s: expected float64 [layers, heads, d_head + 1] "
                       "energy shares (a compress result)", path);
    }
    memcpy(shape, a.shape, 3 * sizeof *shape);
    *out = a.data;
    return SS_OK;
}

static ss_code read_list(const cJSON *root, const char *path, const char *key, double *v,
                         int *n, int cap, ss_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key);
    *n = 0;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 || cJSON_GetArraySize(arr) > cap)
        return ss_fail(err, SS_ERR_FORMAT, "%s: \"%s\" must be an array of 1 to %d numbers",
                       path, key, cap);
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) {
        if (!cJSON_IsNumber(x))
            return ss_fail(err, SS_ERR_FORMAT, "%s: \"%s\" must hold numbers", path, key);
        v[(*n)++] = x->valuedouble;
    }
    return SS_OK;
}

ss_code ss_compress_plan_read(const char *dir, ss_compress_result *r, double *thre, int *n_thre,
                              int *rank_thre, int *n_rank, int cap, ss_error *err)
{
    memset(r, 0, sizeof *r);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/plan.json", dir) >= (int)sizeof path)
        return ss_fail(err, SS_ERR_USAGE, "%s: path too long", dir);
    cJSON *root = NULL;
    double ranks[64];
    ss_code rc = ss_json_load(path, 1 << 24, &root, err);
    if (!rc)
        rc = read_list(root, path, "thre", thre, n_thre, cap, err);
    if (!rc)
        rc = read_list(root, path, "rank_thre", ranks, n_rank, cap < 64 ? cap : 64, err);
    for (int i = 0; !rc && i < *n_thre; i++)
        if (!(thre[i] >= 0 && thre[i] <= 1))
            rc = ss_fail(err, SS_ERR_FORMAT, "%s: \"thre\"[%d] is %g; expected a share in [0, 1]",
                         path, i, thre[i]);
    for (int i = 0; !rc && i < *n_rank; i++) {
        if (!(ranks[i] >= 0 && ranks[i] <= (1 << 20) && ranks[i] == floor(ranks[i])))
            rc = ss_fail(err, SS_ERR_FORMAT, "%s: \"rank_thre\"[%d] is %g; expected a whole "
                         "number in [0, %d]", path, i, ranks[i], 1 << 20);
        else
            rank_thre[i] = (int)ranks[i];
    }
    cJSON_Delete(root);
    int64_t sq[3], sk[3];
    if (!rc)
        rc = read_shares(dir, "energy_q.npy", &r->q_r, sq, err);
    if (!rc)
        rc = read_shares(dir, "energy_k.npy", &r->k_r, sk, err);
    if (!rc && (sq[0] != sk[0] || sq[2] != sk[2]))
        rc = ss_fail(err, SS_ERR_FORMAT, "%s: energy_q.npy and energy_k.npy disagree on the "
                     "layers or d_head", dir);
    if (rc) {
        ss_compress_result_free(r);
        return rc;
    }
    r->n_layer = (int)sq[0];
    r->n_head = (int)sq[1];
    r->n_kv_head = (int)sk[1];
    r->d_head = (int)sq[2] - 1;
    return SS_OK;
}
