#include "analysis/rank_result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

void ss_rank_result_free(ss_rank_result *r)
{
    double *arrays[] = {r->q_r, r->q_R, r->k_r, r->k_R, r->h_r, r->h_R, r->wq_r, r->wq_R,
                        r->wk_r, r->wk_R, r->q_norm_mean, r->q_norm_rv, r->k_norm_mean,
                        r->k_norm_rv};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
    memset(r, 0, sizeof *r);
}

static ss_code alloc(ss_rank_result *r, ss_error *err)
{
    size_t L = (size_t)r->n_layer, H = (size_t)r->n_head, K = (size_t)r->n_kv_head;
    size_t dh = (size_t)r->d_head, d = (size_t)r->d_model, T = (size_t)r->n_tau;
    if (!(r->q_r = ss_calloc(L * H * dh, sizeof(double), "Q spectra", err)) ||
        !(r->q_R = ss_calloc(L * H * T, sizeof(double), "Q ranks", err)) ||
        !(r->k_r = ss_calloc(L * K * dh, sizeof(double), "K spectra", err)) ||
        !(r->k_R = ss_calloc(L * K * T, sizeof(double), "K ranks", err)) ||
        !(r->h_r = ss_calloc(L * d, sizeof(double), "H spectra", err)) ||
        !(r->h_R = ss_calloc(L * T, sizeof(double), "H ranks", err)) ||
        !(r->wq_r = ss_calloc(L * H * dh, sizeof(double), "weight spectra", err)) ||
        !(r->wq_R = ss_calloc(L * H * T, sizeof(double), "weight ranks", err)) ||
        !(r->wk_r = ss_calloc(L * K * dh, sizeof(double), "weight spectra", err)) ||
        !(r->wk_R = ss_calloc(L * K * T, sizeof(double), "weight ranks", err)) ||
        !(r->q_norm_mean = ss_calloc(L * H, sizeof(double), "query norms", err)) ||
        !(r->q_norm_rv = ss_calloc(L * H, sizeof(double), "query norms", err)) ||
        !(r->k_norm_mean = ss_calloc(L * K, sizeof(double), "key norms", err)) ||
        !(r->k_norm_rv = ss_calloc(L * K, sizeof(double), "key norms", err)))
        return SS_ERR_NOMEM;
    return SS_OK;
}

/* One SVD per head, in a parallel region so LAPACK runs single-threaded
 * inside each (see rank_obs.c). */
static ss_code weight_ranks(const ss_model *m, ss_rank_result *r, ss_error *err)
{
    size_t L = (size_t)r->n_layer, H = (size_t)r->n_head, K = (size_t)r->n_kv_head;
    size_t dh = (size_t)r->d_head, T = (size_t)r->n_tau;
    int failed = 0;
    #pragma omp parallel for schedule(dynamic, 1) reduction(| : failed)
    for (size_t t = 0; t < L * (H + K); t++) {
        size_t l = t / (H + K), x = t % (H + K);
        int key = x >= H;
        size_t idx = key ? x - H : x, slot = l * (key ? K : H) + idx;
        ss_error e = {0};
        /* R_tau straight into wq_R / wk_R: NaN for a zeroed head (ss_lowrank_R) */
        if (ss_rank_weight(m, (int)l, (int)idx, key, r->tau, r->n_tau,
                           (key ? r->wk_r : r->wq_r) + slot * dh,
                           (key ? r->wk_R : r->wq_R) + slot * T, &e)) {
            failed = 1;
            #pragma omp critical(ss_rank_weight_err)
            ss_fail(err, e.code, "%s", e.msg);
            continue;
        }
    }
    return failed ? err->code : SS_OK;
}

ss_code ss_rank_result_make(const ss_model *m, const ss_rank_acc *acc, ss_rank_result *r,
                            ss_error *err)
{
    memset(r, 0, sizeof *r);
    r->n_layer = acc->n_layer;
    r->n_head = acc->n_head;
    r->n_kv_head = acc->n_kv_head;
    r->d_head = acc->d_head;
    r->d_model = acc->d_model;
    r->n_tau = acc->n_tau;
    memcpy(r->tau, acc->tau, sizeof r->tau);
    r->prompts = acc->prompts;
    ss_code rc = alloc(r, err);
    if (!rc)
        rc = weight_ranks(m, r, err);
    if (rc) {
        ss_rank_result_free(r);
        return rc;
    }
    int L = r->n_layer, H = r->n_head, K = r->n_kv_head, dh = r->d_head, T = r->n_tau;
    for (int l = 0; l < L; l++) {
        for (int x = 0; x < H; x++) {
            size_t s = (size_t)l * H + x;
            ss_rank_acc_mean(acc, SS_RANK_Q, l, x, r->q_r + s * dh, r->q_R + s * T);
            r->q_norm_mean[s] = ss_moments_mean(&acc->q_norm[s]);
            r->q_norm_rv[s] = ss_moments_std(&acc->q_norm[s]) / r->q_norm_mean[s];
        }
        for (int x = 0; x < K; x++) {
            size_t s = (size_t)l * K + x;
            ss_rank_acc_mean(acc, SS_RANK_K, l, x, r->k_r + s * dh, r->k_R + s * T);
            r->k_norm_mean[s] = ss_moments_mean(&acc->k_norm[s]);
            r->k_norm_rv[s] = ss_moments_std(&acc->k_norm[s]) / r->k_norm_mean[s];
        }
        ss_rank_acc_mean(acc, SS_RANK_H, l, 0, r->h_r + (size_t)l * r->d_model,
                         r->h_R + (size_t)l * T);
    }
    return SS_OK;
}

ss_code ss_rank_cumulative(const ss_rank_result *r, const unsigned char *listed, double *c,
                           int *n_q_listed, int *n_k_listed, ss_error *err)
{
    (void)err;
    int L = r->n_layer, H = r->n_head, K = r->n_kv_head, dh = r->d_head, d = r->d_model;
    memset(c, 0, sizeof(double) * 5 * (size_t)dh);
    double *ql = c, *qa = c + dh, *kl = c + 2 * dh, *ka = c + 3 * dh, *hh = c + 4 * dh;
    int nql = 0, nkl = 0;
    for (int l = 0; l < L; l++) {
        for (int x = 0; x < H; x++) {
            const double *q = r->q_r + ((size_t)l * H + x) * dh;
            int on = listed[(size_t)l * H + x];
            nql += on;
            for (int i = 0; i < dh; i++) {
                qa[i] += q[i];
                ql[i] += on ? q[i] : 0;
            }
        }
        for (int g = 0; g < K; g++) {
            const double *k = r->k_r + ((size_t)l * K + g) * dh;
            int on = 0; /* a key head counts when a listed query head reads it */
            for (int x = g * (H / K); x < (g + 1) * (H / K); x++)
                on |= listed[(size_t)l * H + x];
            nkl += on;
            for (int i = 0; i < dh; i++) {
                ka[i] += k[i];
                kl[i] += on ? k[i] : 0;
            }
        }
        for (int i = 0; i < dh && i < d; i++)
            hh[i] += r->h_r[(size_t)l * d + i];
    }
    for (int i = 1; i < dh; i++)
        for (int s = 0; s < 5; s++)
            c[s * dh + i] += c[s * dh + i - 1];
    const double div[5] = {nql, (double)L * H, nkl, (double)L * K, L};
    for (int s = 0; s < 5; s++)
        for (int i = 0; i < dh; i++)
            c[s * dh + i] = div[s] > 0 ? c[s * dh + i] / div[s] : NAN;
    *n_q_listed = nql;
    *n_k_listed = nkl;
    return SS_OK;
}
