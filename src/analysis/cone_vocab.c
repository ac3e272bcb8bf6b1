#include "analysis/cone_vocab.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/inp.h"
#include "analysis/lowrank.h"
#include "analysis/ood.h"
#include "analysis/rank_obs.h"
#include "common/mem.h"
#include "engine/forward.h"

void ss_gaussian_vector(uint64_t seed, double *v, int d)
{
    uint64_t s = seed;
    for (int i = 0; i < d; i += 2) {
        /* Box-Muller from two uniforms in (0, 1] (53-bit) */
        double u1 = ((ss_splitmix64_next(&s) >> 11) + 1.0) / 9007199254740992.0;
        double u2 = ((ss_splitmix64_next(&s) >> 11) + 1.0) / 9007199254740992.0;
        double z0, z1;
        ss_box_muller(u1, u2, &z0, &z1);
        v[i] = z0;
        if (i + 1 < d)
            v[i + 1] = z1;
    }
}

typedef struct {
    const ss_model *m;
    const ss_cone_opts *o;
    ss_cone_report *out;
    int H, K, dh, d, D;
    double *sig, *v;      /* [(H + K) * dh], [(H + K) * dh * d]: queries first */
    ss_cone_acc *acc;     /* [H + K] */
    ss_gram *gram;        /* [H + K] */
    double *vr;           /* [d] random direction */
    ss_moments rmom;
    double *hd;           /* [chunk, d] */
    float *tail, *tail2;  /* [K, D, dh]: the last D key rows before the chunk, newest first */
    int64_t base;
    ss_inp_table table;
    ss_moments *qk_norm;  /* [H + K] moments of ||q|| / ||k|| as observed */
    int captured;
    ss_error err;
} cone_run;

/* Key row j (global index) of key head kv while the chunk [base, base + n)
 * is in hand. */
static const float *key_row(const cone_run *r, const float *k, int kv, int64_t j)
{
    int64_t kd = (int64_t)r->K * r->dh;
    if (j >= r->base)
        return k + (j - r->base) * kd + (int64_t)kv * r->dh;
    return r->tail + ((int64_t)kv * r->D + (r->base - j - 1)) * r->dh;
}

static void alignment(cone_run *r, int n, const float *q, const float *k)
{
    ss_cone_report *o = r->out;
    int64_t qd = (int64_t)r->H * r->dh;
    double scale = r->m->cfg.attn_scale;
    for (int c = 0; c < o->n_cs; c++) {
        int hq = o->cs_heads[c], kv = hq / (r->H / r->K);
        for (int i = 0; i < n; i++) {
            int64_t t = r->base + i;
            const float *qi = q + (int64_t)i * qd + (int64_t)hq * r->dh;
            for (int dl = 0; dl <= o->max_delta && dl <= t; dl++) {
                double lg, bound;
                /* only the offset matters to the rotation: positions dl and 0 */
                double ratio = ss_cs_ratio(&r->table, qi, key_row(r, k, kv, t - dl), dl, 0,
                                           scale, &lg, &bound);
                if (isnan(ratio))
                    continue;
                size_t x = (size_t)c * (o->max_delta + 1) + dl;
                o->cs_mean[x] += ratio;
                o->cs_logit[x] += lg;
                o->cs_bound[x] += bound;
                o->cs_min[x] = fmin(o->cs_min[x], ratio);
                o->cs_max[x] = fmax(o->cs_max[x], ratio);
                o->cs_n[x]++;
            }
        }
    }
    /* keep the newest D key rows for the next chunk */
    for (int kv = 0; kv < r->K; kv++)
        for (int s = 0; s < r->D; s++) {
            int64_t j = r->base + n - 1 - s;
            float *dst = r->tail2 + ((int64_t)kv * r->D + s) * r->dh;
            if (j < 0)
                memset(dst, 0, (size_t)r->dh * sizeof *dst);
            else
                memcpy(dst, key_row(r, k, kv, j), (size_t)r->dh * sizeof *dst);
        }
    float *t = r->tail;
    r->tail = r->tail2;
    r->tail2 = t;
}

