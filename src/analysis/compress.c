#include "analysis/compress.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/lowrank.h"
#include "analysis/rank_obs.h"
#include "common/mem.h"

/* One matrix: its SVD, its bias energy per token and the sums of r_l(H). */
typedef struct {
    double *sigma, *vt; /* [dh], [dh, d] */
    double bias2;       /* ||b||^2 */
    double *sum;        /* [dh + 1] */
} mat_state;

typedef struct {
    const ss_model *m;
    int L, H, K, dh, d;
    mat_state *q, *k; /* [L * H], [L * K] */
    ss_gram g;
    double *e;        /* [dh + 1] scratch */
    int64_t prompts;
} compress_state;

ss_code ss_head_weight_svd(const ss_model *m, int layer, int head, int key, double *sigma,
                           double *vt, double *u, ss_error *err)
{
    const ss_config *c = &m->cfg;
    int dh = c->d_head, d = c->d_model;
    double *w = ss_calloc((size_t)dh * d, sizeof *w, "head weight", err);
    double *uu = ss_calloc((size_t)dh * dh, sizeof *uu, "SVD U", err);
    ss_code rc = w && uu ? ss_head_weight(m, layer, head, key, w, err) : SS_ERR_NOMEM;
    if (!rc && dh > d)
        rc = ss_fail(err, SS_ERR_SHAPE, "%s: d_head %d > d_model %d: no low-rank plan", m->path,
                     dh, d);
    if (!rc) {
        lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', dh, d, w, d, sigma, uu, dh, vt, d);
        if (info)
            rc = ss_fail(err, SS_ERR_VALUE, "%s: layer %d %s head %d: LAPACK dgesdd failed "
                         "(info %d)", m->path, layer, key ? "key" : "query", head, (int)info);
    }
    if (!rc && u)
        memcpy(u, uu, (size_t)dh * dh * sizeof *u);
    free(w);
    free(uu);
    return rc;
}

static ss_code mat_init(mat_state *s, const ss_model *m, int layer, int head, int key,
                        ss_error *err)
{
    const ss_config *c = &m->cfg;
    int dh = c->d_head;
    s->sigma = ss_calloc((size_t)dh, sizeof *s->sigma, "singular values", err);
    s->vt = ss_calloc((size_t)dh * c->d_model, sizeof *s->vt, "singular vectors", err);
    s->sum = ss_calloc((size_t)dh + 1, sizeof *s->sum, "energy sums", err);
    if (!s->sigma || !s->vt || !s->sum)
        return SS_ERR_NOMEM;
    const ss_tensor *b = key ? m->layers[layer].bk : m->layers[layer].bq;
    if (b) {
        float *bb = ss_calloc((size_t)dh, sizeof *bb, "bias", err);
        if (!bb)
            return SS_ERR_NOMEM;
        ss_weight_elems_f32(b, (int64_t)head * dh, dh, bb);
        for (int i = 0; i < dh; i++)
            s->bias2 += (double)bb[i] * bb[i];
        free(bb);
    }
    return ss_head_weight_svd(m, layer, head, key, s->sigma, s->vt, NULL, err);
}

static void mat_free(mat_state *s)
{
    free(s->sigma);
    free(s->vt);
    free(s->sum);
}

/* v^T G v from the upper triangle of the Gram matrix. */
static double quad_upper(const double *G, const double *v, int d)
{
    double s = 0;
    for (int i = 0; i < d; i++) {
        const double *row = G + (size_t)i * d;
        double t = 0;
        for (int j = i + 1; j < d; j++)
            t += row[j] * v[j];
        s += v[i] * (row[i] * v[i] + 2 * t);
    }
    return s;
}

/* Adds this prompt's r_l(H) (eq. 18) for one matrix; a prompt with no
 * energy at all (H = 0, no bias) adds nothing. */
