#include "analysis/freq_result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

void ss_freq_result_free(ss_freq_result *r)
{
    void *arrays[] = {r->sel, r->scores, r->inp, r->inp_mean_abs, r->inp_share, r->active,
                      r->n_active, r->cond_ok, r->cond, r->curve, r->cs_pairs, r->cs_mean,
                      r->cs_min, r->cs_max, r->cs_logit_mean, r->cs_bound_mean, r->usage_q,
                      r->usage_k, r->usage_layer_q, r->usage_layer_k, r->theta,
                      r->nope_mean_abs, r->layer_theta};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
    memset(r, 0, sizeof *r);
}

static ss_code alloc(ss_freq_result *r, ss_error *err)
{
    size_t S = r->n_sel > 0 ? (size_t)r->n_sel : 1, F = (size_t)r->n_freq, N = (size_t)r->n;
    size_t V = (size_t)r->n_var, D = (size_t)r->max_delta + 1, L = (size_t)r->n_layer;
    size_t H = (size_t)r->n_head, K = (size_t)r->n_kv_head, rows = (size_t)r->row + 1;
    if (!(r->sel = ss_calloc(S, sizeof *r->sel, "head list", err)) ||
        !(r->scores = ss_calloc(S * V * N, sizeof(double), "slash scores", err)) ||
        !(r->inp = ss_calloc(S * rows * F, sizeof(double), "InP rows", err)) ||
        !(r->inp_mean_abs = ss_calloc(S * F, sizeof(double), "mean |InP|", err)) ||
        !(r->inp_share = ss_calloc(S * F, sizeof(double), "mean |InP|", err)) ||
        !(r->theta = ss_calloc(S * F, sizeof(double), "angles", err)) ||
        !(r->layer_theta = ss_calloc(L * F, sizeof(double), "angles", err)) ||
        !(r->nope_mean_abs = ss_calloc(S, sizeof(double), "position-free logit", err)) ||
        !(r->active = ss_calloc(S * F, 1, "active frequencies", err)) ||
        !(r->n_active = ss_calloc(S, sizeof(int), "active frequencies", err)) ||
        !(r->cond_ok = ss_calloc(S, sizeof(int), "frequency condition", err)) ||
        !(r->cond = ss_calloc(S, sizeof *r->cond, "frequency condition", err)) ||
        !(r->curve = ss_calloc(S * (N + 1), sizeof(double), "cosine sums", err)) ||
        !(r->cs_pairs = ss_calloc(S * D, sizeof(int64_t), "alignment", err)) ||
        !(r->cs_mean = ss_calloc(S * D, sizeof(double), "alignment", err)) ||
        !(r->cs_min = ss_calloc(S * D, sizeof(double), "alignment", err)) ||
        !(r->cs_max = ss_calloc(S * D, sizeof(double), "alignment", err)) ||
        !(r->cs_logit_mean = ss_calloc(S * D, sizeof(double), "alignment", err)) ||
        !(r->cs_bound_mean = ss_calloc(S * D, sizeof(double), "alignment", err)) ||
        !(r->usage_q = ss_calloc(L * H * F, sizeof(double), "frequency usage", err)) ||
        !(r->usage_k = ss_calloc(L * K * F, sizeof(double), "frequency usage", err)) ||
        !(r->usage_layer_q = ss_calloc(L * F, sizeof(double), "frequency usage", err)) ||
        !(r->usage_layer_k = ss_calloc(L * F, sizeof(double), "frequency usage", err)))
        return SS_ERR_NOMEM;
    return SS_OK;
}

/* Active frequencies of slot s, the frequency condition and its curve
 * (from the cosines of the head's schedule: cos [1] for a local layer). */
static void active_set(const ss_freq_acc *a, ss_freq_result *r, int s, const ss_cos_table *cos)
{
    int F = r->n_freq, N = r->n;
    double *m = r->inp_mean_abs + (size_t)s * F, mx = 0;
    unsigned char *act = r->active + (size_t)s * F;
    /* each head's own layer schedule (Gemma 3's local layers differ) */
    const ss_rope *rope = ss_freq_acc_layer_rope(a, a->sel[s].layer);
    const ss_cos_table *tab = &cos[rope != &a->rope];
    ss_freq_acc_inp_mean_abs(a, s, m);
    /* a frequency the run leaves unrotated carries no position: not active */
    for (int f = 0; f < F; f++) {
        r->theta[(size_t)s * F + f] = rope->theta[f];
        if (!rope->active[f])
            m[f] = 0;
    }
    r->nope_mean_abs[s] = ss_freq_acc_nope_mean_abs(a, s);
    int na = ss_inp_active(m, F, r->active_frac, act);
    for (int f = 0; f < F; f++)
        mx = fmax(mx, m[f]);
    int idx[SS_ROPE_MAX_FREQ], k = 0;
    for (int f = 0; f < F; f++) {
        r->inp_share[(size_t)s * F + f] = mx > 0 ? m[f] / mx : NAN;
        if (act[f])
            idx[k++] = f;
    }
    r->n_active[s] = na;
    double *curve = r->curve + (size_t)s * (N + 1);
    int ok = na > 0 && ss_freq_condition_table(tab, idx, na, curve, &r->cond[s]) == SS_OK;
    r->cond_ok[s] = ok;
    for (int x = 0; !ok && x <= N; x++)
        curve[x] = NAN;
}

