/* freq's result folder (report/freq_out.h). */
#include "report/freq_out.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/bands.h"
#include "analysis/freqcond.h"
#include "analysis/scan_result.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "report/figure.h"
#include "report/heatmap.h"
#include "report/lineplot.h"

static ss_code open_out(ss_atomic_file *f, const char *dir, const char *name, ss_error *err)
{
    char path[4096];
    ss_code rc = ss_out_path(path, sizeof path, dir, name, err);
    return rc ? rc : ss_atomic_open(f, path, err);
}

static void removed_list(FILE *fp, const ss_ablation *ab)
{
    for (int i = 0; i < ab->n_removed; i++)
        fprintf(fp, "%s%d", i ? ";" : "", ab->removed[i]);
}

static ss_code write_bands(const ss_freq_out *r, cJSON *root, ss_error *err)
{
    ss_atomic_file f;
    ss_code rc = open_out(&f, r->out, "bands.csv", err);
    if (rc)
        return rc;
    cJSON *arr = cJSON_AddArrayToObject(root, "ablations");
    int F = r->n_freq;
    fprintf(f.fp, "variant,band_first,band_last,removed\n");
    for (int v = 0; v < r->n_abl; v++) {
        const ss_ablation *ab = &r->abl[v];
        int a = 0, b = 0;
        for (int band = 0; band < SS_BAND_COUNT; band++)
            if (strcmp(ab->name, ss_band_name((ss_band)band)) == 0)
                ss_band_range(F, (ss_band)band, &a, &b);
        fprintf(f.fp, "%s,%d,%d,", ab->name, a, b);
        removed_list(f.fp, ab);
        fputc('\n', f.fp);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "variant", ab->name);
        if (a) {
            cJSON_AddNumberToObject(e, "band_first", a);
            cJSON_AddNumberToObject(e, "band_last", b);
        }
        cJSON_AddItemToObject(e, "removed", cJSON_CreateIntArray(ab->removed, ab->n_removed));
        cJSON_AddItemToArray(arr, e);
    }
    return ss_atomic_commit(&f, err);
}

/* One ablation.csv / JSON row: head at offset d under every variant. */
static void ablation_row(const ss_freq_out *r, FILE *fp, cJSON *arr, int slot, int d,
                         const double *scores)
{
    int n = r->res->n;
    const ss_head_ref *h = &r->refs[slot];
    char name[32];
    ss_head_name(h->layer, h->head, name, sizeof name);
    double base = d < n ? scores[d] : NAN;
    for (int v = 0; v < r->n_abl; v++) {
        double s = d < n ? scores[(size_t)(v + 1) * n + d] : NAN;
        fprintf(fp, "%d,%d,%s,%d,%s,", h->layer, h->head, name, d, r->abl[v].name);
        removed_list(fp, &r->abl[v]);
        fputc(',', fp);
        ss_csv_num(fp, base);
        fputc(',', fp);
        ss_csv_num(fp, s);
        fputc(',', fp);
        ss_csv_num(fp, s / base);
        fputc('\n', fp);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", name);
        cJSON_AddNumberToObject(e, "delta", d);
        cJSON_AddStringToObject(e, "variant", r->abl[v].name);
        cJSON_AddItemToObject(e, "score", ss_json_num_or_null(base));
        cJSON_AddItemToObject(e, "score_ablated", ss_json_num_or_null(s));
        cJSON_AddItemToObject(e, "ratio", ss_json_num_or_null(s / base));
        cJSON_AddItemToArray(arr, e);
    }
}