static void mat_add(compress_state *st, mat_state *s, int n)
{
    int dh = st->dh, d = st->d;
    double tot = st->e[0] = n * s->bias2;
    for (int l = 0; l < dh; l++) {
        st->e[l + 1] = s->sigma[l] * s->sigma[l] * quad_upper(st->g.gram, s->vt + (size_t)l * d, d);
        if (st->e[l + 1] < 0) /* rounding on a null direction */
            st->e[l + 1] = 0;
        tot += st->e[l + 1];
    }
    if (tot > 0)
        for (int l = 0; l <= dh; l++)
            s->sum[l] += st->e[l] / tot;
}

static ss_code compress_on_layer(void *self, int layer, int n, const float *h, const float *q,
                                 const float *k, ss_error *err)
{
    (void)q;
    (void)k;
    (void)err;
    compress_state *st = self;
    ss_gram_reset(&st->g);
    ss_gram_add_f32(&st->g, h, n, st->d);
    for (int x = 0; x < st->H; x++)
        mat_add(st, &st->q[(size_t)layer * st->H + x], n);
    for (int x = 0; x < st->K; x++)
        mat_add(st, &st->k[(size_t)layer * st->K + x], n);
    /* the hidden states of every layer are all we need: no attention after the last */
    return layer == st->L - 1 ? SS_STOP : SS_OK;
}

static ss_code compress_end_prompt(void *self, ss_error *err)
{
    (void)err;
    ((compress_state *)self)->prompts++;
    return SS_OK;
}

static ss_code fill_means(const mat_state *s, int count, int dh, int64_t prompts, double *dst)
{
    for (int i = 0; i < count; i++)
        for (int l = 0; l <= dh; l++)
            dst[(size_t)i * (dh + 1) + l] = prompts ? s[i].sum[l] / prompts : NAN;
    return SS_OK;
}

static ss_code compress_finish(void *self, void *result, ss_error *err)
{
    compress_state *st = self;
    ss_compress_result *r = result;
    memset(r, 0, sizeof *r);
    const ss_config *c = &st->m->cfg;
    *r = (ss_compress_result){st->L, st->H, st->K, st->dh, st->d, c->has_qkv_bias, st->prompts,
                              NULL, NULL};
    r->q_r = ss_calloc((size_t)st->L * st->H * (st->dh + 1), sizeof *r->q_r, "plan", err);
    r->k_r = ss_calloc((size_t)st->L * st->K * (st->dh + 1), sizeof *r->k_r, "plan", err);
    if (!r->q_r || !r->k_r) {
        ss_compress_result_free(r);
        return SS_ERR_NOMEM;
    }
    fill_means(st->q, st->L * st->H, st->dh, st->prompts, r->q_r);
    fill_means(st->k, st->L * st->K, st->dh, st->prompts, r->k_r);
    return SS_OK;
}

static ss_code compress_merge(void *self, const void *other, ss_error *err)
{
    compress_state *a = self;
    const compress_state *b = other;
    if (a->m != b->m)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "compress: cannot merge plans of two models");
    for (int i = 0; i < a->L * a->H; i++)
        for (int l = 0; l <= a->dh; l++)
            a->q[i].sum[l] += b->q[i].sum[l];
    for (int i = 0; i < a->L * a->K; i++)
        for (int l = 0; l <= a->dh; l++)
            a->k[i].sum[l] += b->k[i].sum[l];
    a->prompts += b->prompts;
    return SS_OK;
}

static void compress_free(void *self)
{
    compress_state *st = self;
    if (!st)
        return;
    for (int i = 0; st->q && i < st->L * st->H; i++)
        mat_free(&st->q[i]);
    for (int i = 0; st->k && i < st->L * st->K; i++)
        mat_free(&st->k[i]);
    free(st->q);
    free(st->k);
    free(st->e);
    ss_gram_free(&st->g);
    free(st);
}

