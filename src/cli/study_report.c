/* DIR/report.html of `slashscope study`, built from the stage folders only
 * (so a resumed study gives the same report): per model the card, the
 * settings, Takeaways 1-4 as verdicts computed from the numbers with their
 * figures and tables, the whole-model view; then, for several models, the
 * SDHs they share, gain and lose. Every table number carries its exact
 * value (report/html.h); wall times are marked class="timing". */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "cli/study.h"
#include "cli/study_csv.h"
#include "io/json.h"
#include "io/npy.h"
#include "report/colormap.h"
#include "report/figure.h"
#include "report/html.h"
#include "report/lineplot.h"

#define SMALL_KAPPA 0.1

/* ---- small helpers ---- */

static void fig(ss_html *h, ss_text *svg, const char *caption)
{
    ss_html_figure(h, svg, caption);
    ss_text_free(svg);
}

static double median_of(double *v, int n, ss_five_number *f)
{
    ss_five_number_summary(v, n, f);
    return f->median;
}

static const cJSON *obj(const cJSON *j, const char *key)
{
    return j ? cJSON_GetObjectItemCaseSensitive(j, key) : NULL;
}

static double num(const cJSON *j, const char *key)
{
    const cJSON *v = obj(j, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* How many of a group's heads had no value for a column and were left out
 * of its mean: <result>.json's averages.<group>.undefined (0 when absent). */
static int undefined_count(const cJSON *group, const char *col)
{
    double u = num(obj(group, "undefined"), col);
    return isfinite(u) && u > 0 ? (int)u : 0;
}

static const char *str(const cJSON *j, const char *key)
{
    const cJSON *v = obj(j, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static ss_code load(const study_model *m, int stage, const char *file, cJSON **out,
                    ss_error *err)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", m->stage[stage].dir, file);
    return ss_json_load(p, 1u << 28, out, err);
}

/* ---- the settings and the model card ---- */

static void settings_table(ss_html *h, const study *s, const study_model *m, const cJSON *scan)
{
    static const char *const hd[] = {"setting", "value"};
    ss_html_table_begin(h, NULL, "Prompts and settings", hd, 2);
    const cJSON *pr = obj(scan, "prompts");
    char buf[512];
    struct { const char *k, *v; } rows[] = {
        {"prompt set", s->src_path},
        {"kind", str(pr, "source")},
        {"SHA-256", str(pr, "sha256")},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ss_html_row_begin(h);
        ss_html_cell(h, rows[i].k);
        ss_html_cell(h, rows[i].v);
        ss_html_row_end(h);
    }
    struct { const char *k; double v; } nums[] = {
        {"prompts scanned", num(scan, "prompt_count")},
        {"prompts skipped (too short)", num(pr, "skipped_short")},
        {"length N (tokens)", num(scan, "length")},
        {"skip (key positions left out)", num(scan, "skip")},
        {"random-token prompts (OOD)", (double)s->ood},
        {"OOD seed", (double)s->seed},
        {"threads", num(scan, "threads")},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        ss_html_row_begin(h);
        ss_html_cell(h, nums[i].k);
        ss_html_cell_int(h, (long long)nums[i].v);
        ss_html_row_end(h);
    }
    snprintf(buf, sizeof buf, "%s (BLAS: OpenBLAS, OpenMP build)", str(scan, "tool_version"));
    ss_html_row_begin(h);
    ss_html_cell(h, "slashscope");
    ss_html_cell(h, buf);
    ss_html_row_end(h);
    ss_html_row_begin(h);
    ss_html_cell(h, "heads explained (rank, cone, freq)");
    ss_html_cell(h, s->heads);
    ss_html_row_end(h);
    ss_html_table_end(h);

    /* wall times: not part of the findings, and differ run to run */
    ss_html_raw(h, "<div class=\"timing\">\n");
    static const char *const th[] = {"stage", "folder", "wall time (s)", "this run"};
    ss_html_table_begin(h, NULL, "Stages (wall time of the run that computed each)", th, 4);
    for (int k = 0; k < ST_COUNT; k++) {
        const ss_stage *st = &m->stage[k];
        if (!ss_stage_done(st))
            continue;
        ss_html_row_begin(h);
        ss_html_cell(h, st->name);
        ss_html_cell(h, st->dir);
        ss_html_cell_num(h, st->seconds, 3);
        ss_html_cell(h, st->reused ? "reused" : "computed");
        ss_html_row_end(h);
    }
    ss_html_table_end(h);
    ss_html_raw(h, "</div>\n");
}

static void model_card(ss_html *h, const cJSON *info)
{
    static const char *const hd[] = {"field", "value"};
    ss_html_table_begin(h, NULL, "Model card (slashscope info)", hd, 2);
    static const char *const strs[] = {"path", "format", "architecture", "dtype", "activation"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        ss_html_row_begin(h);
        ss_html_cell(h, strs[i]);
        ss_html_cell(h, str(info, strs[i]));
        ss_html_row_end(h);
    }
    static const char *const nums[] = {"n_layer", "n_head", "n_kv_head", "d_model", "d_head",
                                       "d_ff", "vocab", "context"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        ss_html_row_begin(h);
        ss_html_cell(h, nums[i]);
        ss_html_cell_int(h, (long long)num(info, nums[i]));
        ss_html_row_end(h);
    }
    const cJSON *rope = obj(info, "rope");
    ss_html_row_begin(h);
    ss_html_cell(h, "RoPE base");
    ss_html_cell_num(h, num(rope, "base"), 6);
    ss_html_row_end(h);
    ss_html_row_begin(h);
    ss_html_cell(h, "RoPE frequencies F");
    ss_html_cell_int(h, (long long)num(rope, "n_freq"));
    ss_html_row_end(h);
    ss_html_row_begin(h);
    ss_html_cell(h, "RoPE scaling");
    ss_html_cell(h, str(obj(rope, "scaling"), "type"));
    ss_html_row_end(h);
    ss_html_table_end(h);
}

/* ---- the whole model at a glance ---- */

static ss_code whole_model(ss_html *h, const study_model *m, int L, int H, ss_error *err)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/slash.npy", m->stage[ST_SCAN_ID].dir);
    ss_npy a;
    ss_code rc = ss_npy_read(p, &a, err);
    if (rc)
        return rc;
    double *v = ss_npy_as_f64(&a, err);
    int N = a.ndim == 3 ? (int)a.shape[2] : 0;
    if (!v || a.ndim != 3 || a.shape[0] != L || a.shape[1] != H) {
        free(v);
        ss_npy_free(&a);
        return ss_fail(err, SS_ERR_SHAPE, "%s: wants [%d, %d, N] (layers, heads, offsets)", p,
                       L, H);
    }
    double *best = malloc(sizeof(double) * L * H);
    const char **heads = ss_fig_names("H", 0, H), **layers = ss_fig_names("L", 0, L);
    if (best && heads && layers) {
        for (int i = 0; i < L * H; i++) {
            best[i] = NAN;
            for (int d = 0; d <= 4 && d < N; d++) {
                double s = v[(size_t)i * N + d];
                if (isfinite(s) && !(best[i] >= s))
                    best[i] = s;
            }
        }
        ss_fig_heatmap_opts o = {"Every head's best small-offset slash score (max over 0..4)",
                                 {"head", heads, 0, 0}, {"layer", layers, 0, 0},
                                 "average slash score", {0, 0, 1e-9 + 0, 0, 0}};
        o.scale.vmin = 0;
        o.scale.vmax = 0;
        ss_text svg = {0};
        if (!(rc = ss_fig_heatmap(&svg, best, L, H, &o, err)))
            fig(h, &svg, "The whole model at a glance: for every layer and head the largest "
                         "average slash score at offsets 0..4 on the prompt set (scan-id/"
                         "slash.npy). Heads at or above 0.1 are SDHs.");
        ss_text_free(&svg);
    } else {
        rc = ss_fail(err, SS_ERR_NOMEM, "report: out of memory");
    }
    free(best);
    free(heads);
    free(layers);
    free(v);
    ss_npy_free(&a);
    return rc;
}

/* ---- Takeaway 1: SDHs are intrinsic ---- */

typedef struct {
    char name[32];
    int layer, head, delta;
    double id, ood, ratio;
} sdh_ratio;

/* The small-regime rows of compare.json. */
static ss_code load_ratios(const study_model *m, sdh_ratio **out, int *n, ss_error *err)
{
    cJSON *j = NULL;
    *out = NULL;
    *n = 0;
    ss_code rc = load(m, ST_COMPARE, "compare.json", &j, err);
    if (rc)
        return rc;
    const cJSON *heads = obj(j, "heads"), *e;
    int cap = cJSON_GetArraySize(heads);
    sdh_ratio *r = calloc((size_t)cap + 1, sizeof *r);
    if (!r) {
        cJSON_Delete(j);
        return ss_fail(err, SS_ERR_NOMEM, "report: out of memory");
    }
    cJSON_ArrayForEach(e, heads)
    {
        if (strcmp(str(e, "regime"), "small"))
            continue;
        sdh_ratio *x = &r[(*n)++];
        snprintf(x->name, sizeof x->name, "%s", str(e, "name"));
        x->layer = (int)num(e, "layer");
        x->head = (int)num(e, "head");
        x->delta = (int)num(e, "delta");
        x->id = num(e, "score_id");
        x->ood = num(e, "score_ood");
        x->ratio = num(e, "ratio");
    }
    cJSON_Delete(j);
    *out = r;
    return SS_OK;
}

static ss_code takeaway1(ss_html *h, const study_model *m, int L, int mi, ss_error *err)
{
    sdh_ratio *r;
    int n;
    ss_code rc = load_ratios(m, &r, &n, err);
    if (rc)
        return rc;
    ss_html_heading(h, 3, NULL, "Takeaway 1: SDHs are intrinsic (they survive random tokens)");
    if (n == 0) {
        ss_html_verdict(h, -1, "No SDH at offsets 0..4 with score >= %.1f on the prompt set: "
                               "nothing to compare.", SMALL_KAPPA);
        free(r);
        return SS_OK;
    }
    double *v = malloc(sizeof(double) * (n + 1) * (L + 2));
    ss_fig_box *boxes = calloc((size_t)L + 1, sizeof *boxes);
    char (*names)[40] = calloc((size_t)L + 1, sizeof *names);
    if (!v || !boxes || !names) {
        free(v); free(boxes); free(names); free(r);
        return ss_fail(err, SS_ERR_NOMEM, "report: out of memory");
    }
    int survive = 0;
    for (int i = 0; i < n; i++) {
        v[i] = r[i].ratio;
        survive += r[i].ood >= SMALL_KAPPA;
    }
    ss_five_number all;
    median_of(v, n, &all); /* sorts v: the per-layer copies below come from r */
    ss_html_verdict(h, 2 * survive >= n ? 1 : 0,
                    "Takeaway 1 %s for %d of %d SDHs (their score on uniform random tokens is "
                    "still >= %.1f)%s: median OOD/ID ratio %.3g, IQR %.3g-%.3g.",
                    2 * survive >= n ? "holds" : "does not hold: it holds only", survive, n,
                    SMALL_KAPPA, 2 * survive >= n ? "" : ", fewer than half",
                    all.median, all.q1, all.q3);
    /* per layer: one box each, and the layers that depart */
    int nb = 0;
    double *pts = v + n + 1;
    for (int l = 0; l < L; l++) {
        int k = 0;
        for (int i = 0; i < n; i++)
            if (r[i].layer == l)
                pts[k++] = r[i].ratio;
        if (!k)
            continue;
        ss_five_number f;
        double *sorted = pts + n + 1;
        memcpy(sorted, pts, sizeof(double) * k);
        median_of(sorted, k, &f);
        snprintf(names[nb], sizeof names[nb], "layer %d (%d)", l, k);
        boxes[nb] = (ss_fig_box){names[nb], f.min, f.q1, f.median, f.q3, f.max, pts, k};
        pts += 2 * (n + 1);
        if (pts + 2 * (n + 1) > v + (size_t)(n + 1) * (L + 2))
            pts = v + n + 1; /* never: L + 2 slots of n + 1 values */
        nb++;
        if (k >= 3 && f.median < 0.5)
            ss_html_verdict(h, 0, "Where the model departs from the paper: layer %d's %d SDHs "
                                  "collapse on random tokens (median ratio %.3g): they are "
                                  "content-driven, not positional.", l, k, f.median);
    }
    ss_fig_box_opts bo = {"OOD / in-distribution slash score of each SDH, by layer",
                          "layer (number of SDHs)", "score on random tokens / on the prompts",
                          1.0};
    ss_text svg = {0};
    if ((rc = ss_fig_boxplot(&svg, boxes, nb, &bo, err)))
        goto done;
    char cap[256];
    snprintf(cap, sizeof cap, "Figure 7's view: per SDH (offsets 0..4, score >= %.1f), its "
                              "average slash score on random tokens over that on the prompt "
                              "set. 1 (dashed) means unchanged.", SMALL_KAPPA);
    fig(h, &svg, cap);
    (void)mi;
done:
    free(v);
    free(boxes);
    free(names);
    free(r);
    return rc;
}

/* The SDH table: sdh.csv (score, spread) joined with compare.json. */
static ss_code sdh_table(ss_html *h, const study_model *m, int mi, ss_error *err)
{
    ss_csv t;
    ss_code rc = ss_csv_read(&t, m->stage[ST_SCAN_ID].dir, "sdh.csv", err);
    if (rc)
        return rc;
    static const char *const need[] = {"regime", "delta", "name", "score", "std", "ci_low",
                                       "ci_high", "prompts", NULL};
    sdh_ratio *r = NULL;
    int n = 0;
    if ((rc = ss_csv_need(&t, need, err)) || (rc = load_ratios(m, &r, &n, err))) {
        ss_csv_free(&t);
        return rc;
    }
    int creg = ss_csv_col(&t, "regime"), cd = ss_csv_col(&t, "delta"),
        cn = ss_csv_col(&t, "name"), cs = ss_csv_col(&t, "score"), csd = ss_csv_col(&t, "std"),
        clo = ss_csv_col(&t, "ci_low"), chi = ss_csv_col(&t, "ci_high"),
        cp = ss_csv_col(&t, "prompts");
    static const char *const hd[] = {"head", "offset", "score", "std over prompts",
                                     "95% interval low", "95% interval high", "prompts",
                                     "score on random tokens", "OOD / ID"};
    char id[32];
    snprintf(id, sizeof id, "sdh-%d", mi);
    ss_html_table_begin(h, id, "SDHs by offset (score >= 0.1 at offsets 0..4), strongest "
                               "first, with the spread over prompts (Student-t 95% interval)",
                        hd, 9);
    for (int i = 0; i < t.rows; i++) {
        if (strcmp(ss_csv_str(&t, i, creg), "small"))
            continue;
        int d = (int)ss_csv_value(&t, i, cd);
        const sdh_ratio *x = NULL;
        for (int k = 0; k < n && !x; k++)
            if (r[k].delta == d && strcmp(r[k].name, ss_csv_str(&t, i, cn)) == 0)
                x = &r[k];
        ss_html_row_begin(h);
        ss_html_cell(h, ss_csv_str(&t, i, cn));
        ss_html_cell_int(h, d);
        ss_html_cell_num(h, ss_csv_value(&t, i, cs), 4);
        ss_html_cell_num(h, ss_csv_value(&t, i, csd), 3);
        ss_html_cell_num(h, ss_csv_value(&t, i, clo), 4);
        ss_html_cell_num(h, ss_csv_value(&t, i, chi), 4);
        ss_html_cell_int(h, (long long)ss_csv_value(&t, i, cp));
        ss_html_cell_num(h, x ? x->ood : NAN, 4);
        ss_html_cell_num(h, x ? x->ratio : NAN, 3);
        ss_html_row_end(h);
    }
    ss_html_table_end(h);
    free(r);
    ss_csv_free(&t);
    return SS_OK;
}

/* Figures 3 and 6: the strongest SDHs' mean attention (the maps stage). */
static ss_code maps(ss_html *h, const study_model *m, ss_error *err)
{
    if (!m->has_maps)
        return SS_OK;
    cJSON *j = NULL;
    ss_code rc = load(m, ST_MAPS, "scan.json", &j, err);
    if (rc)
        return rc;
    const cJSON *mp = obj(j, "maps"), *heads = obj(mp, "heads"), *e;
    double N = num(j, "length");
    ss_html_figures_begin(h);
    cJSON_ArrayForEach(e, heads)
    {
        if (!cJSON_IsString(e))
            continue;
        char p[4300];
        snprintf(p, sizeof p, "%s/maps/%s.npy", m->stage[ST_MAPS].dir, e->valuestring);
        ss_npy a;
        if ((rc = ss_npy_read(p, &a, err)))
            break;
        double *v = ss_npy_as_f64(&a, err);
        if (!v || a.ndim != 2) {
            free(v);
            ss_npy_free(&a);
            rc = ss_fail(err, SS_ERR_SHAPE, "%s: wants a square 2-d map", p);
            break;
        }
        char title[200], cap[400];
        snprintf(title, sizeof title, "Mean attention of %s", e->valuestring);
        ss_fig_heatmap_opts o = {title, {"key position j", NULL, 0, N},
                                 {"query position i", NULL, 0, N},
                                 "mean attention (log scale)", {1, 0, 0, 0, 1}};
        ss_text svg = {0};
        rc = ss_fig_heatmap(&svg, v, (int)a.shape[0], (int)a.shape[1], &o, err);
        snprintf(cap, sizeof cap, "%s's attention averaged over the first %d prompts and "
                                  "pooled to %lld x %lld bins (Figures 3, 6): an SDH is a "
                                  "bright line parallel to the diagonal.", e->valuestring,
                 STUDY_MAP_PROMPTS, (long long)a.shape[0], (long long)a.shape[1]);
        if (!rc)
            fig(h, &svg, cap);
        ss_text_free(&svg);
        free(v);
        ss_npy_free(&a);
        if (rc)
            break;
    }
    ss_html_figures_end(h);
    cJSON_Delete(j);
    return rc;
}

/* ---- Takeaway 2: rank one ---- */

static const char *const RANK_COLS[5] = {"r1_Q", "r1_K", "r1_H", "r1_WQ", "r1_WK"};

/* Tables 3 and 4 head by head: the listed heads of rank.csv. */
static ss_code rank_heads(ss_html *h, const study_model *m, int mi, int *n_one, int *n_listed,
                          ss_error *err)
{
    *n_one = *n_listed = 0;
    ss_csv t;
    ss_code rc = ss_csv_read(&t, m->stage[ST_RANK].dir, "rank.csv", err);
    if (rc)
        return rc;
    static const char *const cols[] = {"name", "listed", "r1_Q", "R0.95_Q", "r1_K", "R0.95_K",
                                       "r1_H", "R0.95_H", NULL};
    if ((rc = ss_csv_need(&t, cols, err))) {
        ss_csv_free(&t);
        return rc;
    }
    static const char *const hd[] = {"head", "r1(Q)", "R0.95(Q)", "r1(K)", "R0.95(K)", "r1(H)",
                                     "R0.95(H)"};
    char id[32];
    snprintf(id, sizeof id, "rank-heads-%d", mi);
    ss_html_table_begin(h, id, "Rank of each listed head's pre-RoPE Q and K and of its hidden "
                               "states (Tables 3, 4)", hd, 7);
    int cl = ss_csv_col(&t, "listed");
    for (int i = 0; i < t.rows; i++) {
        if (ss_csv_value(&t, i, cl) != 1)
            continue;
        (*n_listed)++;
        *n_one += fmax(ss_csv_value(&t, i, ss_csv_col(&t, "r1_Q")),
                       ss_csv_value(&t, i, ss_csv_col(&t, "r1_K"))) >= 0.9;
        ss_html_row_begin(h);
        ss_html_cell(h, ss_csv_str(&t, i, ss_csv_col(&t, "name")));
        for (int c = 2; c < 8; c++)
            ss_html_cell_num(h, ss_csv_value(&t, i, ss_csv_col(&t, cols[c])), 4);
        ss_html_row_end(h);
    }
    ss_html_table_end(h);
    ss_csv_free(&t);
    return SS_OK;
}

static ss_code takeaway2(ss_html *h, const study_model *m, int mi, ss_error *err)
{
    ss_html_heading(h, 3, NULL, "Takeaway 2: pre-RoPE queries and keys are nearly rank one");
    if (!ss_stage_done(&m->stage[ST_RANK])) {
        ss_html_verdict(h, -1, "Not computed: no SDH to explain.");
        return SS_OK;
    }
    ss_csv t;
    cJSON *rj = NULL; /* rank.json: the heads each mean left out */
    ss_code rc = load(m, ST_RANK, "rank.json", &rj, err);
    if (!rc && (rc = ss_csv_read(&t, m->stage[ST_RANK].dir, "rank_summary.csv", err)))
        cJSON_Delete(rj);
    if (rc)
        return rc;
    const cJSON *avg = obj(rj, "averages");
    static const char *const need[] = {"group", "heads", "r1_Q", "R0.95_Q", "r1_K", "R0.95_K",
                                       "r1_H", "R0.95_H", "r1_WQ", "r1_WK", NULL};
    if ((rc = ss_csv_need(&t, need, err))) {
        ss_csv_free(&t);
        cJSON_Delete(rj);
        return rc;
    }
    int listed = -1, all = -1, cg = ss_csv_col(&t, "group");
    for (int i = 0; i < t.rows; i++) {
        if (!strcmp(ss_csv_str(&t, i, cg), "listed"))
            listed = i;
        if (!strcmp(ss_csv_str(&t, i, cg), "all"))
            all = i;
    }
    int use = listed >= 0 ? listed : all;
    double q = ss_csv_value(&t, use, ss_csv_col(&t, "r1_Q")),
           k = ss_csv_value(&t, use, ss_csv_col(&t, "r1_K")),
           hh = ss_csv_value(&t, use, ss_csv_col(&t, "r1_H"));
    /* the per-head table is built first for its counts, shown after the summary */
    ss_html part = {.figures = h->figures, .tables = h->tables + 1};
    int n_one = 0, n_listed = 0;
    if ((rc = rank_heads(&part, m, mi, &n_one, &n_listed, err))) {
        ss_html_free(&part);
        ss_csv_free(&t);
        cJSON_Delete(rj);
        return rc;
    }
    int holds = (q >= 0.9 || k >= 0.9) && hh < fmax(q, k) ? 1 : n_one > 0 ? -1 : 0;
    ss_html_verdict(h, holds, "Takeaway 2 %s: over the %s heads the top singular direction "
                              "holds %.3g of pre-RoPE Q's energy and %.3g of K's, against %.3g "
                              "for the hidden states they come from (mean r1 over %d prompts); "
                              "%d of %d listed heads have r1(Q) or r1(K) >= 0.9.",
                    holds == 1 ? "holds" : holds ? "holds for some heads" : "does not hold",
                    listed >= 0 ? "listed" : "", q, k, hh, STUDY_RANK_PROMPTS, n_one, n_listed);
    static const char *const hd[] = {"heads", "count", "r1(Q)", "R0.95(Q)", "r1(K)",
                                     "R0.95(K)", "r1(H)", "R0.95(H)", "r1(W_Q)", "r1(W_K)"};
    char id[32];
    snprintf(id, sizeof id, "rank-%d", mi);
    ss_html_table_begin(h, id, "Rank of the listed heads vs all heads (Tables 3, 4): r1 is the "
                               "top singular value's share of the energy, R0.95 the number of "
                               "directions holding 95%", hd, 10);
    int left_out = 0;
    for (int i = 0; i < t.rows; i++) {
        const cJSON *group = obj(avg, ss_csv_str(&t, i, cg));
        int heads = (int)ss_csv_value(&t, i, ss_csv_col(&t, "heads"));
        ss_html_row_begin(h);
        ss_html_cell(h, ss_csv_str(&t, i, cg));
        ss_html_cell_int(h, heads);
        for (int c = 2; c < 10; c++) {
            int u = undefined_count(group, need[c]);
            left_out += u;
            ss_html_cell_mean(h, ss_csv_value(&t, i, ss_csv_col(&t, need[c])), 4, heads, u,
                              "heads");
        }
        ss_html_row_end(h);
    }
    ss_html_table_end(h);
    if (left_out)
        ss_html_para(h, "A head without a value (nan in rank.csv: a zeroed W_Q or an all-zero "
                        "Q has no spectrum) is left out of its column's mean; the cells say "
                        "how many heads each mean covers.");
    cJSON_Delete(rj);
    ss_text_putn(&h->t, part.t.p ? part.t.p : "", part.t.len);
    h->t.oom |= part.t.oom;
    h->tables = part.tables;
    ss_html_free(&part);
    if (listed >= 0 && all >= 0) {
        double v[10];
        for (int c = 0; c < 5; c++) {
            v[c] = ss_csv_value(&t, listed, ss_csv_col(&t, RANK_COLS[c]));
            v[5 + c] = ss_csv_value(&t, all, ss_csv_col(&t, RANK_COLS[c]));
        }
        static const char *const cats[5] = {"Q", "K", "H", "W_Q", "W_K"},
                                 *ser[2] = {"listed heads", "all heads"};
        ss_fig_bars b = {"Top singular direction's share of the energy, r1",
                         "what is decomposed", "r1", 5, 2, cats, ser, v, NULL, NULL, NULL, 0};
        ss_text svg = {0};
        if ((rc = ss_fig_barchart(&svg, &b, err))) {
            ss_csv_free(&t);
            return rc;
        }
        fig(h, &svg, "Figures 9 and 10's comparison: the listed heads (the SDHs) against all "
                     "heads, for the pre-RoPE queries Q and keys K, the hidden states H and "
                     "the weights.");
    }
    ss_csv_free(&t);
    return SS_OK;
}

/* ---- Takeaway 3: the cone ---- */

static ss_code takeaway3(ss_html *h, const study_model *m, int mi, ss_error *err)
{
    ss_html_heading(h, 3, NULL, "Takeaway 3: why layer-0 queries and keys are rank one "
                                "(a bias, or embeddings on a cone)");
    ss_code rc = study_takeaway3_heads(h, m, mi, err);
    cJSON *j = NULL;
    if (!rc)
        rc = load(m, ST_CONE, "cone.json", &j, err);
    if (rc)
        return rc;
    const cJSON *av = obj(obj(j, "averages"), "all");
    const cJSON *Q = obj(av, "Q"), *K = obj(av, "K");
    /* r\314\203 is r with a combining tilde (U+0303 in UTF-8): the paper's r~1 and R~ */
    static const char *const hd[] = {"", "r\314\2031", "R\314\203", "r1", "R", "dominant share",
                                     "RV of the dominant direction", "bias norm"};
    static const char *const keys[] = {"r1_tilde", "R_tilde", "r1", "R", "dominant_share",
                                       "rv_dominant", "bias_norm"};
    char id[32];
    snprintf(id, sizeof id, "cone-%d", mi);
    ss_html_table_begin(h, id, "The layer-0 cone over the vocabulary, averaged over the heads "
                               "(Tables 2, 11, 12)", hd, 8);
    int heads = (int)num(av, "heads"), left_out = 0;
    for (int w = 0; w < 2; w++) {
        ss_html_row_begin(h);
        ss_html_cell(h, w ? "K" : "Q");
        for (int c = 0; c < 7; c++) {
            char col[48]; /* cone.csv's column: averages.all.undefined's key */
            snprintf(col, sizeof col, "%s_%s", keys[c], w ? "K" : "Q");
            int u = undefined_count(av, col);
            left_out += u;
            ss_html_cell_mean(h, num(w ? K : Q, keys[c]), 4, heads, u, "heads");
        }
        ss_html_row_end(h);
    }
    ss_html_table_end(h);
    if (left_out)
        ss_html_para(h, "A head without a value (nan in cone.csv: a zeroed projection has no "
                        "spectrum and no dominant direction) is left out of its column's mean; "
                        "the cells say how many of the %d heads each mean covers.", heads);
    ss_html_para(h, "For comparison, random directions give RV %.3g.", num(j, "rv_random"));
    cJSON_Delete(j);
    return SS_OK;
}

/* ---- Takeaway 4: frequencies ---- */

static ss_code band_boxes(ss_html *h, const study_model *m, int mi, double *med_first,
                          double *med_last, int *n_var, ss_error *err)
{
    ss_csv b, a;
    ss_code rc = ss_csv_read_pair(&b, m->stage[ST_FREQ].dir, "bands.csv", &a,
                                  m->stage[ST_FREQ].dir, "ablation.csv", err);
    if (rc)
        return rc;
    static const char *const nb[] = {"variant", "band_first", "band_last", "removed", NULL};
    static const char *const na[] = {"variant", "ratio", NULL};
    if ((rc = ss_csv_need(&b, nb, err)) || (rc = ss_csv_need(&a, na, err)))
        goto done;
    int V = b.rows < 8 ? b.rows : 8, cv = ss_csv_col(&a, "variant"), cr = ss_csv_col(&a, "ratio");
    double *vals = malloc(sizeof(double) * (2 * a.rows + 1) * (V + 1));
    ss_fig_box box[8];
    char names[8][48];
    if (!vals) {
        rc = ss_fail(err, SS_ERR_NOMEM, "report: out of memory");
        goto done;
    }
    static const char *const hd[] = {"band removed", "frequencies l", "SDH offsets",
                                     "median score kept", "Q1", "Q3"};
    char id[32];
    snprintf(id, sizeof id, "bands-%d", mi);
    ss_html_table_begin(h, id, "Band ablation (Table 5): the average slash score with one band "
                               "of frequencies left unrotated, over the unablated score, "
                               "median over the explained heads at their own offsets "
                               "(one without a finite ratio is left out)", hd, 6);
    for (int v = 0; v < V; v++) {
        const char *name = ss_csv_str(&b, v, 0);
        double *pts = vals + (size_t)v * (2 * a.rows + 1), *sorted = pts + a.rows;
        int k = 0, rows = 0;
        for (int i = 0; i < a.rows; i++)
            if (!strcmp(ss_csv_str(&a, i, cv), name)) {
                rows++;
                if (isfinite(ss_csv_value(&a, i, cr)))
                    pts[k++] = ss_csv_value(&a, i, cr);
            }
        memcpy(sorted, pts, sizeof(double) * k);
        ss_five_number f;
        median_of(sorted, k, &f);
        snprintf(names[v], sizeof names[v], "%s (l %s-%s)", name, ss_csv_str(&b, v, 1),
                 ss_csv_str(&b, v, 2));
        box[v] = (ss_fig_box){names[v], f.min, f.q1, f.median, f.q3, f.max, pts, k};
        if (v == 0)
            *med_first = f.median;
        *med_last = f.median;
        ss_html_row_begin(h);
        ss_html_cell(h, name);
        char ls[64];
        snprintf(ls, sizeof ls, "%s-%s", ss_csv_str(&b, v, 1), ss_csv_str(&b, v, 2));
        ss_html_cell(h, ls);
        ss_html_cell_int(h, k);
        ss_html_cell_mean(h, f.median, 4, rows, rows - k, "SDH offsets");
        ss_html_cell_num(h, f.q1, 4);
        ss_html_cell_num(h, f.q3, 4);
        ss_html_row_end(h);
    }
    ss_html_table_end(h);
    *n_var = V;
    ss_fig_box_opts bo = {"Slash score kept when a band of frequencies is removed",
                          "band removed (frequency indices l, 1 = highest)",
                          "ablated / unablated score", 1.0};
    ss_text svg = {0};
    if (V > 0 && !(rc = ss_fig_boxplot(&svg, box, V, &bo, err)))
        fig(h, &svg, "Figure 16's view: each dot is one explained head at its own offset. "
                     "Below 1, the band carries part of the slash.");
    ss_text_free(&svg);
    free(vals);
done:
    ss_csv_free(&a);
    ss_csv_free(&b);
    return rc;
}

static ss_code condition_curve(ss_html *h, const study_model *m, ss_error *err)
{
    ss_csv t;
    ss_code rc = ss_csv_read(&t, m->stage[ST_FREQ].dir, "freqcond.csv", err);
    if (rc)
        return rc;
    char p[4200];
    snprintf(p, sizeof p, "%s/freqcond_curve.npy", m->stage[ST_FREQ].dir);
    ss_npy a;
    if ((rc = ss_npy_read(p, &a, err))) {
        ss_csv_free(&t);
        return rc;
    }
    double *v = ss_npy_as_f64(&a, err);
    int S = a.ndim == 2 ? (int)a.shape[0] : 0, X = a.ndim == 2 ? (int)a.shape[1] : 0;
    if (!v || S != t.rows) {
        rc = v ? ss_fail(err, SS_ERR_SHAPE, "%s: %d curves for the %d heads of freqcond.csv", p,
                         S, t.rows)
               : err->code;
    } else if (S > 0) {
        /* heads with the same active set have the same curve: one line
         * each, named by its first head and how many share it */
        ss_series sr[SS_DISTINCT_SERIES];
        char names[SS_DISTINCT_SERIES][48];
        int show = 0, cn = ss_csv_col(&t, "name"), groups = 0;
        for (int k = 0; k < S; k++) {
            int first = -1, same = 0;
            for (int j = 0; j < k && first < 0; j++)
                if (!memcmp(v + (size_t)j * X, v + (size_t)k * X, sizeof(double) * X))
                    first = j;
            if (first >= 0)
                continue;
            groups++;
            for (int j = k + 1; j < S; j++)
                same += !memcmp(v + (size_t)j * X, v + (size_t)k * X, sizeof(double) * X);
            if (show == SS_DISTINCT_SERIES)
                continue;
            if (same)
                snprintf(names[show], sizeof names[show], "%s and %d more",
                         ss_csv_str(&t, k, cn), same);
            else
                snprintf(names[show], sizeof names[show], "%s", ss_csv_str(&t, k, cn));
            sr[show] = (ss_series){names[show], NULL, v + (size_t)k * X, X};
            show++;
        }
        char title[200];
        snprintf(title, sizeof title, "Frequency condition: sum of cos(theta x) over each head's "
                                      "active frequencies%s", groups > show ? " (first 20)" : "");
        ss_plot_opts o = {title, "offset x (tokens)", "f(x)", 0};
        ss_text svg = {0};
        char cap[300];
        snprintf(cap, sizeof cap, "Figure 17's view: a pulse at x = 0 above a flat floor is what "
                                  "the slash-dominance condition asks of the active frequencies "
                                  "(%d heads, %d distinct active sets; freq/freqcond.csv).", S,
                 groups);
        if (!(rc = ss_fig_lines(&svg, sr, show, &o, err)))
            fig(h, &svg, cap);
        ss_text_free(&svg);
    }
    free(v);
    ss_npy_free(&a);
    ss_csv_free(&t);
    return rc;
}

static ss_code inp_figure(ss_html *h, const study_model *m, const char *head, ss_error *err)
{
    char p[4300];
    snprintf(p, sizeof p, "%s/inp/%s.npy", m->stage[ST_FREQ].dir, head);
    ss_npy a;
    ss_code rc = ss_npy_read(p, &a, err);
    if (rc)
        return rc;
    double *v = ss_npy_as_f64(&a, err);
    const char **ls = a.ndim == 2 ? ss_fig_names("", 1, (int)a.shape[1]) : NULL;
    if (v && ls) {
        char title[200];
        snprintf(title, sizeof title, "InP of %s by key position and frequency", head);
        ss_fig_heatmap_opts o = {title, {"frequency index l (1 = highest)", ls, 0, 0},
                                 {"key position j", NULL, 0, (double)a.shape[0]},
                                 "InP(i, j, l)", {0, 0, 0, 0, 0}};
        ss_text svg = {0};
        if (!(rc = ss_fig_heatmap(&svg, v, (int)a.shape[0], (int)a.shape[1], &o, err)))
            fig(h, &svg, "Figure 15's view: the per-frequency terms of one query row's logits "
                         "against every key (they sum over l to the logit).");
        ss_text_free(&svg);
    } else if (!rc) {
        rc = ss_fail(err, SS_ERR_SHAPE, "%s: wants a 2-d [rows, F] array", p);
    }
    free(ls);
    free(v);
    ss_npy_free(&a);
    return rc;
}

static ss_code takeaway4(ss_html *h, const study_model *m, int mi, const char *top,
                         ss_error *err)
{
    ss_html_heading(h, 3, NULL, "Takeaway 4: high and medium frequencies carry the slash");
    if (!ss_stage_done(&m->stage[ST_FREQ])) {
        ss_html_verdict(h, -1, "Not computed: no SDH to explain.");
        return SS_OK;
    }
    double first = NAN, last = NAN;
    int V = 0;
    /* the band table and figure go after the verdict they decide */
    ss_html part = {.figures = h->figures, .tables = h->tables};
    ss_code rc = band_boxes(&part, m, mi, &first, &last, &V, err);
    if (rc) {
        ss_html_free(&part);
        return rc;
    }
    if (V >= 2) {
        int holds = first < last;
        ss_html_verdict(h, holds, "Takeaway 4 %s: removing the highest band keeps a median %.3g "
                                  "of the score, removing the lowest %.3g.",
                        holds ? "holds" : "does not hold", first, last);
    }
    ss_text_putn(&h->t, part.t.p ? part.t.p : "", part.t.len);
    h->t.oom |= part.t.oom;
    h->figures = part.figures;
    h->tables = part.tables;
    ss_html_free(&part);
    if ((rc = condition_curve(h, m, err)))
        return rc;
    if (top && *top)
        rc = inp_figure(h, m, top, err);
    return rc;
}

/* ---- several models side by side ---- */

typedef struct {
    char key[40]; /* "L0H1@1" */
    double score[STUDY_MAX_MODELS];
} shared_row;

static ss_code side_by_side(ss_html *h, const study *s, ss_error *err)
{
    int cap = 4096, n = 0;
    shared_row *rows = calloc((size_t)cap, sizeof *rows);
    if (!rows)
        return ss_fail(err, SS_ERR_NOMEM, "report: out of memory");
    ss_code rc = SS_OK;
    for (int mi = 0; mi < s->n_models && !rc; mi++) {
        ss_csv t;
        if ((rc = ss_csv_read(&t, s->model[mi].stage[ST_SCAN_ID].dir, "sdh.csv", err)))
            break;
        int creg = ss_csv_col(&t, "regime"), cn = ss_csv_col(&t, "name"),
            cd = ss_csv_col(&t, "delta"), cs = ss_csv_col(&t, "score");
        for (int i = 0; i < t.rows; i++) {
            if (strcmp(ss_csv_str(&t, i, creg), "small"))
                continue;
            char key[40];
            snprintf(key, sizeof key, "%s at %s", ss_csv_str(&t, i, cn), ss_csv_str(&t, i, cd));
            int k = 0;
            while (k < n && strcmp(rows[k].key, key))
                k++;
            if (k == n) {
                if (n == cap)
                    continue;
                snprintf(rows[n].key, sizeof rows[n].key, "%s", key);
                for (int j = 0; j < STUDY_MAX_MODELS; j++)
                    rows[n].score[j] = NAN;
                n++;
            }
            rows[k].score[mi] = ss_csv_value(&t, i, cs);
        }
        ss_csv_free(&t);
    }
    if (!rc) {
        ss_html_heading(h, 2, "side-by-side", "The models side by side");
        const char *hd[STUDY_MAX_MODELS + 2] = {"SDH (head at offset)"};
        for (int mi = 0; mi < s->n_models; mi++)
            hd[mi + 1] = s->model[mi].name;
        hd[s->n_models + 1] = "against the first model";
        ss_html_table_begin(h, "side-by-side", "SDHs at offsets 0..4 of each model (score; a "
                                               "dash: not an SDH there)", hd, s->n_models + 2);
        int shared = 0, gained = 0, lost = 0;
        for (int k = 0; k < n; k++) {
            int in0 = isfinite(rows[k].score[0]), others = 0;
            for (int mi = 1; mi < s->n_models; mi++)
                others += isfinite(rows[k].score[mi]);
            const char *what = in0 && others == s->n_models - 1 ? "shared by all"
                               : in0 && others == 0             ? "lost"
                               : in0                            ? "kept by some"
                                                                : "gained";
            shared += in0 && others == s->n_models - 1;
            lost += in0 && others == 0;
            gained += !in0;
            ss_html_row_begin(h);
            ss_html_cell(h, rows[k].key);
            for (int mi = 0; mi < s->n_models; mi++)
                ss_html_cell_num(h, rows[k].score[mi], 4);
            ss_html_cell(h, what);
            ss_html_row_end(h);
        }
        ss_html_table_end(h);
        ss_html_para(h, "Against %s: %d SDHs shared by all models, %d lost by all others, %d "
                        "gained (SDHs of another model only).", s->model[0].name, shared, lost,
                     gained);
    }
    free(rows);
    return rc;
}

/* ---- one model ---- */

static ss_code model_section(ss_html *h, const study *s, int mi, ss_error *err)
{
    const study_model *m = &s->model[mi];
    cJSON *info = NULL, *scan = NULL;
    ss_code rc = load(m, ST_INFO, "info.json", &info, err);
    if (!rc)
        rc = load(m, ST_SCAN_ID, "scan.json", &scan, err);
    if (rc)
        goto done;
    char title[300];
    snprintf(title, sizeof title, "%s", m->name);
    char id[32];
    snprintf(id, sizeof id, "model-%d", mi);
    ss_html_heading(h, 2, id, title);
    model_card(h, info);
    settings_table(h, s, m, scan);
    int L = (int)num(info, "n_layer"), H = (int)num(info, "n_head");
    double N = num(scan, "length");
    if (N <= 500)
        ss_html_para(h, "The large-offset regime (offsets 500..5000, score >= 1e-3) is skipped: "
                        "prompts of %.0f tokens have no offset of 500 or more.", N);
    if ((rc = whole_model(h, m, L, H, err)) || (rc = takeaway1(h, m, L, mi, err)) ||
        (rc = sdh_table(h, m, mi, err)) || (rc = maps(h, m, err)) ||
        (rc = takeaway2(h, m, mi, err)) || (rc = takeaway3(h, m, mi, err)))
        goto done;
    char top[64] = "";
    const cJSON *mp = obj(obj(scan, "maps"), "heads");
    (void)mp;
    if (m->has_maps) {
        cJSON *ms = NULL;
        if (!(rc = load(m, ST_MAPS, "scan.json", &ms, err))) {
            const cJSON *first = cJSON_GetArrayItem(obj(obj(ms, "maps"), "heads"), 0);
            if (cJSON_IsString(first))
                snprintf(top, sizeof top, "%s", first->valuestring);
        }
        cJSON_Delete(ms);
        if (rc)
            goto done;
    }
    rc = takeaway4(h, m, mi, top, err);
done:
    cJSON_Delete(info);
    cJSON_Delete(scan);
    return rc;
}

ss_code study_report(const study *s, ss_error *err)
{
    ss_html h = {0};
    char title[400];
    if (s->n_models == 1)
        snprintf(title, sizeof title, "slashscope study: %s", s->model[0].name);
    else
        snprintf(title, sizeof title, "slashscope study: %d models", s->n_models);
    ss_html_begin(&h, title);
    ss_html_para(&h, "Slash-dominant heads (SDHs) and why they appear, after Cheng, Zhang, Hou "
                     "et al., Demystifying the Slash Pattern in Attention: The Role of RoPE. "
                     "An SDH attends to the token a fixed offset back; a head is one at offset "
                     "0..4 when its average slash score is at least 0.1. Every number below "
                     "comes from the stage folders next to this file, which the single "
                     "slashscope commands and readers understand.");
    ss_code rc = SS_OK;
    for (int mi = 0; mi < s->n_models && !rc; mi++)
        rc = model_section(&h, s, mi, err);
    if (!rc && s->n_models > 1)
        rc = side_by_side(&h, s, err);
    if (rc) {
        ss_html_free(&h);
        ss_error_prefix(err, "%s/report.html", s->out);
        return rc;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/report.html", s->out);
    return ss_html_write(&h, path, err);
}
