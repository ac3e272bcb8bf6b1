/* slashscope compare ID_DIR OOD_DIR [--kappa K] [--delta A:B] [--json] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/compare.h"
#include "cli/commands.h"
#include "cli/sdh_print.h"
#include "common/mem.h"
#include "report/scan_folder.h"

static const char usage[] =
    "usage: slashscope compare ID_DIR OOD_DIR [--kappa K] [--delta A:B] [--json]\n\n"
    "For every SDH of the in-distribution scan ID_DIR (regimes as in 'slashscope sdh'), its\n"
    "average slash score on the OOD scan OOD_DIR at the same offset and the ratio\n"
    "score_OOD / score_ID (the paper's Table 3 and Figure 7), as CSV on stdout, followed by\n"
    "'#' lines with the five-number summary of the ratios per regime (min, Q1, median, Q3,\n"
    "max; quantiles by linear interpolation, numpy's default). --json prints JSON instead.\n"
    "Both scans must be of the same model with the same skip.\n";

int cmd_compare(int argc, char **argv)
{
    static const ss_flag flags[] = {{"--kappa", 1}, {"--delta", 1}, {"--json", 0}, {NULL, 0}};
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
    int n_reg;
    ss_scan_result id = {0}, ood = {0};
    ss_compare_row *rows = NULL;
    int n = 0;
    if (ss_regimes_from_args(&a, reg, &n_reg, &err) ||
        ss_scan_result_read(a.positional[0], &id, &err) ||
        ss_scan_result_read(a.positional[1], &ood, &err) ||
        ss_compare_scans(&id, a.positional[0], &ood, a.positional[1], reg, n_reg, &rows, &n,
                         &err)) {
        ss_scan_result_free(&id);
        ss_scan_result_free(&ood);
        return ss_cli_fail("compare", &err);
    }
    double *ratios = ss_calloc((size_t)n + 1, sizeof *ratios, "ratios", &err);
    ss_five_number five[2];
    for (int g = 0; g < n_reg && ratios; g++) {
        int m = 0;
        for (int k = 0; k < n; k++)
            if (rows[k].regime == g)
                ratios[m++] = rows[k].ratio;
        ss_five_number_summary(ratios, m, &five[g]);
    }
    if (ss_args_has(&a, "--json") && ratios) {
        cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *sum = cJSON_CreateArray();
        cJSON_AddStringToObject(root, "id_scan", a.positional[0]);
        cJSON_AddStringToObject(root, "ood_scan", a.positional[1]);
        cJSON_AddStringToObject(root, "quantiles", "linear interpolation (type 7)");
        /* NaN (no OOD data at that offset) is written as null by cJSON */
        for (int k = 0; k < n; k++) {
            cJSON *e = cJSON_CreateObject();
            char name[32];
            snprintf(name, sizeof name, "L%dH%d", rows[k].layer, rows[k].head);
            cJSON_AddStringToObject(e, "regime", reg[rows[k].regime].name);
            cJSON_AddNumberToObject(e, "delta", rows[k].delta);
            cJSON_AddNumberToObject(e, "layer", rows[k].layer);
            cJSON_AddNumberToObject(e, "head", rows[k].head);
            cJSON_AddStringToObject(e, "name", name);
            cJSON_AddNumberToObject(e, "score_id", rows[k].score_id);
            cJSON_AddNumberToObject(e, "score_ood", rows[k].score_ood);
            cJSON_AddNumberToObject(e, "ratio", rows[k].ratio);
            cJSON_AddItemToArray(arr, e);
        }
        for (int g = 0; g < n_reg; g++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "regime", reg[g].name);
            cJSON_AddNumberToObject(e, "kappa", reg[g].kappa);
            cJSON_AddNumberToObject(e, "n", five[g].n);
            cJSON_AddNumberToObject(e, "min", five[g].min);
            cJSON_AddNumberToObject(e, "q1", five[g].q1);
            cJSON_AddNumberToObject(e, "median", five[g].median);
            cJSON_AddNumberToObject(e, "q3", five[g].q3);
            cJSON_AddNumberToObject(e, "max", five[g].max);
            cJSON_AddItemToArray(sum, e);
        }
        cJSON_AddItemToObject(root, "heads", arr);
        cJSON_AddItemToObject(root, "ratio_summary", sum);
        char *s = cJSON_Print(root);
        if (s)
            puts(s);
        free(s);
        cJSON_Delete(root);
    } else if (ratios) {
        printf("regime,delta,layer,head,name,score_id,score_ood,ratio\n");
        for (int k = 0; k < n; k++)
            printf("%s,%d,%d,%d,L%dH%d,%.17g,%.17g,%.17g\n", reg[rows[k].regime].name,
                   rows[k].delta, rows[k].layer, rows[k].head, rows[k].layer, rows[k].head,
                   rows[k].score_id, rows[k].score_ood, rows[k].ratio);
        for (int g = 0; g < n_reg; g++)
            printf("# ratio summary, %s regime (κ %g): n=%d min=%.6g q1=%.6g median=%.6g "
                   "q3=%.6g max=%.6g\n", reg[g].name, reg[g].kappa, five[g].n, five[g].min,
                   five[g].q1, five[g].median, five[g].q3, five[g].max);
    }
    free(ratios);
    free(rows);
    ss_scan_result_free(&id);
    ss_scan_result_free(&ood);
    return err.code ? ss_cli_fail("compare", &err) : 0;
}