static ss_code write_ablation(const ss_freq_out *r, cJSON *root, ss_error *err)
{
    int n = r->res->n, V = r->res->n_var, S = r->n_refs;
    const double *all = r->res->scores;
    char path[4096];
    int64_t shape[3] = {S, V, n};
    ss_code rc = ss_out_path(path, sizeof path, r->out, "ablation_scores.npy", err);
    if (!rc)
        rc = ss_npy_write(path, SS_NPY_F64, 3, shape, all, err);
    ss_atomic_file f;
    if (!rc && !(rc = open_out(&f, r->out, "ablation.csv", err))) {
        cJSON *arr = cJSON_AddArrayToObject(root, "ablation");
        fprintf(f.fp, "layer,head,name,delta,variant,removed,score,score_ablated,ratio\n");
        if (r->n_sdh) {
            for (int i = 0; i < r->n_sdh; i++) {
                const ss_sdh *e = &r->sdh[i];
                int slot = 0;
                while (r->refs[slot].layer != e->layer || r->refs[slot].head != e->head)
                    slot++; /* every SDH is a chosen head */
                ablation_row(r, f.fp, arr, slot, e->delta, all + (size_t)slot * V * n);
            }
        } else {
            for (int s = 0; s < S; s++)
                for (int d = r->d_lo; d <= r->d_hi; d++)
                    ablation_row(r, f.fp, arr, s, d, all + (size_t)s * V * n);
        }
        rc = ss_atomic_commit(&f, err);
    }
    return rc;
}

/* Figure 17: each head's summed cosines over x = 0..N (the first heads,
 * up to what one plot can tell apart; the .npy has them all). */
static ss_code plot_curves(const char *path, const ss_freq_out *r, const double *curve, int N,
                           ss_error *err)
{
    int S = r->n_refs < SS_PLOT_MAX_SERIES ? r->n_refs : SS_PLOT_MAX_SERIES;
    ss_series series[SS_PLOT_MAX_SERIES];
    char names[SS_PLOT_MAX_SERIES][32];
    for (int s = 0; s < S; s++) {
        ss_head_name(r->refs[s].layer, r->refs[s].head, names[s], sizeof names[s]);
        series[s] = (ss_series){names[s], NULL, curve + (size_t)s * (N + 1), N + 1};
    }
    char title[96];
    if (r->n_refs > S)
        snprintf(title, sizeof title, "Sum of cos(theta x) over each head's active frequencies "
                 "(first %d heads)", S);
    else
        snprintf(title, sizeof title, "Sum of cos(theta x) over each head's active frequencies");
    ss_plot_opts o = {title, "offset x (tokens)", "f(x)", 0};
    return ss_lineplot_svg(path, series, S, &o, err);
}

