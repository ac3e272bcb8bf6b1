/* slashscope sparsity MODEL (prompts) --out DIR: per head the cheapest
 * vertical-and-slash pattern whose exact coverage reaches a target, as CSV,
 * JSON, a MInference config and heat maps (analysis/coverage.h,
 * analysis/sparsity.h; docs/sparsity.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/slash.h"
#include "analysis/sparsity.h"
#include "cli/commands.h"
#include "report/explain_out.h"
#include "cli/explain_src.h"
#include "report/explain_table.h"
#include "cli/headsel.h"
#include "cli/out_folder.h"
#include "common/mem.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "model/describe.h"
#include "report/headmap.h"
#include "report/minference.h"

static const char usage[] =
    "usage: slashscope sparsity MODEL (prompts) --out DIR [--target T] [--budget V,S |\n"
    "                           --v-grid V1,V2,... --s-grid S1,S2,...] [--sdh SCAN_DIR\n"
    "                           [--regime small|large|all]]\n\n"
    "Per head, the cheapest vertical-and-slash pattern (MInference's \"vertical_and_slash\")\n"
    "whose exact coverage reaches T (default 0.95): on each prompt the V key columns and the S\n"
    "diagonals (offsets >= 0) with the most attention mass are kept, and the coverage is the\n"
    "mass on their union (each entry once) divided by the rows, averaged over the prompts.\n"
    "Every (V, S) of the grid is measured (default V in 0,1,2,4,...<N and S in 0,1,2,4,...<N,N);\n"
    "the choice is the smallest kept fraction (\"sparsity\": kept entries / N(N+1)/2) that\n"
    "reaches T, ties to the smaller V+S. --budget V,S measures that one pattern only.\n"
    "Each prompt runs through the model twice (the patterns are known only after the first).\n\n"
    SS_EXPLAIN_SRC_USAGE "\n"
    "Writes DIR/sparsity.csv (v, s, coverage, sparsity, reached per head; listed = 1 for the\n"
    "--sdh heads), DIR/sparsity_summary.csv, DIR/sparsity.json, DIR/minference.json (a list of\n"
    "one object per layer: {\"head\": [\"vertical_and_slash\", v, s, coverage]}), the float64\n"
    "grids coverage_grid.npy and kept_grid.npy [L,H,n_v,n_s] with their per-prompt sums\n"
    "coverage_sum.npy and kept_sum.npy, the column mass colmass.npy [L,H,N] with\n"
    "colmass_sum.npy / colmass_count.npy (sums merge by adding), and the heat maps\n"
    "coverage.png and sparsity.png (SDHs marked). See docs/sparsity.md.\n";

/* A comma-separated list of sizes. */
static ss_code parse_sizes(const char *flag, const char *s, int *out, int *n, ss_error *err)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > (1L << 30) || (*end && *end != ',') ||
            (*end == ',' && !end[1]))
            return ss_fail(err, SS_ERR_USAGE, "%s '%s': expected non-negative integers separated "
                           "by commas", flag, s);
        if (*n == SS_VS_GRID_MAX)
            return ss_fail(err, SS_ERR_USAGE, "%s: at most %d sizes", flag, SS_VS_GRID_MAX);
        out[(*n)++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (*n == 0)
        return ss_fail(err, SS_ERR_USAGE, "%s: no size given", flag);
    return SS_OK;
}

static ss_code grid_from_args(const ss_args *a, int len, ss_vs_grid *g, ss_error *err)
{
    const char *budget = ss_args_get(a, "--budget");
    const char *gv = ss_args_get(a, "--v-grid"), *gs = ss_args_get(a, "--s-grid");
    ss_code rc;
    ss_vs_grid_default(len, g);
    if (budget) {
        int vs[SS_VS_GRID_MAX], n;
        if (gv || gs)
            return ss_fail(err, SS_ERR_USAGE, "--budget V,S measures one pattern: it does not "
                           "combine with --v-grid / --s-grid");
        if ((rc = parse_sizes("--budget", budget, vs, &n, err)))
            return rc;
        if (n != 2)
            return ss_fail(err, SS_ERR_USAGE, "--budget '%s': expected V,S (two sizes)", budget);
        *g = (ss_vs_grid){.n_v = 1, .n_s = 1, .v = {vs[0]}, .s = {vs[1]}};
    }
    if (gv && (rc = parse_sizes("--v-grid", gv, g->v, &g->n_v, err)))
        return rc;
    if (gs && (rc = parse_sizes("--s-grid", gs, g->s, &g->n_s, err)))
        return rc;
    if ((rc = ss_vs_grid_check(g, len, err)))
        ss_error_prefix(err, "%s", budget ? "--budget" : "the (v, s) grid");
    return rc;
}

