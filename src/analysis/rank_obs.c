#include "analysis/rank_obs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/rank_result.h"
#include "common/mem.h"

ss_code ss_rank_acc_init(ss_rank_acc *a, const ss_config *c, const double *tau, int n_tau,
                         ss_error *err)
{
    memset(a, 0, sizeof *a);
    if (n_tau < 1 || n_tau > SS_RANK_MAX_TAU)
        return ss_fail(err, SS_ERR_USAGE, "rank: %d thresholds tau; expected 1..%d", n_tau,
                       SS_RANK_MAX_TAU);
    for (int t = 0; t < n_tau; t++)
        if (!(tau[t] >= 0 && tau[t] <= 1))
            return ss_fail(err, SS_ERR_USAGE, "rank: tau %g is outside [0, 1]", tau[t]);
    a->n_layer = c->n_layer;
    a->n_head = c->n_head;
    a->n_kv_head = c->n_kv_head;
    a->d_head = c->d_head;
    a->d_model = c->d_model;
    a->n_tau = n_tau;
    memcpy(a->tau, tau, (size_t)n_tau * sizeof *tau);
    size_t L = (size_t)c->n_layer, H = (size_t)c->n_head, K = (size_t)c->n_kv_head;
    size_t dh = (size_t)c->d_head, d = (size_t)c->d_model, T = (size_t)n_tau;
    ss_code rc = SS_OK;
    if (!(a->q_r = ss_calloc(L * H * dh, sizeof(double), "rank sums", err)) ||
        !(a->q_R = ss_calloc(L * H * T, sizeof(double), "rank sums", err)) ||
        !(a->k_r = ss_calloc(L * K * dh, sizeof(double), "rank sums", err)) ||
        !(a->k_R = ss_calloc(L * K * T, sizeof(double), "rank sums", err)) ||
        !(a->h_r = ss_calloc(L * d, sizeof(double), "rank sums", err)) ||
        !(a->h_R = ss_calloc(L * T, sizeof(double), "rank sums", err)) ||
        !(a->q_cnt = ss_calloc(L * H, sizeof(int64_t), "rank counts", err)) ||
        !(a->k_cnt = ss_calloc(L * K, sizeof(int64_t), "rank counts", err)) ||
        !(a->h_cnt = ss_calloc(L, sizeof(int64_t), "rank counts", err)) ||
        !(a->q_norm = ss_calloc(L * H, sizeof(ss_moments), "norm moments", err)) ||
        !(a->k_norm = ss_calloc(L * K, sizeof(ss_moments), "norm moments", err)) ||
        !(a->gq = ss_calloc(H, sizeof(ss_gram), "query Gram matrices", err)) ||
        !(a->gk = ss_calloc(K, sizeof(ss_gram), "key Gram matrices", err)) ||
        !(a->sv2 = ss_calloc((H + K) * dh + d, sizeof(double), "singular values", err)) ||
        !(a->layer_done = ss_calloc(L, 1, "layer flags", err)))
        rc = SS_ERR_NOMEM;
    for (size_t x = 0; !rc && x < H; x++)
        rc = ss_gram_init(&a->gq[x], c->d_head, err);
    for (size_t x = 0; !rc && x < K; x++)
        rc = ss_gram_init(&a->gk[x], c->d_head, err);
    if (!rc)
        rc = ss_gram_init(&a->gh, c->d_model, err);
    if (rc)
        ss_rank_acc_free(a);
    return rc;
}

void ss_rank_acc_free(ss_rank_acc *a)
{
    for (int x = 0; a->gq && x < a->n_head; x++)
        ss_gram_free(&a->gq[x]);
    for (int x = 0; a->gk && x < a->n_kv_head; x++)
        ss_gram_free(&a->gk[x]);
    ss_gram_free(&a->gh);
    free(a->q_r); free(a->q_R); free(a->k_r); free(a->k_R); free(a->h_r); free(a->h_R);
    free(a->q_cnt); free(a->k_cnt); free(a->h_cnt); free(a->q_norm); free(a->k_norm);
    free(a->gq); free(a->gk); free(a->sv2); free(a->layer_done);
    memset(a, 0, sizeof *a);
}

