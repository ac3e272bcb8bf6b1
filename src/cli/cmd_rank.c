/* slashscope rank MODEL (prompts) --out DIR: low rank of pre-PE Q, K, the
 * hidden states H and the weights W_Q, W_K per head (analysis/rank_obs.h;
 * SPEC.md section 3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/rank_obs.h"
#include "cli/commands.h"
#include "report/lineplot.h"
#include "cli/explain_out.h"
#include "cli/explain_src.h"
#include "cli/explain_table.h"
#include "cli/headsel.h"
#include "common/mem.h"
#include "common/progress.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "model/describe.h"

static const char usage[] =
    "usage: slashscope rank MODEL (prompts) --out DIR [--heads L0H1,...|all | --sdh SCAN_DIR\n"
    "                       [--regime small|large|all]] [--tau T1,T2,...]\n\n"
    "Per head, r_1 and R_tau (SPEC.md section 3, no centering) of the pre-PE queries Q\n"
    "[N, d_head], the keys K of its KV head, the layer's hidden states H [N, d] (the\n"
    "attention input after RMSNorm), and the weights W_Q, W_K of the head (paper Tables 3\n"
    "and 4); the relative variation std/mean of ||q_i|| and ||k_j|| over every token\n"
    "(Figure 14); and the averages over the listed heads (e.g. the SDHs of a scan, --sdh)\n"
    "next to the averages over all heads (Figures 9 and 10). tau 0.95 always, plus --tau.\n"
    "Each prompt's matrices are its own N rows; values are means over the prompts.\n\n"
    SS_EXPLAIN_SRC_USAGE "\n"
    "Writes DIR/rank.csv (every query head; listed = 1 for the chosen ones),\n"
    "DIR/rank_summary.csv (means over listed and over all heads), DIR/rank.json (settings,\n"
    "the same numbers) and the mean spectra r_l as float64 .npy: spectra_q.npy [L,H,d_head],\n"
    "spectra_k.npy [L,H_kv,d_head], spectra_h.npy [L,d], spectra_wq.npy [L,H,d_head],\n"
    "spectra_wk.npy [L,H_kv,d_head], and spectra.svg (cumulative energy of Q, K and H).\n"
    "See docs/explain.md for every column.\n";

static ss_code parse_taus(const ss_args *a, double *tau, int *n_tau, ss_error *err)
{
    tau[0] = 0.95;
    *n_tau = 1;
    const char *s = ss_args_get(a, "--tau");
    if (!s)
        return SS_OK;
    const char *p = s;
    while (*p) {
        char *end;
        double t = strtod(p, &end);
        if (end == p || !(t >= 0 && t <= 1) || (*end && *end != ','))
            return ss_fail(err, SS_ERR_USAGE, "--tau '%s': expected fractions in [0, 1] "
                           "separated by commas", s);
        int dup = 0;
        for (int i = 0; i < *n_tau; i++)
            dup |= tau[i] == t;
        if (!dup) {
            if (*n_tau == SS_RANK_MAX_TAU)
                return ss_fail(err, SS_ERR_USAGE, "--tau: at most %d thresholds",
                               SS_RANK_MAX_TAU - 1);
            tau[(*n_tau)++] = t;
        }
        p = *end ? end + 1 : end;
    }
    return SS_OK;
}

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

typedef struct {
    double *wq, *wk;       /* [L, H, dh], [L, Hkv, dh] */
    double *wq_R, *wk_R;   /* [L, H, n_tau], [L, Hkv, n_tau] */
} weight_ranks;

