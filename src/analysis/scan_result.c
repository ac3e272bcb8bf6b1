#include "analysis/scan_result.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/scan_acc.h"
#include "analysis/slash.h"
#include "common/mem.h"
#include "store/provenance.h"
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

ss_code ss_scan_arrays_check(const char *what, const double *sum, const double *sumsq,
                             const int64_t *count, int n_layer, int n_head, int n, int skip,
                             int64_t prompts, ss_error *err)
{
    for (int l = 0; l < n_layer; l++)
        for (int h = 0; h < n_head; h++)
            for (int d = 0; d < n; d++) {
                size_t i = ((size_t)l * n_head + h) * n + d;
                int64_t want = ss_slash_rows_at(n, d, skip) > 0 ? prompts : 0;
                if (count[i] != want)
                    return ss_fail(err, SS_ERR_FORMAT, "%s: L%dH%d offset %d counts %lld "
                                   "prompts where %lld were recorded: the counts are damaged",
                                   what, l, h, d, (long long)count[i], (long long)want);
                /* each prompt adds a mean of probabilities: [0, 1] up to rounding */
                double s = sum[i], c = (double)count[i];
                if (!isfinite(s) || s < -1e-9 * (c + 1) || s > c * (1 + 1e-9) + 1e-9)
                    return ss_fail(err, SS_ERR_FORMAT, "%s: L%dH%d offset %d: the slash-score "
                                   "sum %g is %s for %lld prompts: the sums are damaged",
                                   what, l, h, d, s, isfinite(s) ? "impossible" : "not finite",
                                   (long long)count[i]);
                double q = sumsq ? sumsq[i] : 0, lo = c > 0 ? s * s / c : 0, tol = 1e-9 * (c + 1);
                if (sumsq && (!isfinite(q) || q < lo - tol || q > c + tol))
                    return ss_fail(err, SS_ERR_FORMAT, "%s: L%dH%d offset %d: the sum of squares "
                                   "%g is impossible for %lld prompts summing to %g: the sums "
                                   "are damaged", what, l, h, d, q, (long long)count[i], s);
            }
    return SS_OK;
}

/* The first difference of two scans' recorded "model" or "rope", as an
 * error naming the field and both values. */
static ss_code same_part(const cJSON *x, const char *a_what, const cJSON *y, const char *b_what,
                         const char *part, const char *message, ss_error *err)
{
    static const char *const ignore[] = {"path", NULL};
    char field[512], va[80], vb[80];
    if (!cJSON_IsObject(x) || !cJSON_IsObject(y))
        return ss_fail(err, SS_ERR_FORMAT, "%s or %s: no \"%s\" object in scan.json", a_what,
                       b_what, part);
    if (!ss_json_first_difference(x, y, ignore, field, sizeof field))
        return SS_OK;
    ss_json_brief(ss_json_at(x, field), va, sizeof va);
    ss_json_brief(ss_json_at(y, field), vb, sizeof vb);
    return ss_fail(err, SS_ERR_INCOMPATIBLE, "%s (%s.%s differs: %s in %s, %s in %s)", message,
                   part, field, va, a_what, vb, b_what);
}

ss_code ss_scan_result_of_model(const ss_scan_result *r, const char *dir, const cJSON *model,
                                const char *flag, ss_error *err)
{
    char msg[600];
    snprintf(msg, sizeof msg, "%s %s: that scan is of another model", flag, dir);
    return same_part(cJSON_GetObjectItemCaseSensitive(r->meta, "model"), dir, model,
                     "this model", "model", msg, err);
}

ss_code ss_scan_result_compatible(const ss_scan_result *a, const char *a_dir,
                                  const ss_scan_result *b, const char *b_dir, int same_length,
                                  ss_error *err)
{
    const char *parts[2] = {"model", "rope"};
    char msg[600];
    snprintf(msg, sizeof msg, "%s and %s are scans of different models", a_dir, b_dir);
    for (int k = 0; k < 2; k++) {
        ss_code rc = same_part(cJSON_GetObjectItemCaseSensitive(a->meta, parts[k]), a_dir,
                               cJSON_GetObjectItemCaseSensitive(b->meta, parts[k]), b_dir,
                               parts[k], msg, err);
        if (rc)
            return rc;
    }
    if (a->skip != b->skip)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "%s and %s use different skips (%d and %d)",
                       a_dir, b_dir, a->skip, b->skip);
    if (same_length && a->n != b->n)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "%s and %s have different prompt lengths "
                       "(%d and %d)", a_dir, b_dir, a->n, b->n);
    return SS_OK;
}

void ss_scan_result_map_mean(const ss_scan_result *r, int k, const int *edge, double *mean)
{
    /* block mean = block sum / (prompts * area), bins by the pooling rule */
    int bins = r->bins;
    const double *s = r->map_sum + (size_t)k * bins * bins;
    for (int a = 0; a < bins; a++)
        for (int b = 0; b < bins; b++) {
            double area = (double)(edge[a + 1] - edge[a]) * (edge[b + 1] - edge[b]);
            mean[(size_t)a * bins + b] =
                r->prompts > 0 ? s[(size_t)a * bins + b] / (area * r->prompts) : NAN;
        }
}