static ss_code on_layer(void *ctx, int layer, int n, const float *h, const float *q,
                        const float *k, ss_error *err)
{
    cone_run *r = ctx;
    if (layer != 0)
        return ss_fail(err, SS_ERR_USAGE, "cone: layer %d seen, only layer 0 expected", layer);
    int H = r->H, K = r->K, dh = r->dh, d = r->d;
    for (int64_t i = 0; i < (int64_t)n * d; i++)
        r->hd[i] = h[i];
    /* BLAS single-threaded inside each task (see rank_obs.c) */
    #pragma omp parallel for schedule(dynamic, 1)
    for (int x = 0; x < H + K; x++) {
        int key = x >= H, idx = key ? x - H : x;
        ss_cone_acc_add(&r->acc[x], r->hd, n, d);
        ss_gram_add_f32(&r->gram[x], (key ? k : q) + (int64_t)idx * dh, n,
                        (int64_t)(key ? K : H) * dh);
        for (int i = 0; i < n; i++) {
            const float *v = (key ? k : q) + (int64_t)i * (key ? K : H) * dh + (int64_t)idx * dh;
            double s2 = 0;
            for (int j = 0; j < dh; j++)
                s2 += (double)v[j] * v[j];
            ss_moments_add(&r->qk_norm[x], sqrt(s2));
        }
    }
    ss_cone_project_moments(r->vr, r->hd, n, d, d, &r->rmom);
    alignment(r, n, q, k);
    r->base += n;
    r->captured = 1;
    return SS_STOP; /* nothing after layer 0's projections is needed */
}

static ss_code bias_norm(const ss_tensor *b, int head, int dh, double *out, ss_error *err)
{
    *out = 0;
    if (!b)
        return SS_OK;
    float *buf = ss_calloc((size_t)dh, sizeof *buf, "bias", err);
    if (!buf)
        return SS_ERR_NOMEM;
    ss_weight_elems_f32(b, (int64_t)head * dh, dh, buf);
    double s = 0;
    for (int i = 0; i < dh; i++)
        s += (double)buf[i] * buf[i];
    free(buf);
    *out = sqrt(s);
    return SS_OK;
}

static void run_free(cone_run *r)
{
    for (int x = 0; r->acc && x < r->H + r->K; x++)
        ss_cone_acc_free(&r->acc[x]);
    for (int x = 0; r->gram && x < r->H + r->K; x++)
        ss_gram_free(&r->gram[x]);
    free(r->sig); free(r->v); free(r->acc); free(r->gram); free(r->vr); free(r->hd);
    free(r->tail); free(r->tail2); free(r->qk_norm);
    ss_inp_table_free(&r->table);
}

static ss_code report_alloc(ss_cone_report *o, const ss_config *c, const ss_cone_opts *opt,
                            ss_error *err)
{
    memset(o, 0, sizeof *o);
    o->n_head = c->n_head;
    o->n_kv_head = c->n_kv_head;
    o->vocab = c->vocab;
    o->max_delta = opt->max_delta;
    o->n_cs = opt->n_cs;
    size_t S = (size_t)(opt->n_cs > 0 ? opt->n_cs : 1) * ((size_t)opt->max_delta + 1);
    if (!(o->q = ss_calloc((size_t)c->n_head, sizeof *o->q, "cone report", err)) ||
        !(o->k = ss_calloc((size_t)c->n_kv_head, sizeof *o->k, "cone report", err)) ||
        !(o->cs_mean = ss_calloc(S, sizeof(double), "alignment", err)) ||
        !(o->cs_min = ss_calloc(S, sizeof(double), "alignment", err)) ||
        !(o->cs_max = ss_calloc(S, sizeof(double), "alignment", err)) ||
        !(o->cs_logit = ss_calloc(S, sizeof(double), "alignment", err)) ||
        !(o->cs_bound = ss_calloc(S, sizeof(double), "alignment", err)) ||
        !(o->cs_n = ss_calloc(S, sizeof(int64_t), "alignment", err)) ||
        !(o->cs_heads = ss_calloc((size_t)(opt->n_cs > 0 ? opt->n_cs : 1), sizeof(int),
                                  "alignment heads", err)))
        return SS_ERR_NOMEM;
    for (size_t i = 0; i < S; i++) {
        o->cs_min[i] = INFINITY;
        o->cs_max[i] = -INFINITY;
    }
    for (int i = 0; i < opt->n_cs; i++) {
        if (opt->cs_heads[i] < 0 || opt->cs_heads[i] >= c->n_head)
            return ss_fail(err, SS_ERR_USAGE, "cone: head L0H%d is not in the model (%d heads)",
                           opt->cs_heads[i], c->n_head);
        o->cs_heads[i] = opt->cs_heads[i];
    }
    return SS_OK;
}