/* Active frequencies, the frequency condition and its curve, per head. */
static ss_code write_active(const ss_freq_out *r, cJSON *root, ss_error *err)
{
    const ss_freq_result *res = r->res;
    int F = r->n_freq, S = r->n_refs, N = res->n;
    ss_atomic_file fa, fc;
    ss_code rc = open_out(&fa, r->out, "active.csv", err);
    if (!rc && (rc = open_out(&fc, r->out, "freqcond.csv", err)))
        ss_atomic_abort(&fa);
    if (rc)
        return rc;
    fprintf(fa.fp, "layer,head,name,l,theta,mean_abs_inp,share_of_max,active\n");
    fprintf(fc.fp, "layer,head,name,n_active,active_l,N,C1,C2,eps_fn,L_min,peak_gap,peak_x,L,"
                   "pass\n");
    cJSON *arr = cJSON_AddArrayToObject(root, "frequency_condition");
    for (int s = 0; s < S; s++) {
        const ss_head_ref *h = &r->refs[s];
        char name[32];
        ss_head_name(h->layer, h->head, name, sizeof name);
        const double *mean_abs = res->inp_mean_abs + (size_t)s * F;
        const unsigned char *act = res->active + (size_t)s * F;
        int act_l[SS_ROPE_MAX_FREQ], na = res->n_active[s], k = 0;
        for (int f = 0; f < F; f++) {
            fprintf(fa.fp, "%d,%d,%s,%d,%.17g,", h->layer, h->head, name, f + 1,
                    res->theta[(size_t)s * F + f]);
            ss_csv_num(fa.fp, mean_abs[f]);
            fputc(',', fa.fp);
            ss_csv_num(fa.fp, res->inp_share[(size_t)s * F + f]);
            fprintf(fa.fp, ",%d\n", act[f]);
            if (act[f])
                act_l[k++] = f + 1;
        }
        const ss_freq_condition_result *fr = &res->cond[s];
        int ok = res->cond_ok[s];
        fprintf(fc.fp, "%d,%d,%s,%d,", h->layer, h->head, name, na);
        for (int i = 0; i < na; i++)
            fprintf(fc.fp, "%s%d", i ? ";" : "", act_l[i]);
        fprintf(fc.fp, ",%d", N);
        const double v[5] = {ok ? fr->C1 : NAN, ok ? fr->C2 : NAN, ok ? fr->eps_fn : NAN,
                             ok ? fr->L_min : NAN, ok ? fr->peak_gap : NAN};
        for (int i = 0; i < 5; i++) {
            fputc(',', fc.fp);
            ss_csv_num(fc.fp, v[i]);
        }
        int pass = ok && r->has_L && ss_freq_condition_holds(fr, r->L);
        fprintf(fc.fp, ",%d,", ok ? fr->peak_x : 0);
        if (r->has_L) {
            ss_csv_num(fc.fp, r->L);
            fprintf(fc.fp, ",%s\n", pass ? "pass" : "fail");
        } else {
            fprintf(fc.fp, ",\n");
        }
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", name);
        cJSON_AddItemToObject(e, "active", cJSON_CreateIntArray(act_l, na));
        cJSON_AddItemToObject(e, "mean_abs_inp", cJSON_CreateDoubleArray(mean_abs, F));
        /* partial rotary: the position-free part of the logit, same pairs */
        if (r->partial_rotary)
            cJSON_AddItemToObject(e, "nope_mean_abs_logit",
                                  ss_json_num_or_null(res->nope_mean_abs[s]));
        cJSON_AddNumberToObject(e, "N", N);
        cJSON_AddItemToObject(e, "C1", ss_json_num_or_null(v[0]));
        cJSON_AddItemToObject(e, "C2", ss_json_num_or_null(v[1]));
        cJSON_AddItemToObject(e, "eps_fn", ss_json_num_or_null(v[2]));
        cJSON_AddItemToObject(e, "L_min", ss_json_num_or_null(v[3]));
        cJSON_AddItemToObject(e, "peak_gap", ss_json_num_or_null(v[4]));
        if (ok)
            cJSON_AddNumberToObject(e, "peak_x", fr->peak_x);
        if (r->has_L) {
            cJSON_AddNumberToObject(e, "L", r->L);
            cJSON_AddBoolToObject(e, "pass", pass);
        }
        cJSON_AddItemToArray(arr, e);
    }
    char path[4096];
    int64_t shape[2] = {S, N + 1};
    if ((rc = ss_atomic_commit(&fa, err)))
        ss_atomic_abort(&fc);
    else
        rc = ss_atomic_commit(&fc, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, r->out, "freqcond_curve.npy", err)))
        rc = ss_npy_write(path, SS_NPY_F64, 2, shape, res->curve, err);
    if (!rc && S > 0 && !(rc = ss_out_path(path, sizeof path, r->out, "freqcond_curve.svg", err)))
        rc = plot_curves(path, r, res->curve, N, err);
    return rc;
}

