/* Column mass, exact vertical-and-slash coverage and the pattern choice
 * (src/analysis/colmass.c, coverage.c, sparsity.c) against references
 * written here from the definition (explicit masks over the whole matrix),
 * on llama.cpp's attention from ../shared and on synthetic maps whose rows
 * sum to 1 exactly; the identities (every diagonal kept -> 1, nothing kept
 * -> 0); and the theory lab's trained layer 1 against the scan. */
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/colmass.h"
#include "analysis/coverage.h"
#include "analysis/scan_acc.h"
#include "analysis/scan_analysis.h"
#include "analysis/slash.h"
#include "analysis/sparsity.h"
#include "engine/forward.h"
#include "harness.h"
#include "io/npy.h"
#include "theory/lab.h"

/* Feeds maps [L * H][n][n] (float) through the observer in blocks of
 * `block` rows, one pass. */
static void feed_pass(ss_coverage *c, const float *maps, int L, int H, int n, int block)
{
    for (int l = 0; l < L; l++) {
        for (int h = 0; h < H; h++) {
            const float *m = maps + ((size_t)l * H + h) * n * n;
            for (int r0 = 0; r0 < n; r0 += block) {
                int nr = n - r0 < block ? n - r0 : block;
                ss_coverage_on_probs(c, l, h, r0, nr, m + (size_t)r0 * n, n);
            }
        }
        ss_error err = {0};
        ss_coverage_on_layer_done(c, l, &err);
    }
}

static void feed_prompt(ss_coverage *c, const float *maps, int L, int H, int n, int block)
{
    ss_error err = {0};
    feed_pass(c, maps, L, H, n, block);
    CHECK_MSG(ss_coverage_select(c, &err) == SS_OK, "%s", err.msg);
    feed_pass(c, maps, L, H, n, block);
    CHECK_MSG(ss_coverage_end_prompt(c, &err) == SS_OK, "%s", err.msg);
}

/* Indices 0..n-1 ordered by mass, heaviest first, ties to the lower index
 * (selection by repeated maximum: a different algorithm from the code's). */
static void rank_ref(const double *mass, int n, int *order)
{
    unsigned char *used = calloc((size_t)n, 1);
    for (int r = 0; r < n; r++) {
        int best = -1;
        for (int j = 0; j < n; j++)
            if (!used[j] && (best < 0 || mass[j] > mass[best]))
                best = j;
        used[best] = 1;
        order[r] = best;
    }
    free(used);
}

/* One map's coverage and kept fraction at (v, s) by an explicit mask. */
static void coverage_ref(const float *m, int n, int v, int s, double *cov, double *kept)
{
    double *col = calloc((size_t)n, sizeof *col), *diag = calloc((size_t)n, sizeof *diag);
    int *oc = calloc((size_t)n, sizeof *oc), *od = calloc((size_t)n, sizeof *od);
    unsigned char *kc = calloc((size_t)n, 1), *kd = calloc((size_t)n, 1);
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            col[j] += m[(size_t)i * n + j];
            diag[i - j] += m[(size_t)i * n + j];
        }
    rank_ref(col, n, oc);
    rank_ref(diag, n, od);
    for (int r = 0; r < v; r++)
        kc[oc[r]] = 1;
    for (int r = 0; r < s; r++)
        kd[od[r]] = 1;
    double mass = 0, cnt = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++)
            if (kc[j] || kd[i - j]) {
                mass += m[(size_t)i * n + j];
                cnt += 1;
            }
    *cov = mass / n;
    *kept = cnt / ((double)n * (n + 1) / 2);
    free(col); free(diag); free(oc); free(od); free(kc); free(kd);
}

/* Every grid point of every head against the mask reference, maps
 * [P][L * H][n][n]. */