static ss_code compute_weights(const ss_model *m, const ss_rank_acc *acc, weight_ranks *w,
                               ss_error *err)
{
    const ss_config *c = &m->cfg;
    size_t L = (size_t)c->n_layer, H = (size_t)c->n_head, K = (size_t)c->n_kv_head;
    size_t dh = (size_t)c->d_head, T = (size_t)acc->n_tau;
    if (!(w->wq = ss_calloc(L * H * dh, sizeof(double), "weight spectra", err)) ||
        !(w->wk = ss_calloc(L * K * dh, sizeof(double), "weight spectra", err)) ||
        !(w->wq_R = ss_calloc(L * H * T, sizeof(double), "weight ranks", err)) ||
        !(w->wk_R = ss_calloc(L * K * T, sizeof(double), "weight ranks", err)))
        return SS_ERR_NOMEM;
    /* one SVD per head, in a parallel region so LAPACK runs single-threaded
     * inside each (see analysis/rank_obs.c) */
    int failed = 0;
    #pragma omp parallel for schedule(dynamic, 1) reduction(| : failed)
    for (size_t t = 0; t < L * (H + K); t++) {
        size_t l = t / (H + K), x = t % (H + K);
        int key = x >= H, R[SS_RANK_MAX_TAU];
        size_t idx = key ? x - H : x, slot = l * (key ? K : H) + idx;
        ss_error e = {0};
        if (ss_rank_weight(m, (int)l, (int)idx, key, acc->tau, acc->n_tau,
                           (key ? w->wk : w->wq) + slot * dh, R, &e)) {
            failed = 1;
            #pragma omp critical(ss_rank_weight_err)
            ss_fail(err, e.code, "%s", e.msg);
            continue;
        }
        for (size_t i = 0; i < T; i++)
            (key ? w->wk_R : w->wq_R)[slot * T + i] = R[i];
    }
    if (failed)
        return err->code;
    return SS_OK;
}

static ss_code fill_table(ss_table *t, const ss_rank_acc *acc, const weight_ranks *w,
                          const ss_headsel *sel, ss_error *err)
{
    int L = acc->n_layer, H = acc->n_head, K = acc->n_kv_head, T = acc->n_tau;
    int dh = acc->d_head;
    ss_code rc = ss_table_init(t, L * H, err);
    if (rc)
        return rc;
    rank_cols cq, ck, ch, cwq, cwk;
    add_cols(t, "Q", T, acc->tau, &cq);
    add_cols(t, "K", T, acc->tau, &ck);
    add_cols(t, "H", T, acc->tau, &ch);
    add_cols(t, "WQ", T, acc->tau, &cwq);
    add_cols(t, "WK", T, acc->tau, &cwk);
    int qn = ss_table_col(t, "q_norm_mean"), qrv = ss_table_col(t, "q_norm_rv");
    int kn = ss_table_col(t, "k_norm_mean"), krv = ss_table_col(t, "k_norm_rv");
    double *r = ss_calloc((size_t)(acc->d_model > dh ? acc->d_model : dh), sizeof *r,
                          "spectrum", err);
    if (!r)
        return SS_ERR_NOMEM;
    double R[SS_RANK_MAX_TAU];
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++) {
            int row = l * H + h, kv = h / (H / K);
            t->layer[row] = l;
            t->head[row] = h;
            t->kv_head[row] = kv;
            t->listed[row] = sel->flags[row];
            ss_rank_acc_mean(acc, SS_RANK_Q, l, h, r, R);
            put(t, row, &cq, T, r[0], R);
            ss_rank_acc_mean(acc, SS_RANK_K, l, kv, r, R);
            put(t, row, &ck, T, r[0], R);
            ss_rank_acc_mean(acc, SS_RANK_H, l, 0, r, R);
            put(t, row, &ch, T, r[0], R);
            size_t sq = (size_t)l * H + h, sk = (size_t)l * K + kv;
            for (int i = 0; i < T; i++)
                R[i] = w->wq_R[sq * T + i];
            put(t, row, &cwq, T, w->wq[sq * dh], R);
            for (int i = 0; i < T; i++)
                R[i] = w->wk_R[sk * T + i];
            put(t, row, &cwk, T, w->wk[sk * dh], R);
            *ss_table_at(t, row, qn) = ss_moments_mean(&acc->q_norm[sq]);
            *ss_table_at(t, row, qrv) = ss_moments_std(&acc->q_norm[sq]) /
                                        ss_moments_mean(&acc->q_norm[sq]);
            *ss_table_at(t, row, kn) = ss_moments_mean(&acc->k_norm[sk]);
            *ss_table_at(t, row, krv) = ss_moments_std(&acc->k_norm[sk]) /
                                        ss_moments_mean(&acc->k_norm[sk]);
        }
    free(r);
    return SS_OK;
}

