/* slashscope compare ID_DIR OOD_DIR [--out DIR] [regime flags] [--json] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/compare.h"
#include "cli/commands.h"
#include "report/explain_out.h"
#include "cli/out_folder.h"
#include "cli/sdh_print.h"
#include "common/mem.h"
#include "io/atomic_file.h"
#include "report/scan_folder.h"
#include "store/provenance.h"

static const char usage[] =
    "usage: slashscope compare ID_DIR OOD_DIR [--out DIR [--force]] [--kappa-small K]\n"
    "                          [--kappa-large K] [--delta A:B [--kappa K]] [--json]\n\n"
    "For every SDH of the in-distribution scan ID_DIR (regimes as in 'slashscope sdh'), its\n"
    "average slash score on the OOD scan OOD_DIR at the same offset and the ratio\n"
    "score_OOD / score_ID (the paper's Table 3 and Figure 7), with the five-number summary of\n"
    "the ratios per regime (min, Q1, median, Q3, max; quantiles by linear interpolation,\n"
    "numpy's default). With --out DIR: DIR/compare.csv and DIR/compare.json (both), and the\n"
    "summary on stdout; without: the CSV (or with --json the JSON) on stdout. Both scans must\n"
    "be of the same model (config and weights' fingerprint) with the same skip.\n";

typedef struct {
    const char *id_dir, *ood_dir;
    const ss_sdh_regime *reg;
    int n_reg;
    const ss_compare_row *rows;
    int n;
    ss_five_number five[2];
    cJSON *origin; /* command, version, model, provenance (owned) */
} comparison;

/* ASCII only: the header must load anywhere (no κ, no Δ). */
static void write_csv(FILE *f, const comparison *c)
{
    fprintf(f, "regime,delta,layer,head,name,score_id,score_ood,ratio\n");
    for (int k = 0; k < c->n; k++) {
        const ss_compare_row *r = &c->rows[k];
        fprintf(f, "%s,%d,%d,%d,L%dH%d,%.17g,%.17g,%.17g\n", c->reg[r->regime].name, r->delta,
                r->layer, r->head, r->layer, r->head, r->score_id, r->score_ood, r->ratio);
    }
    for (int g = 0; g < c->n_reg; g++)
        fprintf(f, "# ratio summary, %s regime (kappa %g): n=%d min=%.6g q1=%.6g median=%.6g "
                "q3=%.6g max=%.6g\n", c->reg[g].name, c->reg[g].kappa, c->five[g].n,
                c->five[g].min, c->five[g].q1, c->five[g].median, c->five[g].q3, c->five[g].max);
}

/* What every result records of how it was made (docs/results.md), for a
 * result made of two scan folders: the model and weights the scans share
 * (checked equal), this run's environment, time and command line, and each
 * input folder's digest, time and tool version. NULL on error (in err). */
static cJSON *origin_json(const char *id_dir, const ss_scan_result *id, const char *ood_dir,
                          const ss_scan_result *ood, int argc, char **argv, ss_error *err)
{
    const char *dirs[2] = {id_dir, ood_dir};
    const ss_scan_result *scans[2] = {id, ood};
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(id->meta, "model");
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "command", "compare");
    cJSON_AddStringToObject(root, "version", SS_VERSION);
    cJSON_AddItemToObject(root, "model", cJSON_Duplicate(model, 1));
    cJSON *prov = cJSON_AddObjectToObject(root, "provenance");
    cJSON_AddItemToObject(prov, "weights",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(model, "weights"), 1));
    cJSON_AddItemToObject(prov, "environment", ss_prov_environment(0));
    ss_prov_add_run(prov, "slashscope", argc, argv);
    cJSON *in = cJSON_AddObjectToObject(prov, "inputs");
    for (int k = 0; k < 2; k++) {
        cJSON *d = ss_prov_folder_digest(dirs[k], "scan.json", err);
        if (!d) {
            cJSON_Delete(root);
            return NULL;
        }
        static const char *const keep[] = {"created", "tool_version"};
        for (int i = 0; i < 2; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(scans[k]->meta, keep[i]);
            cJSON_AddItemToObject(d, keep[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
        }
        cJSON_AddItemToObject(in, k ? "ood_scan" : "id_scan", d);
    }
    return root;
}

static cJSON *comparison_json(const comparison *c)
{
    cJSON *root = cJSON_Duplicate(c->origin, 1), *arr = cJSON_CreateArray(),
          *sum = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "id_scan", c->id_dir);
    cJSON_AddStringToObject(root, "ood_scan", c->ood_dir);
    cJSON_AddStringToObject(root, "quantiles", "linear interpolation (type 7)");
    /* NaN (no OOD data at that offset) is written as null by cJSON */
    for (int k = 0; k < c->n; k++) {
        const ss_compare_row *r = &c->rows[k];
        cJSON *e = cJSON_CreateObject();
        char name[32];
        snprintf(name, sizeof name, "L%dH%d", r->layer, r->head);
        cJSON_AddStringToObject(e, "regime", c->reg[r->regime].name);
        cJSON_AddNumberToObject(e, "delta", r->delta);
        cJSON_AddNumberToObject(e, "layer", r->layer);
        cJSON_AddNumberToObject(e, "head", r->head);
        cJSON_AddStringToObject(e, "name", name);
        cJSON_AddNumberToObject(e, "score_id", r->score_id);
        cJSON_AddNumberToObject(e, "score_ood", r->score_ood);
        cJSON_AddNumberToObject(e, "ratio", r->ratio);
        cJSON_AddItemToArray(arr, e);
    }
    for (int g = 0; g < c->n_reg; g++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "regime", c->reg[g].name);
        cJSON_AddNumberToObject(e, "kappa", c->reg[g].kappa);
        cJSON_AddNumberToObject(e, "n", c->five[g].n);
        cJSON_AddNumberToObject(e, "min", c->five[g].min);
        cJSON_AddNumberToObject(e, "q1", c->five[g].q1);
        cJSON_AddNumberToObject(e, "median", c->five[g].median);
        cJSON_AddNumberToObject(e, "q3", c->five[g].q3);
        cJSON_AddNumberToObject(e, "max", c->five[g].max);
        cJSON_AddItemToArray(sum, e);
    }
    cJSON_AddItemToObject(root, "heads", arr);
    cJSON_AddItemToObject(root, "ratio_summary", sum);
    return root;
}