static ss_code run_alloc(cone_run *r, int chunk, ss_error *err)
{
    size_t H = (size_t)r->H, K = (size_t)r->K, dh = (size_t)r->dh, d = (size_t)r->d;
    size_t D = (size_t)r->D;
    if (!(r->sig = ss_calloc((H + K) * dh, sizeof(double), "singular values", err)) ||
        !(r->v = ss_calloc((H + K) * dh * d, sizeof(double), "singular vectors", err)) ||
        !(r->acc = ss_calloc(H + K, sizeof(ss_cone_acc), "cone sums", err)) ||
        !(r->gram = ss_calloc(H + K, sizeof(ss_gram), "Gram matrices", err)) ||
        !(r->vr = ss_calloc(d, sizeof(double), "random direction", err)) ||
        !(r->qk_norm = ss_calloc(H + K, sizeof(ss_moments), "norm moments", err)) ||
        !(r->hd = ss_calloc((size_t)chunk * d, sizeof(double), "hidden states", err)) ||
        !(r->tail = ss_calloc(K * (D ? D : 1) * dh, sizeof(float), "key tail", err)) ||
        !(r->tail2 = ss_calloc(K * (D ? D : 1) * dh, sizeof(float), "key tail", err)))
        return SS_ERR_NOMEM;
    return SS_OK;
}

/* SVD of every head's W^T and the accumulators that use it; one task per
 * head so LAPACK runs single-threaded inside each (see rank_obs.c). */
static ss_code prepare_heads(cone_run *r, ss_error *err)
{
    size_t dh = (size_t)r->dh, d = (size_t)r->d;
    int failed = 0;
    #pragma omp parallel for schedule(dynamic, 1) reduction(| : failed)
    for (int x = 0; x < r->H + r->K; x++) {
        int key = x >= r->H, idx = key ? x - r->H : x;
        double *sig = r->sig + (size_t)x * dh, *v = r->v + (size_t)x * dh * d;
        ss_error e = {0};
        double *wt = ss_calloc(dh * d, sizeof *wt, "head weight", &e);
        ss_cone_side *side = key ? &r->out->k[idx] : &r->out->q[idx];
        const ss_layer_weights *lw = &r->m->layers[0];
        if (!wt || ss_head_weight(r->m, 0, idx, key, wt, &e) ||
            ss_cone_svd(wt, r->dh, r->d, sig, v, &e) ||
            ss_cone_acc_init(&r->acc[x], sig, v, r->dh, r->d, r->o->tau, &e) ||
            ss_gram_init(&r->gram[x], r->dh, &e) ||
            bias_norm(key ? lw->bk : lw->bq, idx, r->dh, &side->bias_norm, &e)) {
            failed = 1;
            #pragma omp critical(ss_cone_err)
            ss_fail(err, e.code, "%s", e.msg);
        } else {
            side->sigma1 = sig[0];
        }
        free(wt);
    }
    return failed ? err->code : SS_OK;
}

/* The vocabulary as a prompt source: token t at position t, in chunks. */
typedef struct {
    int32_t *ids;
    int64_t next, vocab;
    int chunk;
} vocab_chunks;

static ss_code next_chunk(void *ctx, const int32_t **ids, int *n, ss_error *err)
{
    (void)err;
    vocab_chunks *v = ctx;
    int64_t left = v->vocab - v->next;
    *n = (int)(left < v->chunk ? left : v->chunk);
    for (int i = 0; i < *n; i++)
        v->ids[i] = (int32_t)(v->next + i);
    v->next += *n;
    *ids = v->ids;
    return SS_OK;
}

static ss_code cone_begin(void *self, const int32_t *ids, int n, ss_error *err)
{
    (void)ids; (void)n; (void)err;
    ((cone_run *)self)->captured = 0;
    return SS_OK;
}

/* on_layer stops every pass right after layer 0's projections (SS_STOP). */
static ss_code cone_end_prompt(void *self, ss_error *err)
{
    return ((cone_run *)self)->captured
               ? SS_OK
               : ss_fail(err, SS_ERR_USAGE, "cone: the forward pass skipped layer 0");
}

static const ss_analysis_vtable cone_vt = {
    .name = "cone", .begin = cone_begin, .on_layer = on_layer, .end_prompt = cone_end_prompt,
};

static ss_code run_vocab(cone_run *r, int chunk, ss_error *err)
{
    vocab_chunks v = {.vocab = r->m->cfg.vocab, .chunk = chunk};
    if (!(v.ids = ss_calloc((size_t)chunk, sizeof *v.ids, "token ids", err)))
        return SS_ERR_NOMEM;
    ss_prompt_source src = {.ctx = &v, .next = next_chunk,
                            .total = (v.vocab + chunk - 1) / chunk};
    ss_analysis an = {&cone_vt, r};
    ss_analysis_opts o = {.allow_long = 1};
    ss_code rc = ss_analysis_run(r->m, &src, (ss_analysis *[]){&an}, 1, NULL, &o, NULL, err);
    free(v.ids);
    return rc;
}