static ss_code fill_table(ss_table *t, const ss_coverage_result *cov, const ss_sparsity_head *ch,
                          const ss_headsel *sel, int n_kv, ss_error *err)
{
    int L = cov->n_layer, H = cov->n_head;
    ss_code rc = ss_table_init(t, L * H, err);
    if (rc)
        return rc;
    int cv = ss_table_col(t, "v"), cs = ss_table_col(t, "s"), cc = ss_table_col(t, "coverage");
    int cp = ss_table_col(t, "sparsity"), cr = ss_table_col(t, "reached");
    for (int x = 0; x < L * H; x++) {
        t->layer[x] = x / H;
        t->head[x] = x % H;
        t->kv_head[x] = (x % H) / (H / n_kv);
        t->listed[x] = sel->flags ? sel->flags[x] : 0;
        *ss_table_at(t, x, cv) = ch[x].v;
        *ss_table_at(t, x, cs) = ch[x].s;
        *ss_table_at(t, x, cc) = ch[x].coverage;
        *ss_table_at(t, x, cp) = ch[x].sparsity;
        *ss_table_at(t, x, cr) = ch[x].reached;
    }
    return SS_OK;
}

static ss_code write_npy(const char *dir, const char *name, ss_npy_type type, int ndim,
                         const int64_t *shape, const void *data, ss_error *err)
{
    char path[4096];
    ss_code rc = ss_out_path(path, sizeof path, dir, name, err);
    return rc ? rc : ss_npy_write(path, type, ndim, shape, data, err);
}

static ss_code write_arrays(const char *dir, const ss_coverage_result *cov, ss_error *err)
{
    int L = cov->n_layer, H = cov->n_head, nv = cov->grid.n_v, ns = cov->grid.n_s;
    size_t C = (size_t)L * H * cov->n;
    double *cm = ss_calloc(C, sizeof *cm, "column mass", err);
    if (!cm)
        return SS_ERR_NOMEM;
    ss_slash_average(cov->colmass_sum, cov->colmass_count, (int64_t)C, cm);
    int64_t gshape[4] = {L, H, nv, ns}, cshape[3] = {L, H, cov->n};
    ss_code rc;
    if (!(rc = write_npy(dir, "coverage_grid.npy", SS_NPY_F64, 4, gshape, cov->coverage, err)) &&
        !(rc = write_npy(dir, "kept_grid.npy", SS_NPY_F64, 4, gshape, cov->kept, err)) &&
        !(rc = write_npy(dir, "coverage_sum.npy", SS_NPY_F64, 4, gshape, cov->coverage_sum,
                         err)) &&
        !(rc = write_npy(dir, "kept_sum.npy", SS_NPY_F64, 4, gshape, cov->kept_sum, err)) &&
        !(rc = write_npy(dir, "colmass.npy", SS_NPY_F64, 3, cshape, cm, err)) &&
        !(rc = write_npy(dir, "colmass_sum.npy", SS_NPY_F64, 3, cshape, cov->colmass_sum, err)))
        rc = write_npy(dir, "colmass_count.npy", SS_NPY_I64, 3, cshape, cov->colmass_count, err);
    free(cm);
    return rc;
}