static const ss_analysis_vtable compress_vt = {
    .name = "compress",
    .on_layer = compress_on_layer,
    .end_prompt = compress_end_prompt,
    .finish = compress_finish,
    .merge = compress_merge,
    .free = compress_free,
};

ss_code ss_compress_analysis_new(ss_analysis *an, const ss_model *m, ss_error *err)
{
    const ss_config *c = &m->cfg;
    compress_state *st = ss_calloc(1, sizeof *st, "compress analysis", err);
    an->vt = &compress_vt;
    an->self = st;
    if (!st)
        return SS_ERR_NOMEM;
    *st = (compress_state){.m = m, .L = c->n_layer, .H = c->n_head, .K = c->n_kv_head,
                           .dh = c->d_head, .d = c->d_model};
    st->q = ss_calloc((size_t)st->L * st->H, sizeof *st->q, "plan", err);
    st->k = ss_calloc((size_t)st->L * st->K, sizeof *st->k, "plan", err);
    st->e = ss_calloc((size_t)st->dh + 1, sizeof *st->e, "plan", err);
    ss_code rc = st->q && st->k && st->e ? ss_gram_init(&st->g, st->d, err) : SS_ERR_NOMEM;
    for (int l = 0; !rc && l < st->L; l++) {
        for (int x = 0; !rc && x < st->H; x++)
            rc = mat_init(&st->q[(size_t)l * st->H + x], m, l, x, 0, err);
        for (int x = 0; !rc && x < st->K; x++)
            rc = mat_init(&st->k[(size_t)l * st->K + x], m, l, x, 1, err);
    }
    if (rc) {
        compress_free(st);
        an->self = NULL;
        an->vt = NULL;
    }
    return rc;
}

void ss_compress_result_free(ss_compress_result *r)
{
    if (!r)
        return;
    free(r->q_r);
    free(r->k_r);
    memset(r, 0, sizeof *r);
}

int ss_compress_kept_rank(const double *r, int dh, double thre, int *keep)
{
    /* selection by decreasing share, ties to the larger singular value */
    int order[SS_ROPE_MAX_FREQ * 2 + 1];
    int used[SS_ROPE_MAX_FREQ * 2 + 1] = {0};
    double cum = r[0];
    int R = 0;
    while (R < dh && !(cum > thre)) {
        int best = 0;
        for (int l = 1; l <= dh; l++)
            if (!used[l] && (!best || r[l] > r[best]))
                best = l;
        used[best] = 1;
        order[R++] = best;
        cum += r[best];
    }
    if (keep) {
        /* complete the order so that a caller asking for R directions gets them */
        memcpy(keep, order, (size_t)R * sizeof *keep);
    }
    return R;
}

static void count_matrices(const double *rr, int count, int dh, int d, double thre,
                           int rank_thre, int64_t *kept, int *compressed)
{
    for (int i = 0; i < count; i++) {
        int R = ss_compress_kept_rank(rr + (size_t)i * (dh + 1), dh, thre, NULL);
        if (R <= rank_thre && R < dh) {
            *kept += (int64_t)R * (dh + d);
            (*compressed)++;
        } else {
            *kept += (int64_t)dh * d;
        }
    }
}

ss_compress_summary ss_compress_summarize(const ss_compress_result *r, double thre,
                                          int rank_thre)
{
    ss_compress_summary s = {thre, rank_thre, 0, 0, 0, 0, 0};
    int64_t per = (int64_t)r->d_head * r->d_model;
    s.params_total = per * r->n_layer * (r->n_head + r->n_kv_head);
    count_matrices(r->q_r, r->n_layer * r->n_head, r->d_head, r->d_model, thre, rank_thre,
                   &s.params_kept, &s.compressed_q);
    count_matrices(r->k_r, r->n_layer * r->n_kv_head, r->d_head, r->d_model, thre, rank_thre,
                   &s.params_kept, &s.compressed_k);
    s.saved_share = s.params_total ? (double)(s.params_total - s.params_kept) / s.params_total : 0;
    return s;
}