/* Adds one prompt's spectrum of a Gram matrix to the sums (r [m], R [n_tau]). */
static ss_code add_spectrum(const ss_rank_acc *a, const ss_gram *g, double *sv2, double *r_sum,
                            double *R_sum, int64_t *cnt, ss_error *err)
{
    ss_code rc = ss_gram_sv2(g, sv2, err);
    if (rc)
        return rc;
    int m = g->d;
    double R[SS_RANK_MAX_TAU] = {0};
    for (int t = 0; t < a->n_tau; t++)
        R[t] = ss_lowrank_R(sv2, m, a->tau[t], NULL);
    if (isnan(R[0])) /* an all-zero matrix has no spectrum: not counted (n_tau >= 1) */
        return SS_OK;
    double total = 0;
    for (int l = 0; l < m; l++)
        total += sv2[l];
    for (int l = 0; l < m; l++)
        r_sum[l] += sv2[l] / total;
    for (int t = 0; t < a->n_tau; t++)
        R_sum[t] += R[t];
    (*cnt)++;
    return SS_OK;
}

static double row_norm(const float *x, int d)
{
    double s = 0;
    for (int i = 0; i < d; i++)
        s += (double)x[i] * x[i];
    return sqrt(s);
}

ss_code ss_rank_acc_on_layer(void *ctx, int layer, int n, const float *h, const float *q,
                             const float *k, ss_error *err)
{
    ss_rank_acc *a = ctx;
    int H = a->n_head, K = a->n_kv_head, dh = a->d_head, T = a->n_tau;
    int64_t qd = (int64_t)H * dh, kd = (int64_t)K * dh;
    if (layer < 0 || layer >= a->n_layer)
        return ss_fail(err, SS_ERR_USAGE, "rank: layer %d outside 0..%d", layer,
                       a->n_layer - 1);
    /* One task per query head, per key head and for the hidden states, all
     * in one parallel region: BLAS and LAPACK then run single-threaded inside
     * each task. Called from outside a region they would split every small
     * dsyrk and each of dsyevd's many level-2 steps over threads, and on a
     * busy machine each of those joins costs milliseconds (measured: 4 s per
     * SmolLM2-sized layer instead of 0.1 s). */
    int failed = 0;
    /* A wide model's H (d >= 1024) is worth BLAS's own threads: its Gram and
     * eigenproblem go first, outside the region, and the heads follow. */
    int h_apart = a->d_model >= 1024;
    if (h_apart) {
        ss_gram_reset(&a->gh);
        ss_gram_add_f32(&a->gh, h, n, a->d_model);
        if (add_spectrum(a, &a->gh, a->sv2 + (size_t)(H + K) * dh,
                         a->h_r + (size_t)layer * a->d_model, a->h_R + (size_t)layer * T,
                         &a->h_cnt[layer], err))
            return err->code;
    }
    #pragma omp parallel for schedule(dynamic, 1) reduction(| : failed)
    for (int x = h_apart; x <= H + K; x++) {
        ss_error e = {0};
        if (x == 0) { /* the hidden states, the largest task, first */
            ss_gram_reset(&a->gh);
            ss_gram_add_f32(&a->gh, h, n, a->d_model);
            if (add_spectrum(a, &a->gh, a->sv2 + (size_t)(H + K) * dh,
                             a->h_r + (size_t)layer * a->d_model, a->h_R + (size_t)layer * T,
                             &a->h_cnt[layer], &e)) {
                failed = 1;
                #pragma omp critical(ss_rank_err)
                ss_fail(err, e.code, "%s", e.msg);
            }
            continue;
        }
        int key = x > H, idx = key ? x - 1 - H : x - 1;
        const float *src = (key ? k : q) + (int64_t)idx * dh;
        int64_t ld = key ? kd : qd;
        ss_gram *g = key ? &a->gk[idx] : &a->gq[idx];
        size_t slot = (size_t)layer * (key ? K : H) + idx;
        ss_gram_reset(g);
        ss_gram_add_f32(g, src, n, ld);
        if (add_spectrum(a, g, a->sv2 + (size_t)(x - 1) * dh,
                         (key ? a->k_r : a->q_r) + slot * dh, (key ? a->k_R : a->q_R) + slot * T,
                         (key ? a->k_cnt : a->q_cnt) + slot, &e)) {
            failed = 1;
            #pragma omp critical(ss_rank_err)
            ss_fail(err, e.code, "%s", e.msg);
        }
        ss_moments *mom = (key ? a->k_norm : a->q_norm) + slot;
        for (int i = 0; i < n; i++)
            ss_moments_add(mom, row_norm(src + (int64_t)i * ld, dh));
    }
    a->layer_done[layer] = 1;
    return failed ? err->code : SS_OK;
}

/* The rank analysis: the accumulator and the model whose weights finish
 * decomposes. */
typedef struct {
    ss_rank_acc acc; /* first: the observer hooks take it as their ctx */
    const ss_model *m;
} rank_state;

static ss_code rank_end_prompt(void *self, ss_error *err)
{
    return ss_rank_acc_end_prompt(self, err);
}