static void alignment(const ss_freq_acc *a, ss_freq_result *r, int s)
{
    int D = r->max_delta + 1;
    for (int d = 0; d < D; d++) {
        size_t x = (size_t)s * D + d;
        double n = (double)a->cs_n[x];
        r->cs_pairs[x] = a->cs_n[x];
        r->cs_mean[x] = n ? a->cs_sum[x] / n : NAN;
        r->cs_min[x] = n ? a->cs_min[x] : NAN;
        r->cs_max[x] = n ? a->cs_max[x] : NAN;
        r->cs_logit_mean[x] = n ? a->cs_logit[x] / n : NAN;
        r->cs_bound_mean[x] = n ? a->cs_bound[x] / n : NAN;
    }
}

/* Chunk norms per token, and each layer's mean over its heads. */
static void usage(const ss_freq_acc *a, ss_freq_result *r)
{
    int L = r->n_layer, H = r->n_head, K = r->n_kv_head, F = r->n_freq;
    double rows = (double)a->use_rows;
    size_t nq = (size_t)L * H * F, nk = (size_t)L * K * F;
    for (size_t i = 0; i < nq; i++)
        r->usage_q[i] = a->use_q[i] / rows;
    for (size_t i = 0; i < nk; i++)
        r->usage_k[i] = a->use_k[i] / rows;
    for (int l = 0; l < L; l++)
        for (int f = 0; f < F; f++) {
            r->layer_theta[l * F + f] = ss_freq_acc_layer_rope(a, l)->theta[f];
            for (int h = 0; h < H; h++)
                r->usage_layer_q[l * F + f] += r->usage_q[((size_t)l * H + h) * F + f] / H;
            for (int h = 0; h < K; h++)
                r->usage_layer_k[l * F + f] += r->usage_k[((size_t)l * K + h) * F + f] / K;
        }
}

ss_code ss_freq_result_make(const ss_freq_acc *a, double active_frac, ss_freq_result *r,
                            ss_error *err)
{
    memset(r, 0, sizeof *r);
    if (!(active_frac >= 0 && active_frac <= 1))
        return ss_fail(err, SS_ERR_USAGE, "active_frac %g: expected a fraction in [0, 1]",
                       active_frac);
    r->n_layer = a->n_layer;
    r->n_head = a->n_head;
    r->n_kv_head = a->n_kv_head;
    r->n_freq = a->n_freq;
    r->n = a->n;
    r->n_sel = a->n_sel;
    r->n_var = a->n_var;
    r->row = a->o.row;
    r->max_delta = a->o.max_delta;
    r->prompts = a->prompts;
    r->active_frac = active_frac;
    r->inp_rows = a->n_rows;
    r->scale = a->scale;
    ss_code rc = alloc(r, err);
    if (rc) {
        ss_freq_result_free(r);
        return rc;
    }
    int F = r->n_freq, N = r->n, V = r->n_var;
    size_t rows = (size_t)r->row + 1;
    /* each schedule's cos(theta_f x), x = 0..N, once: the terms of every
     * head's curve (global, and local layers' when there are any) */
    ss_cos_table cos[2] = {{0}, {0}};
    rc = ss_cos_table_init(&cos[0], a->rope.theta, F, N, err);
    if (!rc && a->has_local)
        rc = ss_cos_table_init(&cos[1], a->rope_local.theta, F, N, err);
    if (rc) {
        ss_cos_table_free(&cos[0]);
        ss_freq_result_free(r);
        return rc;
    }
    /* the heads are independent (each writes its own slot): N cosine sums
     * of each head's active set are the cost at long prompts */
    #pragma omp parallel for schedule(dynamic, 1) if (r->n_sel > 1 && N >= 256)
    for (int s = 0; s < r->n_sel; s++) {
        r->sel[s] = a->sel[s];
        for (int v = 0; v < V; v++)
            ss_freq_acc_scores(a, s, v, r->scores + ((size_t)s * V + v) * N);
        memcpy(r->inp + (size_t)s * rows * F, a->inp + (size_t)s * rows * F,
               rows * F * sizeof(double));
        active_set(a, r, s, cos);
        alignment(a, r, s);
    }
    ss_cos_table_free(&cos[0]);
    ss_cos_table_free(&cos[1]);
    usage(a, r);
    return SS_OK;
}
