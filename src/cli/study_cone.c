/* Takeaway 3 of the study report judged head by head: a layer-0 SDH's Q or
 * K is close to rank one because of (i) a bias that outweighs the token
 * part, ||b|| > mean ||W^T h|| (Table 12), or (ii) token embeddings on a
 * cone around the dominant direction v: v^T RMSN(x) nearly the same for
 * every token, RV(v) = std / |mean| <= STUDY_CONE_RV (Table 11, where the
 * paper's SDHs have 0.04-0.34 and random directions 9.5-13). Read from the
 * cone stage's cone.csv and the SDHs of scan-id's sdh.csv. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/study.h"
#include "cli/study_csv.h"
#include "report/figure.h"

#define SMALL_KAPPA 0.1

typedef struct {
    int col_rv[2], col_proj[2], col_bias[2], col_name, col_random;
} cone_cols;

/* Whether name is a layer-0 SDH of scan-id (offsets 0..4, the small regime). */
static int is_sdh(const ss_csv *sdh, const char *name)
{
    int creg = ss_csv_col(sdh, "regime"), cname = ss_csv_col(sdh, "name");
    for (int r = 0; r < sdh->rows; r++)
        if (!strcmp(ss_csv_str(sdh, r, creg), "small") &&
            !strcmp(ss_csv_str(sdh, r, cname), name))
            return 1;
    return 0;
}

/* Why head r's X (0: Q, 1: K) is close to rank one: 'b' bias, 'c' cone, 0 neither. */
static char reason(const ss_csv *t, const cone_cols *c, int r, int x)
{
    if (ss_csv_value(t, r, c->col_bias[x]) > ss_csv_value(t, r, c->col_proj[x]))
        return 'b';
    return ss_csv_value(t, r, c->col_rv[x]) <= STUDY_CONE_RV ? 'c' : 0;
}

static void reason_text(char q, char k, char *out, size_t n)
{
    const char *name[] = {"bias", "cone"};
    if (!q && !k)
        snprintf(out, n, "neither");
    else if (q && k)
        snprintf(out, n, "Q: %s, K: %s", name[q == 'c'], name[k == 'c']);
    else
        snprintf(out, n, "%s: %s", q ? "Q" : "K", name[(q ? q : k) == 'c']);
}

static ss_code need_cols(const ss_csv *t, cone_cols *c, ss_error *err)
{
    static const char *const need[] = {"name", "rv_dominant_Q", "rv_dominant_K",
                                       "proj_norm_mean_Q", "proj_norm_mean_K", "bias_norm_Q",
                                       "bias_norm_K", "rv_random", NULL};
    ss_code rc = ss_csv_need(t, need, err);
    c->col_name = ss_csv_col(t, "name");
    c->col_random = ss_csv_col(t, "rv_random");
    static const char *const xs[2] = {"Q", "K"};
    for (int x = 0; x < 2; x++) {
        char b[64];
        snprintf(b, sizeof b, "rv_dominant_%s", xs[x]);
        c->col_rv[x] = ss_csv_col(t, b);
        snprintf(b, sizeof b, "proj_norm_mean_%s", xs[x]);
        c->col_proj[x] = ss_csv_col(t, b);
        snprintf(b, sizeof b, "bias_norm_%s", xs[x]);
        c->col_bias[x] = ss_csv_col(t, b);
    }
    return rc;
}

static double lg(double x)
{
    return x > 0 ? log10(x) : NAN; /* no bar for RV 0 or missing */
}

/* log10 RV of v_Q, v_K and a random direction for the heads flagged in
 * pick (Figure 12, head by head). */
static ss_code rv_figure(ss_html *h, const ss_csv *t, const cone_cols *c, const int *pick,
                         int n_pick, ss_error *err)
{
    const char **cats = calloc((size_t)n_pick + 1, sizeof *cats);
    double *v = malloc(sizeof(double) * 3 * ((size_t)n_pick + 1));
    if (!cats || !v) {
        free(cats);
        free(v);
        return ss_fail(err, SS_ERR_NOMEM, "report: out of memory");
    }
    for (int k = 0; k < n_pick; k++) {
        int r = pick[k];
        cats[k] = ss_csv_str(t, r, c->col_name);
        v[k] = lg(ss_csv_value(t, r, c->col_rv[0]));
        v[n_pick + k] = lg(ss_csv_value(t, r, c->col_rv[1]));
        v[2 * n_pick + k] = lg(ss_csv_value(t, r, c->col_random));
    }
    static const char *const ser[3] = {"v_Q of W_Q", "v_K of W_K", "random"};
    ss_fig_bars b = {"How much the tokens' projection varies: log10 RV", "layer-0 head",
                     "log10 RV = log10 std/|mean|", n_pick, 3, cats, ser, v, NULL, NULL,
                     NULL, log10(STUDY_CONE_RV)};
    char ref[48];
    snprintf(ref, sizeof ref, "a cone: RV <= %.2g", STUDY_CONE_RV);
    b.ref_label = ref;
    ss_text svg = {0};
    ss_code rc = ss_fig_barchart(&svg, &b, err);
    if (!rc) {
        char cap[600];
        snprintf(cap, sizeof cap, "Figure 12 head by head: the relative variation RV of the "
                 "vocabulary's RMS-normed embeddings along each head's dominant directions "
                 "v_Q, v_K (of W_Q, W_K), against a random Gaussian direction. On a cone RV "
                 "is small: a bar below the dashed line, log10 RV <= %.2f (RV <= %.2g), counts "
                 "as one here; a bar near 0 (RV near 1) spreads as far as its mean.",
                 log10(STUDY_CONE_RV), STUDY_CONE_RV);
        ss_html_figure(h, &svg, cap);
    }
    ss_text_free(&svg);
    free(cats);
    free(v);
    return rc;
}