static ss_code write_npy(const char *dir, const char *name, int ndim, const int64_t *shape,
                         const double *data, ss_error *err)
{
    char path[4096];
    ss_code rc = ss_out_path(path, sizeof path, dir, name, err);
    return rc ? rc : ss_npy_write(path, SS_NPY_F64, ndim, shape, data, err);
}

/* Cumulative energy sum_{i<=l} r_i against l (how R_tau is read), averaged
 * over the listed heads and over all heads, for Q and K; H (first d_head
 * directions, all layers) for scale. q [L,H,dh], k [L,K,dh], h [L,d]. */
static ss_code plot_spectra(const char *dir, const ss_rank_acc *acc, const ss_headsel *sel,
                            const double *q, const double *k, const double *h, ss_error *err)
{
    int L = acc->n_layer, H = acc->n_head, K = acc->n_kv_head, dh = acc->d_head, d = acc->d_model;
    double *c = ss_calloc((size_t)5 * dh, sizeof *c, "spectrum plot", err);
    if (!c)
        return SS_ERR_NOMEM;
    double *ql = c, *qa = c + dh, *kl = c + 2 * dh, *ka = c + 3 * dh, *hh = c + 4 * dh;
    int nql = 0, nkl = 0;
    for (int l = 0; l < L; l++) {
        for (int x = 0; x < H; x++) {
            const double *r = q + ((size_t)l * H + x) * dh;
            int listed = sel->flags[(size_t)l * H + x];
            nql += listed;
            for (int i = 0; i < dh; i++) {
                qa[i] += r[i];
                ql[i] += listed ? r[i] : 0;
            }
        }
        for (int g = 0; g < K; g++) {
            const double *r = k + ((size_t)l * K + g) * dh;
            int listed = 0; /* a key head counts when a listed query head reads it */
            for (int x = g * (H / K); x < (g + 1) * (H / K); x++)
                listed |= sel->flags[(size_t)l * H + x];
            nkl += listed;
            for (int i = 0; i < dh; i++) {
                ka[i] += r[i];
                kl[i] += listed ? r[i] : 0;
            }
        }
        for (int i = 0; i < dh && i < d; i++)
            hh[i] += h[(size_t)l * d + i];
    }
    double lx[SS_ROPE_MAX_FREQ * 2];
    for (int i = 0; i < dh; i++) {
        lx[i] = i + 1;
        if (i > 0)
            for (int s = 0; s < 5; s++)
                c[s * dh + i] += c[s * dh + i - 1];
    }
    const double div[5] = {nql, (double)L * H, nkl, (double)L * K, L};
    for (int s = 0; s < 5; s++)
        for (int i = 0; i < dh; i++)
            c[s * dh + i] = div[s] > 0 ? c[s * dh + i] / div[s] : NAN;
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

static ss_code write_spectra(const char *dir, const ss_rank_acc *acc, const weight_ranks *w,
                             const ss_headsel *sel, ss_error *err)
{
    int L = acc->n_layer, H = acc->n_head, K = acc->n_kv_head, dh = acc->d_head;
    int d = acc->d_model;
    size_t nq = (size_t)L * H * dh, nk = (size_t)L * K * dh, nh = (size_t)L * d;
    double *q = ss_calloc(nq, sizeof *q, "spectra", err), *k = ss_calloc(nk, sizeof *k, "", err);
    double *h = ss_calloc(nh, sizeof *h, "spectra", err);
    ss_code rc = q && k && h ? SS_OK : SS_ERR_NOMEM;
    for (int l = 0; !rc && l < L; l++) {
        for (int x = 0; x < H; x++)
            ss_rank_acc_mean(acc, SS_RANK_Q, l, x, q + ((size_t)l * H + x) * dh, NULL);
        for (int x = 0; x < K; x++)
            ss_rank_acc_mean(acc, SS_RANK_K, l, x, k + ((size_t)l * K + x) * dh, NULL);
        ss_rank_acc_mean(acc, SS_RANK_H, l, 0, h + (size_t)l * d, NULL);
    }
    int64_t sq[3] = {L, H, dh}, sk[3] = {L, K, dh}, sh[2] = {L, d};
    if (!rc && !(rc = write_npy(dir, "spectra_q.npy", 3, sq, q, err)) &&
        !(rc = write_npy(dir, "spectra_k.npy", 3, sk, k, err)) &&
        !(rc = write_npy(dir, "spectra_h.npy", 2, sh, h, err)) &&
        !(rc = write_npy(dir, "spectra_wq.npy", 3, sq, w->wq, err)))
        rc = write_npy(dir, "spectra_wk.npy", 3, sk, w->wk, err);
    if (!rc)
        rc = plot_spectra(dir, acc, sel, q, k, h, err);
    free(q);
    free(k);
    free(h);
    return rc;
}

static ss_code write_outputs(const char *dir, const ss_explain_src *src, const ss_rank_acc *acc,
                             const weight_ranks *w, const ss_headsel *sel, ss_error *err)
{
    ss_table t;
    ss_code rc = fill_table(&t, acc, w, sel, err);
    char path[4096];
    if (!rc)
        rc = ss_mkdirs(dir, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "rank.csv", err)))
        rc = ss_table_write_csv(&t, path, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "rank_summary.csv", err)))
        rc = ss_table_write_summary(&t, path, err);
    if (!rc)
        rc = write_spectra(dir, acc, w, sel, err);
    if (!rc) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "command", "rank");
        cJSON_AddStringToObject(root, "version", SS_VERSION);
        cJSON_AddItemToObject(root, "model", ss_model_describe(src->run.model, &src->run.rope));
        cJSON_AddItemToObject(root, "prompts", ss_explain_src_json(src));
        cJSON_AddItemToObject(root, "tau", cJSON_CreateDoubleArray(acc->tau, acc->n_tau));
        cJSON_AddItemToObject(root, "selection", ss_headsel_json(sel));
        cJSON_AddItemToObject(root, "averages", ss_table_summary_json(&t));
        cJSON_AddItemToObject(root, "heads", ss_table_rows_json(&t));
        if (!(rc = ss_out_path(path, sizeof path, dir, "rank.json", err)))
            rc = ss_json_write_file(path, root, err);
        cJSON_Delete(root);
    }
    ss_table_free(&t);
    return rc;
}