static ss_code rank_finish(void *self, void *result, ss_error *err)
{
    const rank_state *s = self;
    return ss_rank_result_make(s->m, &s->acc, result, err);
}

static void add_into(double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] += b[i];
}

ss_code ss_rank_acc_merge(ss_rank_acc *a, const ss_rank_acc *b, ss_error *err)
{
    if (a->n_layer != b->n_layer || a->n_head != b->n_head || a->n_kv_head != b->n_kv_head ||
        a->d_head != b->d_head || a->d_model != b->d_model || a->n_tau != b->n_tau ||
        memcmp(a->tau, b->tau, (size_t)a->n_tau * sizeof *a->tau) != 0)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "rank merge: the two runs differ in the model's "
                       "shape or in the thresholds tau");
    size_t L = (size_t)a->n_layer, H = (size_t)a->n_head, K = (size_t)a->n_kv_head;
    size_t dh = (size_t)a->d_head, T = (size_t)a->n_tau;
    add_into(a->q_r, b->q_r, L * H * dh);
    add_into(a->q_R, b->q_R, L * H * T);
    add_into(a->k_r, b->k_r, L * K * dh);
    add_into(a->k_R, b->k_R, L * K * T);
    add_into(a->h_r, b->h_r, L * (size_t)a->d_model);
    add_into(a->h_R, b->h_R, L * T);
    for (size_t i = 0; i < L * H; i++) {
        a->q_cnt[i] += b->q_cnt[i];
        a->q_norm[i].n += b->q_norm[i].n;
        a->q_norm[i].sum += b->q_norm[i].sum;
        a->q_norm[i].sumsq += b->q_norm[i].sumsq;
    }
    for (size_t i = 0; i < L * K; i++) {
        a->k_cnt[i] += b->k_cnt[i];
        a->k_norm[i].n += b->k_norm[i].n;
        a->k_norm[i].sum += b->k_norm[i].sum;
        a->k_norm[i].sumsq += b->k_norm[i].sumsq;
    }
    for (size_t i = 0; i < L; i++)
        a->h_cnt[i] += b->h_cnt[i];
    a->prompts += b->prompts;
    return SS_OK;
}

static ss_code rank_merge(void *self, const void *other, ss_error *err)
{
    return ss_rank_acc_merge(self, other, err);
}

static void rank_free(void *self)
{
    if (self)
        ss_rank_acc_free(self);
    free(self);
}

static int rank_fields(void *self, ss_state_field *out)
{
    ss_rank_acc *a = &((rank_state *)self)->acc;
    size_t L = (size_t)a->n_layer, H = (size_t)a->n_head, K = (size_t)a->n_kv_head;
    size_t dh = (size_t)a->d_head, T = (size_t)a->n_tau;
    int k = 0;
    SS_STATE_FIELD(out, k, a->q_r, L * H * dh);
    SS_STATE_FIELD(out, k, a->q_R, L * H * T);
    SS_STATE_FIELD(out, k, a->k_r, L * K * dh);
    SS_STATE_FIELD(out, k, a->k_R, L * K * T);
    SS_STATE_FIELD(out, k, a->h_r, L * (size_t)a->d_model);
    SS_STATE_FIELD(out, k, a->h_R, L * T);
    SS_STATE_FIELD(out, k, a->q_cnt, L * H);
    SS_STATE_FIELD(out, k, a->k_cnt, L * K);
    SS_STATE_FIELD(out, k, a->h_cnt, L);
    SS_STATE_FIELD(out, k, a->q_norm, L * H);
    SS_STATE_FIELD(out, k, a->k_norm, L * K);
    SS_STATE_FIELD(out, k, &a->prompts, 1);
    return k;
}

static ss_code rank_fresh(void *self, ss_analysis *out, ss_error *err)
{
    const rank_state *s = self;
    return ss_rank_analysis_new(out, s->m, s->acc.tau, s->acc.n_tau, err);
}

static const ss_analysis_vtable rank_vt = {
    .fields = rank_fields,
    .fresh = rank_fresh,
    .name = "rank",
    .on_layer = ss_rank_acc_on_layer,
    .end_prompt = rank_end_prompt,
    .finish = rank_finish,
    .merge = rank_merge,
    .free = rank_free,
};

ss_code ss_rank_analysis_new(ss_analysis *an, const ss_model *m, const double *tau, int n_tau,
                             ss_error *err)
{
    an->vt = &rank_vt;
    rank_state *s = ss_calloc(1, sizeof *s, "rank", err);
    an->self = s;
    if (!s)
        return SS_ERR_NOMEM;
    s->m = m;
    ss_code rc = ss_rank_acc_init(&s->acc, &m->cfg, tau, n_tau, err);
    if (rc) {
        free(s);
        an->self = NULL;
    }
    return rc;
}

