#include "analysis/scan_result.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/scan_acc.h"
#include "analysis/slash.h"
#include "common/mem.h"
#include "common/parse.h"


void ss_head_name(int layer, int head, char *buf, int cap)
{
    snprintf(buf, (size_t)cap, "L%dH%d", layer, head);
}

ss_code ss_head_list_parse(const char *s, int n_layer, int n_head, unsigned char *flags,
                           ss_error *err)
{
    const char *p = s;
    int any = 0;
    while (*p) {
        while (*p == ',' || *p == ' ')
            p++;
        if (!*p)
            break;
        int l, h;
        const char *after;
        if (!ss_parse_head_name(p, &after, &l, &h) || (*after && *after != ',' && *after != ' '))
            return ss_fail(err, SS_ERR_USAGE,
                           "head list '%s': expected entries like L0H1 (layer, head, 0-based, "
                           "each below 2^31) near '%.20s'", s, p);
        if (l < 0 || l >= n_layer || h < 0 || h >= n_head)
            return ss_fail(err, SS_ERR_VALUE,
                           "head list '%s': L%dH%d is outside the model's %d layers x %d heads",
                           s, l, h, n_layer, n_head);
        flags[(size_t)l * n_head + h] = 1;
        any = 1;
        p = after;
    }
    if (!any)
        return ss_fail(err, SS_ERR_USAGE, "head list '%s' names no head", s);
    return SS_OK;
}

void ss_scan_result_free(ss_scan_result *r)
{
    free(r->slash_sum);
    free(r->slash_sumsq);
    free(r->slash_count);
    free(r->map_heads);
    free(r->map_sum);
    cJSON_Delete(r->meta);
    memset(r, 0, sizeof *r);
}

double *ss_scan_result_average(const ss_scan_result *r, ss_error *err)
{
    size_t n = (size_t)r->n_layer * r->n_head * r->n;
    double *avg = ss_calloc(n, sizeof *avg, "slash scores", err);
    if (avg)
        ss_slash_average(r->slash_sum, r->slash_count, (int64_t)n, avg);
    return avg;
}

ss_code ss_scan_result_spread(const ss_scan_result *r, double **sd, double **half, ss_error *err)
{
    size_t n = (size_t)r->n_layer * r->n_head * r->n;
    *sd = ss_calloc(n, sizeof **sd, "slash deviations", err);
    *half = *sd ? ss_calloc(n, sizeof **half, "slash intervals", err) : NULL;
    if (!*half) {
        free(*sd);
        *sd = NULL;
        return SS_ERR_NOMEM;
    }
    if (r->slash_sumsq) {
        ss_slash_spread(r->slash_sum, r->slash_sumsq, r->slash_count, (int64_t)n, *sd, *half);
    } else {
        for (size_t i = 0; i < n; i++)
            (*sd)[i] = (*half)[i] = NAN;
    }
    return SS_OK;
}

/* a's fields missing from or different in b, ignoring "path". */
static const char *differing_field(const cJSON *a, const cJSON *b)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        if (strcmp(x->string, "path") == 0)
            continue;
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
        if (!y || !cJSON_Compare(x, y, 1))
            return x->string;
    }
    return NULL;
}

ss_code ss_scan_result_compatible(const ss_scan_result *a, const char *a_dir,
                                  const ss_scan_result *b, const char *b_dir, int same_length,
                                  ss_error *err)
{
    const char *parts[2] = {"model", "rope"};
    for (int k = 0; k < 2; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a->meta, parts[k]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b->meta, parts[k]);
        if (!cJSON_IsObject(x) || !cJSON_IsObject(y))
            return ss_fail(err, SS_ERR_FORMAT, "%s or %s: scan.json has no \"%s\" object",
                           a_dir, b_dir, parts[k]);
        const char *f = differing_field(x, y);
        if (!f)
            f = differing_field(y, x);
        if (f)
            return ss_fail(err, SS_ERR_INCOMPATIBLE, "%s and %s are scans of different models "
                           "(%s.%s differs)", a_dir, b_dir, parts[k], f);
    }
    if (a->skip != b->skip)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "%s and %s use different skips (%d and %d)",
                       a_dir, b_dir, a->skip, b->skip);
    if (same_length && a->n != b->n)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "%s and %s have different prompt lengths "
                       "(%d and %d)", a_dir, b_dir, a->n, b->n);
    return SS_OK;
}
