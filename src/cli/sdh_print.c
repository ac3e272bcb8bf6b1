#include "cli/sdh_print.h"

#include <errno.h>
#include <stdlib.h>

#include "common/parse.h"

void ss_print_sdh_listing(FILE *out, const ss_sdh *list, int n)
{
    for (int k = 0; k < n;) {
        int d = list[k].delta;
        fprintf(out, "Δ = %d:", d);
        for (int first = 1; k < n && list[k].delta == d; k++, first = 0)
            fprintf(out, "%s L%dH%d", first ? "" : ",", list[k].layer, list[k].head);
        fputc('\n', out);
    }
}

void ss_print_sdh_regime(FILE *out, const ss_sdh_regime *r, const ss_sdh *list, int n)
{
    fprintf(out, "%s regime (Δ %d..%d, κ %g): %d SDH%s\n", r->name, r->d_min, r->d_max,
            r->kappa, n, n == 1 ? "" : "s");
    if (n == 0)
        return;
    fprintf(out, "  %5sΔ  %-8s  %s\n", "", "head", "score"); /* Δ is 2 bytes, 1 column */
    for (int k = 0; k < n; k++) {
        char name[32];
        snprintf(name, sizeof name, "L%dH%d", list[k].layer, list[k].head);
        fprintf(out, "  %6d  %-8s  %.6g\n", list[k].delta, name, list[k].score);
    }
    ss_print_sdh_listing(out, list, n);
}

static ss_code parse_range(const char *s, int *a, int *b, ss_error *err)
{
    const char *end;
    long long x, y;
    if (ss_parse_ll(s, &end, 0, 1 << 30, &x) || *end != ':' ||
        ss_parse_ll_all(end + 1, x, 1 << 30, &y))
        return ss_fail(err, SS_ERR_USAGE, "--delta wants A:B with 0 <= A <= B <= 2^30 (offsets, "
                       "0-based), got '%s'", s);
    *a = (int)x;
    *b = (int)y;
    return SS_OK;
}

ss_code ss_regimes_from_args(const ss_args *a, ss_sdh_regime *out, int *n, ss_error *err)
{
    const char *delta = ss_args_get(a, "--delta");
    int has_kappa = ss_args_has(a, "--kappa");
    double kappa;
    ss_code rc = ss_args_double(a, "--kappa", 0.1, 0.0, 1.0, &kappa, err);
    if (rc)
        return rc;
    if (delta) {
        int lo = 0, hi = 0;
        if ((rc = parse_range(delta, &lo, &hi, err)))
            return rc;
        out[0] = (ss_sdh_regime){kappa, lo, hi, "custom"};
        *n = 1;
        return SS_OK;
    }
    out[0] = SS_SDH_SMALL;
    out[1] = SS_SDH_LARGE;
    if (has_kappa)
        out[0].kappa = out[1].kappa = kappa;
    *n = 2;
    return SS_OK;
}