static ss_code write_files(const char *dir, const comparison *c, ss_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/compare.csv", dir);
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc)
        return rc;
    write_csv(f.fp, c);
    if ((rc = ss_atomic_commit(&f, err)))
        return rc;
    snprintf(path, sizeof path, "%s/compare.json", dir);
    cJSON *root = comparison_json(c);
    rc = ss_json_write_file(path, root, err);
    cJSON_Delete(root);
    return rc;
}

static void print_summary(const comparison *c, const char *out)
{
    printf("compared %d SDHs of %s on %s; files in %s\n", c->n, c->id_dir, c->ood_dir, out);
    for (int g = 0; g < c->n_reg; g++)
        printf("%s regime (kappa %g): %d SDHs, ratio OOD/ID median %.4g (min %.4g, Q1 %.4g, "
               "Q3 %.4g, max %.4g)\n", c->reg[g].name, c->reg[g].kappa, c->five[g].n,
               c->five[g].median, c->five[g].min, c->five[g].q1, c->five[g].q3, c->five[g].max);
}

int cmd_compare(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_REGIME_FLAGS, {"--json", 0}, {"--out", 1}, {"--force", 0},
                                    {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "compare", usage, flags, argc, argv, &err))
        return ss_cli_fail("compare", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (a.n_positional != 2) {
        ss_fail(&err, SS_ERR_USAGE, "expected two scan folders ID_DIR OOD_DIR (see --help)");
        return ss_cli_fail("compare", &err);
    }
    ss_sdh_regime reg[2];
    comparison c = {.id_dir = a.positional[0], .ood_dir = a.positional[1], .reg = reg};
    ss_scan_result id = {0}, ood = {0};
    ss_compare_row *rows = NULL;
    ss_sdh_regime recorded[2];
    if (!ss_scan_result_read(c.id_dir, &id, &err))
        ss_sdh_regimes_from_json(cJSON_GetObjectItemCaseSensitive(id.meta, "sdh_regimes"),
                                 recorded);
    if (err.code || ss_regimes_from_args(&a, recorded, reg, &c.n_reg, &err) ||
        ss_scan_result_read(c.ood_dir, &ood, &err) ||
        ss_compare_scans(&id, c.id_dir, &ood, c.ood_dir, reg, c.n_reg, &rows, &c.n, &err) ||
        !(c.origin = origin_json(c.id_dir, &id, c.ood_dir, &ood, argc, argv, &err))) {
        free(rows);
        ss_scan_result_free(&id);
        ss_scan_result_free(&ood);
        return ss_cli_fail("compare", &err);
    }
    c.rows = rows;
    for (int g = 0; g < c.n_reg; g++)
        ss_sdh_kappa_warn(stderr, "compare", &reg[g], id.n);
    double *ratios = ss_calloc((size_t)c.n + 1, sizeof *ratios, "ratios", &err);
    for (int g = 0; g < c.n_reg && ratios; g++) {
        int m = 0;
        for (int k = 0; k < c.n; k++)
            if (rows[k].regime == g)
                ratios[m++] = rows[k].ratio;
        ss_five_number_summary(ratios, m, &c.five[g]);
    }
    if (ratios && ss_args_has(&a, "--out")) {
        ss_folder folder;
        const char *work;
        if (!ss_out_folder_begin(&folder, &a, "compare.json", &work, &err)) {
            write_files(work, &c, &err);
            if (!ss_out_folder_end(&folder, &err))
                print_summary(&c, ss_args_get(&a, "--out"));
        }
    } else if (ratios && ss_args_has(&a, "--json")) {
        cJSON *root = comparison_json(&c);
        char *s = cJSON_Print(root);
        if (s)
            puts(s);
        free(s);
        cJSON_Delete(root);
    } else if (ratios) {
        write_csv(stdout, &c);
    }
    free(ratios);
    free(rows);
    cJSON_Delete(c.origin);
    ss_scan_result_free(&id);
    ss_scan_result_free(&ood);
    return err.code ? ss_cli_fail("compare", &err) : 0;
}
