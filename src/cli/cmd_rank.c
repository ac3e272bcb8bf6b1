/* slashscope rank MODEL (prompts) --out DIR: low rank of pre-PE Q, K, the
 * hidden states H and the weights W_Q, W_K per head (analysis/rank_obs.h;
 * SPEC.md section 3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/rank_result.h"
#include "cli/commands.h"
#include "report/lineplot.h"
#include "cli/explain_out.h"
#include "cli/out_folder.h"
#include "cli/summary.h"
#include "cli/dist_cli.h"
#include "engine/blas.h"
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
    SS_EXPLAIN_SRC_USAGE SS_DIST_USAGE "\n"
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

static ss_code fill_table(ss_table *t, const ss_rank_result *res, const ss_headsel *sel,
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
            t->listed[row] = sel->flags[row];
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
static ss_code plot_spectra(const char *dir, const ss_rank_result *res, const ss_headsel *sel,
                            ss_error *err)
{
    int dh = res->d_head;
    double *c = ss_calloc((size_t)5 * dh, sizeof *c, "spectrum plot", err);
    if (!c)
        return SS_ERR_NOMEM;
    int nql, nkl;
    ss_rank_cumulative(res, sel->flags, c, &nql, &nkl, err);
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

static ss_code write_spectra(const char *dir, const ss_rank_result *res, const ss_headsel *sel,
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
        rc = plot_spectra(dir, res, sel, err);
    return rc;
}

static ss_code write_outputs(const char *dir, const ss_explain_src *src,
                             const ss_rank_result *res, const ss_headsel *sel, ss_error *err)
{
    ss_table t;
    ss_code rc = fill_table(&t, res, sel, err);
    char path[4096];
    if (!rc)
        rc = ss_mkdirs(dir, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "rank.csv", err)))
        rc = ss_table_write_csv(&t, path, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "rank_summary.csv", err)))
        rc = ss_table_write_summary(&t, path, err);
    if (!rc)
        rc = write_spectra(dir, res, sel, err);
    if (!rc) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "command", "rank");
        cJSON_AddStringToObject(root, "version", SS_VERSION);
        cJSON_AddItemToObject(root, "model", ss_model_describe(src->run.model, &src->run.rope));
        cJSON *prov = ss_out_provenance(src->run.model, 0, err);
        if (!prov)
            rc = err->code;
        cJSON_AddItemToObject(root, "provenance", prov);
        cJSON_AddItemToObject(root, "blas", ss_blas_info_json());
        cJSON_AddItemToObject(root, "prompts", ss_explain_src_json(src));
        cJSON_AddItemToObject(root, "tau", cJSON_CreateDoubleArray(res->tau, res->n_tau));
        cJSON_AddItemToObject(root, "selection", ss_headsel_json(sel));
        cJSON_AddItemToObject(root, "averages", ss_table_summary_json(&t));
        cJSON_AddItemToObject(root, "heads", ss_table_rows_json(&t));
        if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "rank.json", err)))
            rc = ss_json_write_file(path, root, err);
        cJSON_Delete(root);
    }
    ss_table_free(&t);
    return rc;
}

int cmd_rank(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_EXPLAIN_SRC_FLAGS, SS_HEADSEL_FLAGS, SS_DIST_FLAGS,
                                    SS_OUT_FOLDER_FLAGS,
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
    if (ss_args_out(&a, 1, &out, &err) || parse_taus(&a, tau, &n_tau, &err))
        return ss_cli_fail("rank", &err);
    ss_explain_src src;
    ss_folder folder;
    int dist;
    if (ss_cli_dist_setup(&folder, &a, argc, argv, "rank.json", &dist, &err))
        return ss_cli_dist_status("rank", &err);
    if (ss_explain_src_open(&src, &a, &err)) {
        ss_cli_dist_end(&folder, &err);
        return ss_cli_dist_status("rank", &err);
    }
    out = folder.work;
    if (!dist && ss_out_folder_begin(&folder, &a, "rank.json", &out, &err)) {
        ss_explain_src_close(&src);
        return ss_cli_fail("rank", &err);
    }
    ss_headsel sel = {0};
    ss_analysis an = {0};
    ss_rank_result res = {0};
    if (!ss_headsel_from_args(&a, src.run.model, &sel, &err) &&
        !ss_rank_analysis_new(&an, src.run.model, tau, n_tau, &err) &&
        !ss_explain_src_run(&src, (ss_analysis *[]){&an}, 1, "rank", a.quiet, &err) &&
        !ss_analysis_finish(&an, &res, &err))
        write_outputs(out, &src, &res, &sel, &err);
    if (!(dist ? ss_cli_dist_end(&folder, &err) : ss_out_folder_end(&folder, &err)))
        ss_summary_rank(stdout, ss_args_get(&a, "--out"));
    ss_rank_result_free(&res);
    if (an.vt)
        ss_analysis_free(&an);
    ss_headsel_free(&sel);
    ss_explain_src_close(&src);
    return ss_cli_dist_status("rank", &err);
}