ss_code study_takeaway3_heads(ss_html *h, const study_model *m, int mi, ss_error *err)
{
    ss_csv t, sdh;
    cone_cols c;
    ss_code rc = ss_csv_read_pair(&t, m->stage[ST_CONE].dir, "cone.csv", &sdh,
                                  m->stage[ST_SCAN_ID].dir, "sdh.csv", err);
    if (rc)
        return rc;
    int *pick = malloc(sizeof(int) * ((size_t)t.rows + 1));
    static const char *const need_sdh[] = {"regime", "name", NULL};
    if (!pick)
        rc = ss_fail(err, SS_ERR_NOMEM, "report: out of memory");
    if (rc || (rc = need_cols(&t, &c, err)) || (rc = ss_csv_need(&sdh, need_sdh, err)))
        goto done;
    int n_sdh = 0, n_bias = 0, n_cone = 0, n_held = 0;
    double best_rv = INFINITY, random = t.rows ? ss_csv_value(&t, 0, c.col_random) : NAN;
    for (int r = 0; r < t.rows; r++) {
        if (!is_sdh(&sdh, ss_csv_str(&t, r, c.col_name)))
            continue;
        pick[n_sdh++] = r;
        char q = reason(&t, &c, r, 0), k = reason(&t, &c, r, 1);
        n_bias += q == 'b' || k == 'b';
        n_cone += (q == 'c' || k == 'c') && q != 'b' && k != 'b';
        n_held += q || k;
        best_rv = fmin(best_rv, fmin(ss_csv_value(&t, r, c.col_rv[0]),
                                     ss_csv_value(&t, r, c.col_rv[1])));
    }
    if (n_sdh == 0) {
        ss_html_verdict(h, -1, "No SDH in layer 0 (offsets 0..4, score >= %.1f): Takeaway 3 "
                               "is about layer-0 SDHs, so there is nothing to judge; the table "
                               "shows every layer-0 head.", SMALL_KAPPA);
    } else {
        int holds = 2 * n_held >= n_sdh ? 1 : n_held > 0 ? -1 : 0;
        ss_html_verdict(h, holds,
                        "Takeaway 3 %s: %d of %d layer-0 heads with an SDH have Q or K close to "
                        "rank one "
                        "for one of the paper's two reasons; for %d the bias outweighs the "
                        "token part (||b|| > mean ||W^T h||), for %d the embeddings lie on a "
                        "cone around the dominant direction of W_Q or W_K (RV <= %.2g). The "
                        "smallest RV is %.3g, against %.3g for a random direction (the "
                        "paper's SDHs: 0.04-0.34).",
                        holds == 1 ? "holds" : holds ? "holds for some heads" : "does not hold",
                        n_held, n_sdh, n_bias, n_cone, STUDY_CONE_RV, best_rv, random);
    }
    static const char *const hd[] = {"head", "SDH", "RV(v_Q)", "RV(v_K)", "RV(random)",
                                     "mean ||W_Q^T h||", "||b_Q||", "mean ||W_K^T h||",
                                     "||b_K||", "close to rank one by"};
    char id[32];
    snprintf(id, sizeof id, "cone-heads-%d", mi);
    ss_html_table_begin(h, id, "Layer-0 heads (Tables 11, 12): the relative variation of the "
                               "embeddings along the dominant directions, and the bias against "
                               "the token part", hd, 10);
    for (int r = 0; r < t.rows; r++) {
        const char *name = ss_csv_str(&t, r, c.col_name);
        ss_html_row_begin(h);
        ss_html_cell(h, name);
        ss_html_cell(h, is_sdh(&sdh, name) ? "yes" : "no");
        ss_html_cell_num(h, ss_csv_value(&t, r, c.col_rv[0]), 4);
        ss_html_cell_num(h, ss_csv_value(&t, r, c.col_rv[1]), 4);
        ss_html_cell_num(h, ss_csv_value(&t, r, c.col_random), 4);
        for (int x = 0; x < 2; x++) {
            ss_html_cell_num(h, ss_csv_value(&t, r, c.col_proj[x]), 4);
            ss_html_cell_num(h, ss_csv_value(&t, r, c.col_bias[x]), 4);
        }
        char why[64];
        reason_text(reason(&t, &c, r, 0), reason(&t, &c, r, 1), why, sizeof why);
        ss_html_cell(h, why);
        ss_html_row_end(h);
    }
    ss_html_table_end(h);
    if (n_sdh == 0) /* the figure of every layer-0 head then */
        for (int r = 0; r < t.rows; r++)
            pick[n_sdh++] = r;
    if (n_sdh > 0)
        rc = rv_figure(h, &t, &c, pick, n_sdh, err);
done:
    free(pick);
    ss_csv_free(&sdh);
    ss_csv_free(&t);
    return rc;
}
