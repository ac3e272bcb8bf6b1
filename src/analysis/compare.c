#include "analysis/compare.h"

#include <math.h>
#include <stdlib.h>

#include "common/mem.h"

double ss_quantile_sorted(const double *x, int n, double p)
{
    if (n <= 0)
        return NAN;
    double h = (n - 1) * p;
    int f = (int)floor(h);
    if (f >= n - 1)
        return x[n - 1];
    return x[f] + (h - f) * (x[f + 1] - x[f]);
}

static int ascending(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

void ss_five_number_summary(double *values, int n, ss_five_number *out)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(values[i]))
            values[m++] = values[i];
    qsort(values, (size_t)m, sizeof *values, ascending);
    out->n = m;
    out->min = m ? values[0] : NAN;
    out->q1 = ss_quantile_sorted(values, m, 0.25);
    out->median = ss_quantile_sorted(values, m, 0.5);
    out->q3 = ss_quantile_sorted(values, m, 0.75);
    out->max = m ? values[m - 1] : NAN;
}

ss_code ss_compare_scans(const ss_scan_result *id, const char *id_dir, const ss_scan_result *ood,
                         const char *ood_dir, const ss_sdh_regime *regimes, int n_regimes,
                         ss_compare_row **rows, int *n_rows, ss_error *err)
{
    *rows = NULL;
    *n_rows = 0;
    ss_code rc = ss_scan_result_compatible(id, id_dir, ood, ood_dir, 0, err);
    if (rc)
        return rc;
    double *a = ss_scan_result_average(id, err);
    double *b = a ? ss_scan_result_average(ood, err) : NULL;
    if (!a || !b) {
        free(a);
        return SS_ERR_NOMEM;
    }
    for (int g = 0; g < n_regimes && !rc; g++) {
        ss_sdh *list;
        int cnt;
        if ((rc = ss_sdh_find(a, id->n_layer, id->n_head, id->n, &regimes[g], &list, &cnt, err)))
            break;
        ss_compare_row *grown = cnt ? ss_realloc_array(*rows, (size_t)(*n_rows + cnt),
                                                       sizeof **rows, "comparison", err)
                                    : *rows;
        if (cnt && !grown) {
            free(list);
            rc = SS_ERR_NOMEM;
            break;
        }
        *rows = grown;
        for (int k = 0; k < cnt; k++) {
            ss_compare_row *r = &(*rows)[(*n_rows)++];
            r->regime = g;
            r->layer = list[k].layer;
            r->head = list[k].head;
            r->delta = list[k].delta;
            r->score_id = list[k].score;
            r->score_ood = list[k].delta < ood->n
                               ? b[((size_t)r->layer * ood->n_head + r->head) * ood->n + r->delta]
                               : NAN;
            r->ratio = r->score_ood / r->score_id;
        }
        free(list);
    }
    free(a);
    free(b);
    if (rc) {
        free(*rows);
        *rows = NULL;
        *n_rows = 0;
    }
    return rc;
}