static ss_code write_alignment(const ss_freq_out *r, cJSON *root, ss_error *err)
{
    ss_atomic_file f;
    ss_code rc = open_out(&f, r->out, "alignment.csv", err);
    if (rc)
        return rc;
    int D = r->fo->max_delta + 1;
    cJSON *arr = cJSON_AddArrayToObject(root, "alignment");
    fprintf(f.fp, "layer,head,name,delta,pairs,ratio_mean,ratio_min,ratio_max,logit_mean,"
                  "bound_mean\n");
    for (int s = 0; s < r->n_refs; s++)
        for (int d = 0; d < D; d++) {
            const ss_freq_result *a = r->res;
            size_t x = (size_t)s * D + d;
            double n = (double)a->cs_pairs[x];
            double v[5] = {a->cs_mean[x], a->cs_min[x], a->cs_max[x], a->cs_logit_mean[x],
                           a->cs_bound_mean[x]};
            char name[32];
            ss_head_name(r->refs[s].layer, r->refs[s].head, name, sizeof name);
            fprintf(f.fp, "%d,%d,%s,%d,%lld", r->refs[s].layer, r->refs[s].head, name, d,
                    (long long)a->cs_pairs[x]);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", name);
            cJSON_AddNumberToObject(e, "delta", d);
            cJSON_AddNumberToObject(e, "pairs", n);
            static const char *keys[5] = {"ratio_mean", "ratio_min", "ratio_max", "logit_mean",
                                          "bound_mean"};
            for (int i = 0; i < 5; i++) {
                fputc(',', f.fp);
                ss_csv_num(f.fp, v[i]);
                cJSON_AddItemToObject(e, keys[i], ss_json_num_or_null(v[i]));
            }
            fputc('\n', f.fp);
            cJSON_AddItemToArray(arr, e);
        }
    return ss_atomic_commit(&f, err);
}

/* usage_layer_{q,k}.svg: the usage heatmaps with axes (layers x frequency
 * index l) and a colour bar. */
static ss_code usage_figure(const char *out, const double *m, int L, int F, int kind,
                            ss_error *err)
{
    const char **layers = ss_fig_names("L", 0, L), **ls = ss_fig_names("", 1, F);
    char path[4096];
    ss_code rc = !layers || !ls ? ss_fail(err, SS_ERR_NOMEM, "freq: out of memory for axis names")
                                : ss_out_path(path, sizeof path, out,
                                              kind ? "usage_layer_k.svg" : "usage_layer_q.svg",
                                              err);
    if (!rc) {
        ss_fig_heatmap_opts o = {kind ? "Frequency usage of pre-RoPE keys, by layer"
                                      : "Frequency usage of pre-RoPE queries, by layer",
                                 {"frequency index l (1 = highest)", ls, 0, 0},
                                 {"layer", layers, 0, 0},
                                 "usage (share of the layer's energy)",
                                 {0, 0, 0, 0, 0}};
        rc = ss_fig_heatmap_write(path, m, L, F, &o, err);
    }
    free(layers);
    free(ls);
    return rc;
}