static void check_against_ref(const ss_coverage *c, const float *maps, int P, int L, int H, int n,
                              double tol)
{
    const ss_vs_grid *g = &c->grid;
    double worst = 0;
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int a = 0; a < g->n_v; a++)
                for (int b = 0; b < g->n_s; b++) {
                    double cov = 0, kept = 0;
                    for (int p = 0; p < P; p++) {
                        double cp, kp;
                        coverage_ref(maps + (((size_t)p * L + l) * H + h) * n * n, n, g->v[a],
                                     g->s[b], &cp, &kp);
                        cov += cp / P;
                        kept += kp / P;
                    }
                    double dc = fabs(ss_coverage_mean(c, l, h, a, b) - cov);
                    double dk = fabs(ss_coverage_kept_mean(c, l, h, a, b) - kept);
                    worst = dc > worst ? dc : worst;
                    CHECK_MSG(dc <= tol && dk <= 1e-12, "L%dH%d v=%d s=%d: coverage %.15g vs %.15g,"
                              " kept %.15g vs %.15g", l, h, g->v[a], g->s[b],
                              ss_coverage_mean(c, l, h, a, b), cov,
                              ss_coverage_kept_mean(c, l, h, a, b), kept);
                }
    fprintf(stderr, "  %d x %d heads, %d prompts, n = %d: worst coverage difference %.3g\n", L, H,
            P, n, worst);
}

/* llama.cpp's attention of the short sequence, every head, blocks of 5. */
static void test_llamacpp_attention(void)
{
    const char *files[] = {"fixtures/mistral_mha/ref/llamacpp_attn_s0.npy",
                           "models/stories260K/ref/llamacpp_attn_s0.npy"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        int nd;
        long sh[4];
        double *d = ss_test_load_npy(ss_test_path("%s/%s", ss_test_shared(), files[f]), &nd, sh);
        CHECK(d && nd == 4);
        if (!d || nd != 4) {
            free(d);
            continue;
        }
        int L = (int)sh[0], H = (int)sh[1], n = (int)sh[2];
        size_t total = (size_t)L * H * n * n;
        float *maps = malloc(total * sizeof *maps);
        for (size_t x = 0; x < total; x++)
            maps[x] = (float)d[x];
        free(d);
        ss_vs_grid g;
        ss_vs_grid_default(n, &g);
        ss_coverage c;
        ss_error err = {0};
        CHECK(ss_coverage_init(&c, L, H, n, &g, &err) == SS_OK);
        feed_prompt(&c, maps, L, H, n, 5);
        check_against_ref(&c, maps, 1, L, H, n, 1e-12);
        /* the column mass: mean over the n - j rows of column j */
        double *mean = malloc((size_t)L * H * n * sizeof *mean);
        ss_colmass_mean(&c.colmass, mean);
        for (int x = 0; x < L * H; x++)
            for (int j = 0; j < n; j += 3) {
                double s = 0;
                for (int i = j; i < n; i++)
                    s += maps[((size_t)x * n + i) * n + j];
                CHECK_NEAR(mean[(size_t)x * n + j], s / (n - j), 1e-12);
            }
        free(mean);
        ss_coverage_free(&c);
        free(maps);
    }
}

/* Synthetic maps whose rows sum to 1 exactly (dyadic entries), over several
 * prompts, L = 2, H = 3, with a grid of sizes chosen by hand. */
static float *dyadic_maps(int P, int LH, int n, unsigned seed)
{
    float *m = calloc((size_t)P * LH * n * n, sizeof *m);
    for (size_t x = 0; x < (size_t)P * LH; x++)
        for (int i = 0; i < n; i++) {
            float *row = m + (x * n + i) * n;
            /* halve what is left onto pseudo-random keys, the rest on the last one */
            float left = 1.0f;
            for (int t = 0; t < 6 && i > 0; t++) {
                seed = seed * 1103515245u + 12345u;
                int j = (int)((seed >> 8) % (unsigned)(i + 1));
                row[j] += left / 2;
                left /= 2;
            }
            row[i] += left;
        }
    return m;
}