int cmd_rank(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_EXPLAIN_SRC_FLAGS, SS_HEADSEL_FLAGS, {"--out", 1},
                                    {"--tau", 1}, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "rank", usage, flags, argc, argv, &err))
        return ss_cli_fail("rank", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    const char *out;
    double tau[SS_RANK_MAX_TAU];
    int n_tau;
    if (ss_args_require(&a, "--out", &out, &err) || parse_taus(&a, tau, &n_tau, &err))
        return ss_cli_fail("rank", &err);
    ss_explain_src src;
    if (ss_explain_src_open(&src, &a, &err))
        return ss_cli_fail("rank", &err);
    const ss_config *c = &src.run.model->cfg;
    ss_headsel sel = {0};
    ss_analysis an = {0};
    weight_ranks w = {0};
    if (!ss_headsel_from_args(&a, c->n_layer, c->n_head, &sel, &err) &&
        !ss_rank_analysis_new(&an, c, tau, n_tau, &err) &&
        !ss_explain_src_run(&src, (ss_analysis *[]){&an}, 1, "rank", a.quiet, &err) &&
        !compute_weights(src.run.model, ss_rank_analysis_acc(&an), &w, &err))
        write_outputs(out, &src, ss_rank_analysis_acc(&an), &w, &sel, &err);
    free(w.wq); free(w.wk); free(w.wq_R); free(w.wk_R);
    ss_analysis_free(&an);
    ss_headsel_free(&sel);
    ss_explain_src_close(&src);
    return err.code ? ss_cli_fail("rank", &err) : 0;
}