/* usage.csv, usage_layer.csv, the .npy arrays and per-layer heatmaps. */
static ss_code write_usage(const ss_freq_out *r, ss_error *err)
{
    const ss_freq_result *a = r->res;
    int L = a->n_layer, H = a->n_head, K = a->n_kv_head, F = a->n_freq;
    const double *uq = a->usage_q, *uk = a->usage_k, *lq = a->usage_layer_q,
                 *lk = a->usage_layer_k;
    ss_code rc = SS_OK;
    char path[4096];
    int64_t sq[3] = {L, H, F}, sk[3] = {L, K, F};
    if (!rc && !(rc = ss_out_path(path, sizeof path, r->out, "usage_q.npy", err)))
        rc = ss_npy_write(path, SS_NPY_F64, 3, sq, uq, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, r->out, "usage_k.npy", err)))
        rc = ss_npy_write(path, SS_NPY_F64, 3, sk, uk, err);
    ss_atomic_file f;
    if (!rc && !(rc = open_out(&f, r->out, "usage.csv", err))) {
        fprintf(f.fp, "layer,kind,head,l,theta,usage\n");
        for (int l = 0; l < L; l++)
            for (int kind = 0; kind < 2; kind++)
                for (int h = 0; h < (kind ? K : H); h++)
                    for (int x = 0; x < F; x++) {
                        fprintf(f.fp, "%d,%s,%d,%d,%.17g,", l, kind ? "k" : "q", h, x + 1,
                                a->layer_theta[l * F + x]);
                        ss_csv_num(f.fp, (kind ? uk : uq)[((size_t)l * (kind ? K : H) + h) * F +
                                                          x]);
                        fputc('\n', f.fp);
                    }
        rc = ss_atomic_commit(&f, err);
    }
    if (!rc && !(rc = open_out(&f, r->out, "usage_layer.csv", err))) {
        fprintf(f.fp, "layer,kind,l,theta,usage\n");
        for (int l = 0; l < L; l++)
            for (int kind = 0; kind < 2; kind++)
                for (int x = 0; x < F; x++) {
                    fprintf(f.fp, "%d,%s,%d,%.17g,", l, kind ? "k" : "q", x + 1,
                            a->layer_theta[l * F + x]);
                    ss_csv_num(f.fp, (kind ? lk : lq)[l * F + x]);
                    fputc('\n', f.fp);
                }
        rc = ss_atomic_commit(&f, err);
    }
    ss_heatmap_opts ho = {.log_scale = 0};
    if (!rc && !(rc = ss_out_path(path, sizeof path, r->out, "usage_layer_q.png", err)))
        rc = ss_heatmap_png(path, lq, L, F, &ho, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, r->out, "usage_layer_k.png", err)))
        rc = ss_heatmap_png(path, lk, L, F, &ho, err);
    for (int kind = 0; kind < 2 && !rc; kind++)
        rc = usage_figure(r->out, kind ? lk : lq, L, F, kind, err);
    return rc;
}

/* One chosen head's InP matrix: .npy, .png and the .svg of Figure 15. */
static ss_code write_inp_head(const ss_freq_out *r, const char *dir, const char **ls, int s,
                              ss_error *err)
{
    int F = r->res->n_freq, rows = r->res->row + 1;
    char name[40], path[4096];
    ss_head_name(r->refs[s].layer, r->refs[s].head, name, sizeof name);
    const double *m = r->res->inp + (size_t)s * rows * F;
    int64_t shape[2] = {rows, F};
    size_t len = strlen(name);
    snprintf(name + len, sizeof name - len, ".npy");
    ss_code rc;
    if ((rc = ss_out_path(path, sizeof path, dir, name, err)) ||
        (rc = ss_npy_write(path, SS_NPY_F64, 2, shape, m, err)))
        return rc;
    snprintf(name + len, sizeof name - len, ".png");
    ss_heatmap_opts ho = {.log_scale = 0};
    if ((rc = ss_out_path(path, sizeof path, dir, name, err)) ||
        (rc = ss_heatmap_png(path, m, rows, F, &ho, err)))
        return rc;
    /* Figure 15 with axes: wide columns however few frequencies */
    char title[96];
    ss_head_name(r->refs[s].layer, r->refs[s].head, name, sizeof name);
    snprintf(title, sizeof title, "InP of %s: query row %d against key j, by frequency", name,
             r->res->row);
    snprintf(name + len, sizeof name - len, ".svg");
    ss_fig_heatmap_opts fo = {title, {"frequency index l (1 = highest)", ls, 0, 0},
                              {"key position j", NULL, 0, rows},
                              "InP(i, j, l) (sums over l to the logit)", {0, 0, 0, 0, 0}};
    if (!(rc = ss_out_path(path, sizeof path, dir, name, err)))
        rc = ss_fig_heatmap_write(path, m, rows, F, &fo, err);
    return rc;
}

/* inp/: three files per chosen head (810 on a 270-head model, 1 s of
 * PNG/SVG encoding at 2048 tokens), the heads in parallel: each writes only
 * its own files. The first failure is reported, the rest skipped. */