static void test_identities(void)
{
    int P = 3, L = 2, H = 3, n = 37;
    float *maps = dyadic_maps(P, L * H, n, 7);
    ss_vs_grid g = {.n_v = 4, .n_s = 5, .v = {0, 1, 3, 8}, .s = {0, 2, 5, 20, 37}};
    ss_coverage c;
    ss_error err = {0};
    CHECK(ss_coverage_init(&c, L, H, n, &g, &err) == SS_OK);
    for (int p = 0; p < P; p++)
        feed_prompt(&c, maps + (size_t)p * L * H * n * n, L, H, n, 4);
    CHECK(c.prompts == P);
    check_against_ref(&c, maps, P, L, H, n, 1e-12);
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++) {
            /* nothing kept: 0; every diagonal kept: 1, exactly (rows sum to 1) */
            CHECK(ss_coverage_mean(&c, l, h, 0, 0) == 0.0);
            CHECK(ss_coverage_kept_mean(&c, l, h, 0, 0) == 0.0);
            for (int a = 0; a < g.n_v; a++) {
                CHECK_MSG(ss_coverage_mean(&c, l, h, a, 4) == 1.0, "L%dH%d v=%d: %.17g", l, h,
                          g.v[a], ss_coverage_mean(&c, l, h, a, 4));
                CHECK(ss_coverage_kept_mean(&c, l, h, a, 4) == 1.0);
            }
            /* more kept never covers less */
            for (int a = 0; a < g.n_v; a++)
                for (int b = 0; b < g.n_s; b++) {
                    if (a > 0)
                        CHECK(ss_coverage_mean(&c, l, h, a, b) >=
                              ss_coverage_mean(&c, l, h, a - 1, b));
                    if (b > 0)
                        CHECK(ss_coverage_mean(&c, l, h, a, b) >=
                              ss_coverage_mean(&c, l, h, a, b - 1));
                }
        }
    ss_coverage_free(&c);
    free(maps);
}

/* Coverage and column-mass sums over disjoint prompt sets merge into the
 * one-shot sums; other grids do not merge. */
static void test_colmass_merge(void)
{
    int P = 4, L = 1, H = 2, n = 16;
    float *maps = dyadic_maps(P, L * H, n, 3);
    ss_vs_grid g;
    ss_vs_grid_default(n, &g);
    ss_coverage all, a, b;
    ss_error err = {0};
    CHECK(ss_coverage_init(&all, L, H, n, &g, &err) == SS_OK);
    CHECK(ss_coverage_init(&a, L, H, n, &g, &err) == SS_OK);
    CHECK(ss_coverage_init(&b, L, H, n, &g, &err) == SS_OK);
    for (int p = 0; p < P; p++) {
        const float *m = maps + (size_t)p * L * H * n * n;
        feed_prompt(&all, m, L, H, n, 16);
        feed_prompt(p < 1 ? &a : &b, m, L, H, n, 3);
    }
    CHECK(ss_coverage_merge(&a, &b, &err) == SS_OK); /* merges the column mass too */
    for (int x = 0; x < L * H * n; x++) {
        CHECK(a.colmass.count[x] == P && all.colmass.count[x] == P);
        CHECK_NEAR(a.colmass.sum[x], all.colmass.sum[x], 1e-12);
    }
    CHECK(a.prompts == P);
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int v = 0; v < g.n_v; v++)
                for (int s = 0; s < g.n_s; s++) {
                    CHECK_NEAR(ss_coverage_mean(&a, l, h, v, s), ss_coverage_mean(&all, l, h, v, s),
                               1e-12);
                    CHECK_NEAR(ss_coverage_kept_mean(&a, l, h, v, s),
                               ss_coverage_kept_mean(&all, l, h, v, s), 1e-12);
                }
    ss_vs_grid g2 = g;
    g2.s[g2.n_s - 1] = n - 1;
    ss_coverage c2;
    CHECK(ss_coverage_init(&c2, L, H, n, &g2, &err) == SS_OK);
    CHECK(ss_coverage_merge(&a, &c2, &err) == SS_ERR_INCOMPATIBLE);
    ss_error_clear(&err);
    ss_coverage_free(&c2);
    ss_colmass other;
    CHECK(ss_colmass_init(&other, L, H, n + 1, &err) == SS_OK);
    CHECK(ss_colmass_merge(&a.colmass, &other, &err) == SS_ERR_INCOMPATIBLE);
    ss_colmass_free(&other);
    ss_coverage_free(&all);
    ss_coverage_free(&a);
    ss_coverage_free(&b);
    free(maps);
}

/* Misuse is an error, not a wrong number: passes out of order, layers
 * missing, a second pass over other attention, blocks outside the shape. */