static ss_code write_maps(const char *dir, const ss_coverage_result *cov, const ss_sparsity_head *ch,
                          const ss_headsel *sel, const char *sdh_dir, double target,
                          ss_error *err)
{
    int L = cov->n_layer, H = cov->n_head;
    double *m = ss_calloc((size_t)L * H * 2, sizeof *m, "heat maps", err);
    if (!m)
        return SS_ERR_NOMEM;
    double *sp = m + (size_t)L * H;
    double smax = 0, cmin = 1;
    for (int x = 0; x < L * H; x++) {
        m[x] = ch[x].coverage;
        sp[x] = ch[x].sparsity;
        smax = sp[x] > smax ? sp[x] : smax;
        cmin = m[x] < cmin ? m[x] : cmin;
    }
    char title[128], sub[128], legend[128], path[4096];
    snprintf(sub, sizeof sub, "N = %d, %lld prompts, target %g", cov->n,
             (long long)cov->prompts, target);
    snprintf(legend, sizeof legend, "SDH (%s)", sdh_dir ? sdh_dir : "");
    ss_headmap_opts o = {.subtitle = sub, .row_label = "layer", .col_label = "head",
                         .mark = sdh_dir ? sel->flags : NULL, .mark_label = legend};
    snprintf(title, sizeof title, "Coverage of the chosen vertical-and-slash pattern");
    o.title = title;
    o.bar_label = "coverage";
    /* from a round number at or below the lowest coverage (and 0.05 below
     * the target) to 1: the heads that fall short stand out */
    o.vmin = floor(20 * fmin(cmin, target - 0.05)) / 20;
    o.vmin = o.vmin < 0 ? 0 : o.vmin >= 1 ? 0.95 : o.vmin;
    o.vmax = 1;
    ss_code rc = ss_out_path(path, sizeof path, dir, "coverage.png", err);
    if (!rc)
        rc = ss_headmap_png(path, m, L, H, &o, err);
    snprintf(title, sizeof title, "Kept fraction (sparsity) of the chosen pattern");
    o.bar_label = "kept fraction";
    /* the kept fractions are often all small: from 0 to the next tenth above
     * the largest, so the differences between heads show */
    o.vmin = 0;
    o.vmax = smax > 0 ? fmin(1, ceil(10 * smax - 1e-9) / 10) : 1;
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "sparsity.png", err)))
        rc = ss_headmap_png(path, sp, L, H, &o, err);
    free(m);
    return rc;
}

typedef struct {
    const char *out, *sdh_dir;
    double target;
    const char *budget;
} run_settings;

static ss_code write_outputs(const run_settings *rs, const ss_explain_src *src,
                             const ss_coverage_result *cov, const ss_sparsity_head *ch,
                             const ss_headsel *sel, ss_error *err)
{
    const ss_config *c = &src->run.model->cfg;
    ss_table t;
    char path[4096];
    ss_code rc = fill_table(&t, cov, ch, sel, c->n_kv_head, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, rs->out, "sparsity.csv", err)))
        rc = ss_table_write_csv(&t, path, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, rs->out, "sparsity_summary.csv", err)))
        rc = ss_table_write_summary(&t, path, err);
    if (!rc)
        rc = write_arrays(rs->out, cov, err);
    if (!rc) {
        cJSON *mi = ss_minference_config(ch, cov->n_layer, cov->n_head);
        if (!mi)
            rc = ss_fail(err, SS_ERR_NOMEM, "out of memory for the MInference config");
        else if (!(rc = ss_out_path(path, sizeof path, rs->out, "minference.json", err)))
            rc = ss_json_write_file(path, mi, err);
        cJSON_Delete(mi);
    }
    cJSON *root = NULL;
    if (!rc && !(root = ss_explain_src_result(src, "sparsity", err)))
        rc = err->code;
    if (!rc) {
        cJSON_AddNumberToObject(root, "len", cov->n);
        cJSON_AddNumberToObject(root, "measured_prompts", (double)cov->prompts);
        cJSON_AddNumberToObject(root, "target", rs->target);
        if (rs->budget)
            cJSON_AddStringToObject(root, "budget", rs->budget);
        else
            cJSON_AddNullToObject(root, "budget");
        cJSON_AddItemToObject(root, "v_grid", cJSON_CreateIntArray(cov->grid.v, cov->grid.n_v));
        cJSON_AddItemToObject(root, "s_grid", cJSON_CreateIntArray(cov->grid.s, cov->grid.n_s));
        cJSON_AddNumberToObject(root, "causal_entries", (double)cov->n * (cov->n + 1) / 2);
        if (rs->sdh_dir)
            cJSON_AddItemToObject(root, "sdh", ss_headsel_json(sel));
        cJSON_AddItemToObject(root, "averages", ss_table_summary_json(&t));
        cJSON_AddItemToObject(root, "heads", ss_table_rows_json(&t));
        if (!rc && !(rc = ss_out_path(path, sizeof path, rs->out, "sparsity.json", err)))
            rc = ss_json_write_file(path, root, err);
        cJSON_Delete(root);
    }
    if (!rc)
        rc = write_maps(rs->out, cov, ch, sel, rs->sdh_dir, rs->target, err);
    ss_table_free(&t);
    return rc;
}