static ss_code write_inp(const ss_freq_out *r, ss_error *err)
{
    char dir[4096];
    ss_code rc = ss_out_path(dir, sizeof dir, r->out, "inp", err);
    if (!rc)
        rc = ss_mkdirs(dir, err);
    const char **ls = ss_fig_names("", 1, r->res->n_freq);
    if (!rc && !ls)
        rc = ss_fail(err, SS_ERR_NOMEM, "freq: out of memory for axis names");
    int failed = rc != SS_OK;
    #pragma omp parallel for schedule(dynamic, 1) if (r->n_refs > 1)
    for (int s = 0; s < r->n_refs; s++) {
        if (__atomic_load_n(&failed, __ATOMIC_RELAXED))
            continue;
        ss_error e = {0};
        ss_code c = write_inp_head(r, dir, ls, s, &e);
        if (c) {
            #pragma omp critical(ss_freq_inp_err)
            if (!failed) {
                failed = 1;
                rc = c;
                *err = e;
            }
        }
    }
    free(ls);
    return rc;
}

/* With --sdh: each SDH's score on these prompts next to the score its scan
 * found; under half of it is marked "far_below" (OOD prompts, where a text
 * SDH may not be slash-dominant at all and its ablation ratios mean little). */
static void check_scan_scores(const ss_freq_out *r, cJSON *root)
{
    const ss_freq_result *res = r->res;
    int n = res->n;
    cJSON *arr = cJSON_AddArrayToObject(root, "sdh_scores");
    for (int i = 0; i < r->n_sdh; i++) {
        const ss_sdh *e = &r->sdh[i];
        int slot = 0;
        while (r->refs[slot].layer != e->layer || r->refs[slot].head != e->head)
            slot++; /* every SDH is a chosen head */
        /* variant 0: the unablated schedule */
        double here = e->delta < n ? res->scores[(size_t)slot * res->n_var * n + e->delta] : NAN;
        char name[32];
        ss_head_name(e->layer, e->head, name, sizeof name);
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", name);
        cJSON_AddNumberToObject(x, "delta", e->delta);
        cJSON_AddItemToObject(x, "score", ss_json_num_or_null(here));
        cJSON_AddNumberToObject(x, "scan_score", e->score);
        cJSON_AddBoolToObject(x, "far_below", !(here >= 0.5 * e->score));
        cJSON_AddItemToArray(arr, x);
    }
}

ss_code ss_freq_write(const ss_freq_out *r, ss_explain_record *rec, ss_error *err)
{
    int prov;
    cJSON *root = ss_explain_root(rec, "freq", 1, &prov);
    cJSON *set = cJSON_AddObjectToObject(root, "settings");
    cJSON_AddNumberToObject(set, "row", r->fo->row);
    cJSON_AddNumberToObject(set, "skip", r->fo->skip);
    cJSON_AddNumberToObject(set, "inp_rows", r->res->inp_rows);
    cJSON_AddNumberToObject(set, "max_delta", r->fo->max_delta);
    cJSON_AddNumberToObject(set, "active_frac", r->active_frac);
    cJSON_AddNumberToObject(set, "scale", r->res->scale);
    if (r->has_L)
        cJSON_AddNumberToObject(set, "L", r->L);
    cJSON_AddItemToObject(root, "selection", ss_explain_take(&rec->selection));
    ss_code rc = prov ? ss_mkdirs(r->out, err) : err->code;
    if (!rc)
        rc = write_bands(r, root, err);
    if (!rc)
        rc = write_ablation(r, root, err);
    if (!rc)
        rc = write_active(r, root, err);
    if (!rc)
        rc = write_alignment(r, root, err);
    if (!rc)
        rc = write_usage(r, err);
    if (!rc)
        rc = write_inp(r, err);
    if (!rc && r->n_sdh)
        check_scan_scores(r, root);
    char path[4096];
    if (!rc && !(rc = ss_out_path(path, sizeof path, r->out, "freq.json", err)))
        rc = ss_json_write_file(path, root, err);
    cJSON_Delete(root);
    ss_explain_record_free(rec);
    return rc;
}