static void test_errors(void)
{
    int L = 1, H = 1, n = 8;
    float *maps = dyadic_maps(2, 1, n, 5);
    ss_vs_grid g;
    ss_vs_grid_default(n, &g);
    ss_coverage c;
    ss_error err = {0};
    CHECK(ss_coverage_init(&c, L, H, n, &g, &err) == SS_OK);
    CHECK(ss_coverage_end_prompt(&c, &err) == SS_ERR_USAGE);
    ss_error_clear(&err);
    ss_coverage_on_layer_done(&c, 0, &err);
    CHECK(ss_coverage_select(&c, &err) == SS_OK); /* an all-zero prompt is still a prompt */
    CHECK(ss_coverage_select(&c, &err) == SS_ERR_USAGE);
    ss_error_clear(&err);
    ss_coverage_free(&c);

    CHECK(ss_coverage_init(&c, L, H, n, &g, &err) == SS_OK);
    feed_pass(&c, maps, L, H, n, 3);
    CHECK(ss_coverage_select(&c, &err) == SS_OK);
    feed_pass(&c, maps + n * n, L, H, n, 3); /* other attention in pass 2 */
    CHECK(ss_coverage_end_prompt(&c, &err) == SS_ERR_VALUE);
    CHECK_MSG(strstr(err.msg, "differed between the two passes") != NULL, "%s", err.msg);
    ss_error_clear(&err);
    ss_coverage_free(&c);

    CHECK(ss_coverage_init(&c, L, H, n, &g, &err) == SS_OK);
    CHECK(ss_coverage_on_probs(&c, 0, 1, 0, 1, maps, n) == SS_ERR_USAGE);
    ss_coverage_on_layer_done(&c, 0, &err);
    CHECK(ss_coverage_select(&c, &err) == SS_ERR_USAGE);
    ss_error_clear(&err);
    ss_coverage_free(&c);

    ss_vs_grid bad = {.n_v = 2, .n_s = 1, .v = {3, 2}, .s = {0}};
    CHECK(ss_coverage_init(&c, L, H, n, &bad, &err) == SS_ERR_USAGE);
    CHECK_MSG(strstr(err.msg, "ascending") != NULL, "%s", err.msg);
    ss_error_clear(&err);
    bad = (ss_vs_grid){.n_v = 1, .n_s = 1, .v = {0}, .s = {9}};
    CHECK(ss_coverage_init(&c, L, H, n, &bad, &err) == SS_ERR_USAGE);
    CHECK_MSG(strstr(err.msg, "outside [0, 8]") != NULL, "%s", err.msg);
    free(maps);
}

/* The choice over the collected result of c. */
static ss_code choose(const ss_coverage *c, double target, ss_sparsity_head *out, ss_error *err)
{
    ss_coverage_result r;
    ss_code rc = ss_coverage_collect(c, &r, err);
    if (!rc)
        rc = ss_sparsity_choose(&r, target, out, err);
    ss_coverage_result_free(&r);
    return rc;
}

/* Patterns whose answer is known: a pure previous-token slash wants one
 * diagonal, a sink wants one column; an unreachable target takes the best. */
static void test_choice(void)
{
    int n = 64;
    float *maps = calloc((size_t)2 * n * n, sizeof *maps);
    for (int i = 0; i < n; i++) {
        maps[(size_t)i * n + (i > 0 ? i - 1 : 0)] = 1.0f; /* head 0: S[i][i-1] = 1 */
        maps[(size_t)n * n + (size_t)i * n] = 1.0f;       /* head 1: S[i][0] = 1 */
    }
    ss_vs_grid g;
    ss_vs_grid_default(n, &g);
    ss_coverage c;
    ss_error err = {0};
    CHECK(ss_coverage_init(&c, 1, 2, n, &g, &err) == SS_OK);
    feed_prompt(&c, maps, 1, 2, n, 64);
    ss_sparsity_head out[2];
    CHECK(choose(&c, 0.95, out, &err) == SS_OK);
    double causal = n * (n + 1) / 2.0;
    CHECK(out[0].v == 0 && out[0].s == 1 && out[0].reached);
    CHECK_NEAR(out[0].coverage, (n - 1.0) / n, 1e-15); /* row 0 looks at itself */
    CHECK_NEAR(out[0].sparsity, (n - 1) / causal, 1e-15);
    CHECK(out[1].v == 1 && out[1].s == 0 && out[1].reached);
    CHECK(out[1].coverage == 1.0);
    CHECK_NEAR(out[1].sparsity, n / causal, 1e-15);
    /* target 1: row 0 needs (0, 0) too, cheapest through column 0 (the
     * heaviest column: S[0][0] + S[1][0]), which shares (1, 0) with the
     * slash: 64 + 63 - 1 entries, one fewer than diagonals 1 and 0 */
    CHECK(choose(&c, 1.0, out, &err) == SS_OK);
    CHECK_MSG(out[0].v == 1 && out[0].s == 1 && out[0].coverage == 1.0, "v=%d s=%d %g", out[0].v,
              out[0].s, out[0].coverage);
    CHECK_NEAR(out[0].sparsity, (2 * n - 2) / causal, 1e-15);
    CHECK(choose(&c, 1.5, out, &err) == SS_ERR_USAGE);
    ss_error_clear(&err);
    ss_coverage_free(&c);
    /* a budget nothing reaches: the budget itself, reached = 0 */
    ss_vs_grid one = {.n_v = 1, .n_s = 1, .v = {0}, .s = {0}};
    CHECK(ss_coverage_init(&c, 1, 2, n, &one, &err) == SS_OK);
    feed_prompt(&c, maps, 1, 2, n, 7);
    CHECK(choose(&c, 0.5, out, &err) == SS_OK);
    CHECK(!out[0].reached && out[0].v == 0 && out[0].s == 0 && out[0].coverage == 0.0);
    ss_coverage_free(&c);
    free(maps);
}