static void print_summary(const run_settings *rs, const ss_coverage_result *cov,
                          const ss_sparsity_head *ch)
{
    int LH = cov->n_layer * cov->n_head, reached = 0;
    double kept = 0;
    for (int x = 0; x < LH; x++) {
        reached += ch[x].reached;
        kept += ch[x].sparsity / LH;
    }
    printf("measured %lld prompt%s of %d tokens: %d of %d heads reach coverage %g; mean kept "
           "fraction %.4f; results in %s\n", (long long)cov->prompts, cov->prompts == 1 ? "" : "s",
           cov->n, reached, LH, rs->target, kept, rs->out);
}

int cmd_sparsity(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_EXPLAIN_SRC_FLAGS, SS_OUT_FOLDER_FLAGS, {"--target", 1},
                                    {"--budget", 1}, {"--v-grid", 1}, {"--s-grid", 1},
                                    {"--sdh", 1}, {"--regime", 1}, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "sparsity", usage, flags, argc, argv, &err))
        return ss_cli_fail("sparsity", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    run_settings rs = {.budget = ss_args_get(&a, "--budget"), .sdh_dir = ss_args_get(&a, "--sdh")};
    if (ss_args_out(&a, 1, &rs.out, &err) ||
        ss_args_double(&a, "--target", 0.95, 0.0, 1.0, &rs.target, &err))
        return ss_cli_fail("sparsity", &err);
    if (ss_args_has(&a, "--regime") && !rs.sdh_dir) {
        ss_fail(&err, SS_ERR_USAGE, "--regime chooses among the SDHs of --sdh DIR: give --sdh");
        return ss_cli_fail("sparsity", &err);
    }
    ss_explain_src src;
    if (ss_explain_src_open(&src, &a, &err))
        return ss_cli_fail("sparsity", &err);
    ss_folder folder;
    const char *final_out = rs.out;
    if (ss_out_folder_begin(&folder, &a, "sparsity.json", &rs.out, &err)) {
        ss_explain_src_close(&src);
        return ss_cli_fail("sparsity", &err);
    }
    const ss_config *c = &src.run.model->cfg;
    ss_vs_grid grid;
    ss_headsel sel = {0};
    ss_analysis an = {0};
    ss_coverage_result cov = {0};
    ss_sparsity_head *ch = NULL;
    const char *regime = ss_args_get(&a, "--regime");
    /* the driver's settings, for the second pass the analysis runs itself */
    ss_coverage_pass2 pass2 = {.model = src.run.model, .rope = &src.run.rope,
                               .allow_long = src.run.allow_long};
    if (!grid_from_args(&a, src.len, &grid, &err) &&
        (!rs.sdh_dir || !ss_headsel_read_sdh(rs.sdh_dir, regime ? regime : "small", c->n_layer,
                                             c->n_head, &sel, &err)) &&
        !ss_coverage_analysis_new(&an, c->n_layer, c->n_head, src.len, &grid, &pass2, &err) &&
        !ss_explain_src_run(&src, (ss_analysis *[]){&an}, 1, "sparsity", a.quiet, &err) &&
        !ss_analysis_finish(&an, &cov, &err) &&
        (ch = ss_calloc((size_t)c->n_layer * c->n_head, sizeof *ch, "patterns", &err)) &&
        !ss_sparsity_choose(&cov, rs.target, ch, &err))
        write_outputs(&rs, &src, &cov, ch, &sel, &err);
    if (!ss_out_folder_end(&folder, &err)) {
        rs.out = final_out;
        print_summary(&rs, &cov, ch);
    }
    free(ch);
    ss_coverage_result_free(&cov);
    ss_analysis_free(&an);
    ss_headsel_free(&sel);
    ss_explain_src_close(&src);
    return err.code ? ss_cli_fail("sparsity", &err) : 0;
}