static void finish(cone_run *r, double *sv2)
{
    ss_cone_report *o = r->out;
    for (int x = 0; x < r->H + r->K; x++) {
        int key = x >= r->H, idx = key ? x - r->H : x;
        ss_cone_side *side = key ? &o->k[idx] : &o->q[idx];
        ss_cone_acc_result(&r->acc[x], &side->w);
        side->norm_rv_proj = ss_moments_rv(&r->acc[x].norm);
        side->norm_rv = ss_moments_rv(&r->qk_norm[x]);
        ss_error e = {0};
        double rr[SS_ROPE_MAX_FREQ * 2];
        if (ss_gram_sv2(&r->gram[x], sv2, &e) == SS_OK) {
            /* NaN for a zeroed head (ss_lowrank_R): left out of the averages */
            side->R = ss_lowrank_R(sv2, r->dh, r->o->tau, rr);
            side->r1 = rr[0];
        } else {
            side->R = side->r1 = NAN;
        }
    }
    o->rv_random = ss_moments_rv(&r->rmom);
    size_t S = (size_t)o->n_cs * (o->max_delta + 1);
    for (size_t i = 0; i < S; i++) {
        double n = (double)o->cs_n[i];
        o->cs_mean[i] = n > 0 ? o->cs_mean[i] / n : NAN;
        o->cs_logit[i] = n > 0 ? o->cs_logit[i] / n : NAN;
        o->cs_bound[i] = n > 0 ? o->cs_bound[i] / n : NAN;
        if (!(n > 0))
            o->cs_min[i] = o->cs_max[i] = NAN;
    }
}

ss_code ss_cone_vocab(const ss_model *m, const ss_cone_opts *o, ss_cone_report *out,
                      ss_error *err)
{
    const ss_config *c = &m->cfg;
    if (c->d_head > c->d_model || c->d_head > 2 * SS_ROPE_MAX_FREQ)
        return ss_fail(err, SS_ERR_UNSUPPORTED, "cone: d_head %d above d_model %d is not "
                       "supported (W_Q would have more columns than rows)", c->d_head,
                       c->d_model);
    if (!(o->tau >= 0 && o->tau <= 1) || o->max_delta < 0 || o->n_cs < 0)
        return ss_fail(err, SS_ERR_USAGE, "cone: tau %g (0..1), max offset %d (>= 0)", o->tau,
                       o->max_delta);
    int chunk = o->chunk > 0 ? o->chunk : 2048;
    if (chunk > c->vocab)
        chunk = c->vocab;
    cone_run r = {.m = m, .o = o, .out = out, .H = c->n_head, .K = c->n_kv_head,
                  .dh = c->d_head, .d = c->d_model, .D = o->max_delta};
    double *sv2 = NULL;
    ss_code rc = report_alloc(out, c, o, err);
    if (!rc)
        rc = run_alloc(&r, chunk, err);
    if (!rc)
        rc = ss_inp_table_init(&r.table, ss_layer_rope(m, 0), o->max_delta + 1, err);
    if (!rc)
        rc = prepare_heads(&r, err);
    if (!rc) {
        ss_gaussian_vector(o->seed, r.vr, r.d);
        rc = run_vocab(&r, chunk, err);
    }
    if (!rc && !(sv2 = ss_calloc((size_t)c->d_head, sizeof *sv2, "singular values", err)))
        rc = SS_ERR_NOMEM;
    if (!rc)
        finish(&r, sv2);
    free(sv2);
    run_free(&r);
    if (rc)
        ss_cone_report_free(out);
    return rc;
}

void ss_cone_report_free(ss_cone_report *r)
{
    free(r->q); free(r->k); free(r->cs_mean); free(r->cs_min); free(r->cs_max);
    free(r->cs_logit); free(r->cs_bound); free(r->cs_n); free(r->cs_heads);
    memset(r, 0, sizeof *r);
}

const char *const SS_CONE_SIDE_COLS[SS_CONE_N_SIDE] = {
    "r1_tilde", "R_tilde", "r1", "R", "dominant_l", "dominant_share", "rv_dominant",
    "proj_norm_mean", "bias_norm", "sigma1", "norm_rv_proj", "norm_rv"};

void ss_cone_side_values(const ss_cone_side *s, double *v)
{
    v[0] = s->w.r1_tilde;
    v[1] = s->w.R_tilde;
    v[2] = s->r1;
    v[3] = s->R;
    v[4] = s->w.dominant >= 0 ? s->w.dominant + 1 : NAN;
    v[5] = s->w.dominant_share;
    v[6] = s->w.rv_dominant;
    v[7] = s->w.proj_norm_mean;
    v[8] = s->bias_norm;
    v[9] = s->sigma1;
    v[10] = s->norm_rv_proj;
    v[11] = s->norm_rv;
}