/* The theory lab's trained layer 1, a pure slash at offset 1: s = 2 covers
 * at least what the scan reports at offsets 0 and 1 (SPEC.md section 2, skip
 * 4), and the pattern chosen for 0.95 is slash-only. */
static void test_theory_layer1(void)
{
    ss_lab_config lc;
    ss_lab_defaults(&lc);
    lc.train.quiet = 1;
    lc.train.tau2 = 1; /* layer 1 is trained in stage 1 */
    lc.n_eval = 64;
    ss_lab_result r;
    ss_error err = {0};
    CHECK_MSG(ss_lab_run(&lc, &r, &err) == SS_OK, "%s", err.msg);
    if (err.code)
        return;
    int n = r.N;
    CHECK_MSG(r.s1_final >= 0.95, "layer 1 did not become a slash: %g", r.s1_final);
    float *m = malloc((size_t)n * n * sizeof *m);
    for (size_t x = 0; x < (size_t)n * n; x++)
        m[x] = (float)r.train.S1[x];
    ss_scan_acc scan;
    CHECK(ss_scan_acc_init(&scan, 1, 1, n, 4, 0, NULL, &err) == SS_OK);
    for (int r0 = 0; r0 < n; r0 += 8)
        ss_scan_acc_on_probs(&scan, 0, 0, r0, n - r0 < 8 ? n - r0 : 8, m + (size_t)r0 * n, n);
    ss_scan_acc_on_layer_done(&scan, 0, &err);
    CHECK(ss_scan_acc_end_prompt(&scan, &err) == SS_OK);
    double slash01 = scan.slash_sum[0] + scan.slash_sum[1]; /* one prompt: the scores */
    ss_vs_grid g;
    ss_vs_grid_default(n, &g);
    ss_coverage c;
    CHECK(ss_coverage_init(&c, 1, 1, n, &g, &err) == SS_OK);
    feed_prompt(&c, m, 1, 1, n, 8);
    CHECK(g.s[2] == 2 && g.v[0] == 0);
    double cov2 = ss_coverage_mean(&c, 0, 0, 0, 2);
    fprintf(stderr, "  theory layer 1 (N = %d): coverage(v=0, s=2) %.6f, scan score at 0 + 1 "
            "%.6f\n", n, cov2, slash01);
    CHECK_MSG(cov2 >= slash01, "coverage %.12g < scan %.12g", cov2, slash01);
    ss_sparsity_head out;
    CHECK(choose(&c, 0.95, &out, &err) == SS_OK);
    CHECK_MSG(out.reached && out.v == 0 && out.s <= 2, "v=%d s=%d coverage %g", out.v, out.s,
              out.coverage);
    ss_coverage_free(&c);
    ss_scan_acc_free(&scan);
    free(m);
    ss_lab_free(&r);
}

/* The coverage as an analysis of the driver, next to a scan in the same
 * pass: its numbers equal the two explicit forward passes', bit for bit, and
 * the scan's equal a scan run alone (the second pass is the analysis's own
 * and disturbs nobody). */
