/* rank's result folder (report/rank_out.h). */
#include "report/rank_out.h"

#include <stdlib.h>

#include "common/mem.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "report/explain_table.h"
#include "report/lineplot.h"

/* Column indices of one kind's r_1 and R_tau block. */
typedef struct {
    int r1, R[SS_RANK_MAX_TAU];
} rank_cols;

static void add_cols(ss_table *t, const char *kind, int n_tau, const double *tau, rank_cols *c)
{
    c->r1 = ss_table_col(t, "r1_%s", kind);
    for (int i = 0; i < n_tau; i++)
        c->R[i] = ss_table_col(t, "R%g_%s", tau[i], kind);
}

static void put(ss_table *t, int row, const rank_cols *c, int n_tau, double r1, const double *R)
{
    *ss_table_at(t, row, c->r1) = r1;
    for (int i = 0; i < n_tau; i++)
        *ss_table_at(t, row, c->R[i]) = R[i];
}

static ss_code fill_table(ss_table *t, const ss_rank_result *res, const unsigned char *listed,
                          ss_error *err)
{
    int L = res->n_layer, H = res->n_head, K = res->n_kv_head, T = res->n_tau;
    int dh = res->d_head;
    ss_code rc = ss_table_init(t, L * H, err);
    if (rc)
        return rc;
    rank_cols cq, ck, ch, cwq, cwk;
    add_cols(t, "Q", T, res->tau, &cq);
    add_cols(t, "K", T, res->tau, &ck);
    add_cols(t, "H", T, res->tau, &ch);
    add_cols(t, "WQ", T, res->tau, &cwq);
    add_cols(t, "WK", T, res->tau, &cwk);
    int qn = ss_table_col(t, "q_norm_mean"), qrv = ss_table_col(t, "q_norm_rv");
    int kn = ss_table_col(t, "k_norm_mean"), krv = ss_table_col(t, "k_norm_rv");
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++) {
            int row = l * H + h, kv = h / (H / K);
            size_t sq = (size_t)l * H + h, sk = (size_t)l * K + kv;
            t->layer[row] = l;
            t->head[row] = h;
            t->kv_head[row] = kv;
            t->listed[row] = listed[row];
            put(t, row, &cq, T, res->q_r[sq * dh], res->q_R + sq * T);
            put(t, row, &ck, T, res->k_r[sk * dh], res->k_R + sk * T);
            put(t, row, &ch, T, res->h_r[(size_t)l * res->d_model], res->h_R + (size_t)l * T);
            put(t, row, &cwq, T, res->wq_r[sq * dh], res->wq_R + sq * T);
            put(t, row, &cwk, T, res->wk_r[sk * dh], res->wk_R + sk * T);
            *ss_table_at(t, row, qn) = res->q_norm_mean[sq];
            *ss_table_at(t, row, qrv) = res->q_norm_rv[sq];
            *ss_table_at(t, row, kn) = res->k_norm_mean[sk];
            *ss_table_at(t, row, krv) = res->k_norm_rv[sk];
        }
    return SS_OK;
}

static ss_code write_npy(const char *dir, const char *name, int ndim, const int64_t *shape,
                         const double *data, ss_error *err)
{
    char path[4096];
    ss_code rc = ss_out_path(path, sizeof path, dir, name, err);
    return rc ? rc : ss_npy_write(path, SS_NPY_F64, ndim, shape, data, err);
}

/* The cumulative energy curves (ss_rank_cumulative) as spectra.svg. */
static ss_code plot_spectra(const char *dir, const ss_rank_result *res, const unsigned char *listed,
                            ss_error *err)
{
    int dh = res->d_head;
    double *c = ss_calloc((size_t)5 * dh, sizeof *c, "spectrum plot", err);
    if (!c)
        return SS_ERR_NOMEM;
    int nql, nkl;
    ss_rank_cumulative(res, listed, c, &nql, &nkl, err);
    double *ql = c, *qa = c + dh, *kl = c + 2 * dh, *ka = c + 3 * dh, *hh = c + 4 * dh;
    double lx[SS_ROPE_MAX_FREQ * 2];
    for (int i = 0; i < dh; i++)
        lx[i] = i + 1;
    ss_series series[5];
    int n = 0;
    if (nql)
        series[n++] = (ss_series){"Q, listed heads", lx, ql, dh};
    series[n++] = (ss_series){"Q, all heads", lx, qa, dh};
    if (nkl)
        series[n++] = (ss_series){"K, listed heads", lx, kl, dh};
    series[n++] = (ss_series){"K, all heads", lx, ka, dh};
    series[n++] = (ss_series){"H (first d_head)", lx, hh, dh};
    ss_plot_opts o = {"Cumulative energy of the singular values (R_tau: where a curve crosses tau)",
                      "l (singular direction)", "sum of r_i, i <= l", 0};
    char path[4096];
    ss_code rc = ss_out_path(path, sizeof path, dir, "spectra.svg", err);
    if (!rc)
        rc = ss_lineplot_svg(path, series, n, &o, err);
    free(c);
    return rc;
}

static ss_code write_spectra(const char *dir, const ss_rank_result *res, const unsigned char *listed,
                             ss_error *err)
{
    int64_t L = res->n_layer, H = res->n_head, K = res->n_kv_head, dh = res->d_head;
    int64_t sq[3] = {L, H, dh}, sk[3] = {L, K, dh}, sh[2] = {L, res->d_model};
    ss_code rc;
    if (!(rc = write_npy(dir, "spectra_q.npy", 3, sq, res->q_r, err)) &&
        !(rc = write_npy(dir, "spectra_k.npy", 3, sk, res->k_r, err)) &&
        !(rc = write_npy(dir, "spectra_h.npy", 2, sh, res->h_r, err)) &&
        !(rc = write_npy(dir, "spectra_wq.npy", 3, sq, res->wq_r, err)) &&
        !(rc = write_npy(dir, "spectra_wk.npy", 3, sk, res->wk_r, err)))
        rc = plot_spectra(dir, res, listed, err);
    return rc;
}

ss_code ss_rank_write(const char *dir, const ss_rank_result *res, const unsigned char *listed,
                      ss_explain_record *rec, ss_error *err)
{
    ss_table t;
    ss_code rc = fill_table(&t, res, listed, err);
    char path[4096];
    if (!rc)
        rc = ss_mkdirs(dir, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "rank.csv", err)))
        rc = ss_table_write_csv(&t, path, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "rank_summary.csv", err)))
        rc = ss_table_write_summary(&t, path, err);
    if (!rc)
        rc = write_spectra(dir, res, listed, err);
    if (!rc) {
        int prov;
        cJSON *root = ss_explain_root(rec, "rank", 1, &prov);
        if (!prov)
            rc = err->code;
        cJSON_AddItemToObject(root, "tau", cJSON_CreateDoubleArray(res->tau, res->n_tau));
        cJSON_AddItemToObject(root, "selection", ss_explain_take(&rec->selection));
        cJSON_AddItemToObject(root, "averages", ss_table_summary_json(&t));
        cJSON_AddItemToObject(root, "heads", ss_table_rows_json(&t));
        if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "rank.json", err)))
            rc = ss_json_write_file(path, root, err);
        cJSON_Delete(root);
    }
    ss_table_free(&t);
    ss_explain_record_free(rec);
    return rc;
}