ss_rank_acc *ss_rank_analysis_acc(const ss_analysis *an)
{
    return an->vt == &rank_vt ? &((rank_state *)an->self)->acc : NULL;
}

ss_code ss_rank_acc_end_prompt(ss_rank_acc *a, ss_error *err)
{
    for (int l = 0; l < a->n_layer; l++)
        if (!a->layer_done[l])
            return ss_fail(err, SS_ERR_USAGE, "rank: the prompt ended before layer %d was seen",
                           l);
    memset(a->layer_done, 0, (size_t)a->n_layer);
    a->prompts++;
    return SS_OK;
}

void ss_rank_acc_mean(const ss_rank_acc *a, ss_rank_kind kind, int layer, int idx, double *r,
                      double *R)
{
    int m, T = a->n_tau;
    const double *rs, *Rs;
    int64_t cnt;
    if (kind == SS_RANK_H) {
        m = a->d_model;
        rs = a->h_r + (size_t)layer * m;
        Rs = a->h_R + (size_t)layer * T;
        cnt = a->h_cnt[layer];
    } else {
        int heads = kind == SS_RANK_Q ? a->n_head : a->n_kv_head;
        size_t slot = (size_t)layer * heads + idx;
        m = a->d_head;
        rs = (kind == SS_RANK_Q ? a->q_r : a->k_r) + slot * m;
        Rs = (kind == SS_RANK_Q ? a->q_R : a->k_R) + slot * T;
        cnt = (kind == SS_RANK_Q ? a->q_cnt : a->k_cnt)[slot];
    }
    for (int l = 0; r && l < m; l++)
        r[l] = cnt > 0 ? rs[l] / (double)cnt : NAN;
    for (int t = 0; R && t < T; t++)
        R[t] = cnt > 0 ? Rs[t] / (double)cnt : NAN;
}

ss_code ss_head_weight(const ss_model *m, int layer, int head, int key, double *wt,
                       ss_error *err)
{
    const ss_config *c = &m->cfg;
    int heads = key ? c->n_kv_head : c->n_head;
    if (layer < 0 || layer >= c->n_layer || head < 0 || head >= heads)
        return ss_fail(err, SS_ERR_USAGE, "%s: no %s head L%dH%d (the model has %d layers x %d "
                       "heads)", m->path, key ? "key/value" : "query", layer, head, c->n_layer,
                       heads);
    const ss_tensor *t = key ? m->layers[layer].wk : m->layers[layer].wq;
    if (!t || t->ndim != 2 || t->shape[0] != (int64_t)heads * c->d_head ||
        t->shape[1] != c->d_model)
        return ss_fail(err, SS_ERR_SHAPE, "%s: layer %d %s weight: expected [%d, %d]", m->path,
                       layer, key ? "key" : "query", heads * c->d_head, c->d_model);
    float *rows = ss_calloc((size_t)c->d_head * c->d_model, sizeof *rows, "head weight", err);
    if (!rows)
        return SS_ERR_NOMEM;
    /* the head's d_head output rows; an interleaved checkpoint permutes them
     * within the head, which changes neither singular values nor v_l */
    ss_weight_rows_f32(t, (int64_t)head * c->d_head, c->d_head, rows);
    for (size_t i = 0; i < (size_t)c->d_head * c->d_model; i++)
        wt[i] = rows[i];
    free(rows);
    return SS_OK;
}

ss_code ss_rank_weight(const ss_model *m, int layer, int head, int key, const double *tau,
                       int n_tau, double *r, double *R, ss_error *err)
{
    const ss_config *c = &m->cfg;
    double *wt = ss_calloc((size_t)c->d_head * c->d_model, sizeof *wt, "head weight", err);
    double *sv2 = ss_calloc((size_t)c->d_head, sizeof *sv2, "singular values", err);
    ss_code rc = wt && sv2 ? ss_head_weight(m, layer, head, key, wt, err) : SS_ERR_NOMEM;
    if (!rc)
        rc = ss_lowrank_sv2_dense(wt, c->d_head, c->d_model, c->d_model, sv2, err);
    if (!rc) {
        int m_ = c->d_head < c->d_model ? c->d_head : c->d_model;
        ss_lowrank_R(sv2, m_, tau[0], r);
        for (int t = 0; t < n_tau; t++)
            R[t] = ss_lowrank_R(sv2, m_, tau[t], NULL);
    }
    free(wt);
    free(sv2);
    return rc;
}
