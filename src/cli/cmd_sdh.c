/* slashscope sdh DIR [--kappa-small K] [--kappa-large K] [--delta A:B [--kappa K]] [--json] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/scan_result.h"
#include "cli/commands.h"
#include "cli/sdh_print.h"
#include "report/scan_folder.h"

static const char usage[] =
    "usage: slashscope sdh DIR [--kappa-small K] [--kappa-large K] [--delta A:B [--kappa K]]\n"
    "                          [--json]\n\n"
    "The slash-dominant heads of a scan folder: heads whose average slash score at offset Δ\n"
    "is at least κ (SPEC.md section 2), by Δ, strongest first, as a table and in the paper's\n"
    "listing style (Δ = 1: L0H0, L0H1, ...). Default: the two regimes the scan recorded, the\n"
    "paper's unless 'scan --kappa-small/--kappa-large' said otherwise: Δ 0..4 with κ 0.1\n"
    "(--kappa-small) and Δ 500..5000 with κ 1e-3 (--kappa-large); --delta A:B gives one\n"
    "regime, κ from --kappa, by default that of the regime the range starts in. A κ below 5x\n"
    "uniform attention (5/N) is warned about. The terminal shows the strongest 3 heads per Δ\n"
    "and counts the rest; --json (and the scan's sdh.csv) list them all.\n";

static cJSON *regime_json(const ss_sdh_regime *r, const ss_sdh *list, int n)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", r->name);
    cJSON_AddNumberToObject(j, "kappa", r->kappa);
    int d[2] = {r->d_min, r->d_max};
    cJSON_AddItemToObject(j, "delta", cJSON_CreateIntArray(d, 2));
    cJSON *rows = cJSON_CreateArray();
    cJSON *listing = cJSON_CreateObject();
    for (int k = 0; k < n; k++) {
        char name[32], key[16];
        snprintf(name, sizeof name, "L%dH%d", list[k].layer, list[k].head);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "delta", list[k].delta);
        cJSON_AddNumberToObject(e, "layer", list[k].layer);
        cJSON_AddNumberToObject(e, "head", list[k].head);
        cJSON_AddStringToObject(e, "name", name);
        cJSON_AddNumberToObject(e, "score", list[k].score);
        cJSON_AddItemToArray(rows, e);
        snprintf(key, sizeof key, "%d", list[k].delta);
        cJSON *at = cJSON_GetObjectItemCaseSensitive(listing, key);
        if (!at)
            cJSON_AddItemToObject(listing, key, at = cJSON_CreateArray());
        cJSON_AddItemToArray(at, cJSON_CreateString(name));
    }
    cJSON_AddItemToObject(j, "sdh", rows);
    cJSON_AddItemToObject(j, "listing", listing);
    return j;
}

int cmd_sdh(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_REGIME_FLAGS, {"--json", 0}, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "sdh", usage, flags, argc, argv, &err))
        return ss_cli_fail("sdh", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (a.n_positional != 1) {
        ss_fail(&err, SS_ERR_USAGE, "expected one scan folder DIR (see --help)");
        return ss_cli_fail("sdh", &err);
    }
    const char *dir = a.positional[0];
    ss_sdh_regime reg[2];
    int n_reg;
    ss_scan_result r;
    if (ss_scan_result_read(dir, &r, &err))
        return ss_cli_fail("sdh", &err);
    ss_sdh_regime recorded[2];
    ss_sdh_regimes_from_json(cJSON_GetObjectItemCaseSensitive(r.meta, "sdh_regimes"), recorded);
    if (ss_regimes_from_args(&a, recorded, reg, &n_reg, &err)) {
        ss_scan_result_free(&r);
        return ss_cli_fail("sdh", &err);
    }
    double *avg = ss_scan_result_average(&r, &err);
    int json = ss_args_has(&a, "--json");
    cJSON *root = json ? cJSON_CreateObject() : NULL, *regs = NULL;
    if (json) {
        cJSON_AddStringToObject(root, "scan", dir);
        cJSON_AddNumberToObject(root, "length", r.n);
        cJSON_AddNumberToObject(root, "prompt_count", (double)r.prompts);
        cJSON_AddItemToObject(root, "regimes", regs = cJSON_CreateArray());
    } else {
        printf("%s: %lld prompts of %d tokens, skip %d, %d layers x %d heads\n", dir,
               (long long)r.prompts, r.n, r.skip, r.n_layer, r.n_head);
    }
    for (int g = 0; g < n_reg && avg && !err.code; g++) {
        ss_sdh *list;
        int n;
        if (ss_sdh_find(avg, r.n_layer, r.n_head, r.n, &reg[g], &list, &n, &err))
            break;
        if (json)
            cJSON_AddItemToArray(regs, regime_json(&reg[g], list, n));
        else {
            ss_sdh_kappa_warn(stderr, "sdh", &reg[g], r.n);
            if (reg[g].d_min >= r.n)
                printf("(offsets %d.. are beyond this scan's length %d)\n", reg[g].d_min, r.n);
            ss_print_sdh_regime(stdout, &reg[g], list, n);
        }
        free(list);
    }
    if (json && !err.code) {
        char *s = cJSON_Print(root);
        if (s)
            puts(s);
        free(s);
    }
    cJSON_Delete(root);
    free(avg);
    ss_scan_result_free(&r);
    return err.code ? ss_cli_fail("sdh", &err) : 0;
}