static void test_driver(void)
{
    enum { LEN = 24, P = 3 };
    ss_error err = {0};
    ss_model *m = NULL;
    const char *path = ss_test_path("%s/models/stories260K/stories260K.bin", ss_test_shared());
    CHECK_MSG(ss_model_open(path, &m, &err) == SS_OK, "%s", err.msg);
    if (!m)
        return;
    int L = m->cfg.n_layer, H = m->cfg.n_head;
    int32_t ids[P][LEN];
    for (int p = 0; p < P; p++)
        for (int i = 0; i < LEN; i++)
            ids[p][i] = (int32_t)((i * 37 + p * 101 + 1) % m->cfg.vocab);
    ss_vs_grid g;
    ss_vs_grid_default(LEN, &g);
    ss_coverage_pass2 pass2 = {.model = m};
    ss_analysis cov = {0}, scan = {0}, alone = {0};
    CHECK(ss_coverage_analysis_new(&cov, L, H, LEN, &g, &pass2, &err) == SS_OK);
    CHECK(ss_scan_analysis_new(&scan, L, H, LEN, 4, 0, NULL, &err) == SS_OK);
    CHECK(ss_scan_analysis_new(&alone, L, H, LEN, 4, 0, NULL, &err) == SS_OK);
    ss_coverage manual;
    CHECK(ss_coverage_init(&manual, L, H, LEN, &g, &err) == SS_OK);
    ss_observer obs = ss_coverage_observer(&manual);
    ss_forward_opts fo = {.observers = &obs, .n_observers = 1};
    for (int p = 0; p < P; p++) {
        ss_prompt_source src;
        ss_prompt_source_ids(&src, ids[p], LEN);
        CHECK_MSG(ss_analysis_run(m, &src, (ss_analysis *[]){&scan, &cov}, 2, NULL, NULL, NULL,
                                  &err) == SS_OK, "%s", err.msg);
        ss_prompt_source_free(&src);
        ss_prompt_source_ids(&src, ids[p], LEN);
        CHECK(ss_analysis_run(m, &src, (ss_analysis *[]){&alone}, 1, NULL, NULL, NULL, &err) ==
              SS_OK);
        ss_prompt_source_free(&src);
        CHECK(ss_forward(m, ids[p], LEN, &fo, NULL, &err) == SS_OK);
        CHECK(ss_coverage_select(&manual, &err) == SS_OK);
        CHECK(ss_forward(m, ids[p], LEN, &fo, NULL, &err) == SS_OK);
        CHECK(ss_coverage_end_prompt(&manual, &err) == SS_OK);
    }
    const ss_coverage *c = ss_coverage_analysis_acc(&cov);
    CHECK(c && c->prompts == P);
    size_t G = (size_t)L * H * g.n_v * g.n_s, cells = (size_t)L * H * LEN;
    int same = 1;
    for (size_t x = 0; c && x < G; x++)
        same &= c->cov_sum[x] == manual.cov_sum[x] && c->kept_sum[x] == manual.kept_sum[x];
    for (size_t x = 0; c && x < cells; x++)
        same &= c->colmass.sum[x] == manual.colmass.sum[x];
    CHECK_MSG(same, "the driver's coverage differs from two explicit passes");
    const ss_scan_acc *s1 = ss_scan_analysis_acc(&scan), *s2 = ss_scan_analysis_acc(&alone);
    CHECK(s1 && s2 && s1->prompts == P && s2->prompts == P);
    for (size_t x = 0; s1 && s2 && x < cells; x++)
        same &= s1->slash_sum[x] == s2->slash_sum[x];
    CHECK_MSG(same, "a scan next to the coverage differs from a scan alone");
    /* a prompt of another length is refused before any pass */
    ss_prompt_source src;
    ss_prompt_source_ids(&src, ids[0], LEN - 1);
    CHECK(ss_analysis_run(m, &src, (ss_analysis *[]){&cov}, 1, NULL, NULL, NULL, &err) ==
          SS_ERR_VALUE);
    CHECK_MSG(strstr(err.msg, "exactly 24") != NULL, "%s", err.msg);
    ss_prompt_source_free(&src);
    ss_coverage_free(&manual);
    ss_analysis_free(&cov);
    ss_analysis_free(&scan);
    ss_analysis_free(&alone);
    ss_model_close(m);
}

TEST_MAIN(TEST(test_llamacpp_attention), TEST(test_identities), TEST(test_colmass_merge),
          TEST(test_errors), TEST(test_choice), TEST(test_theory_layer1),
          TEST(test_driver))
