#include "cli/sdh_print.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Entries from k on with the offset of list[k]. */
static int run_length(const ss_sdh *list, int n, int k)
{
    int e = k;
    while (e < n && list[e].delta == list[k].delta)
        e++;
    return e - k;
}

#include "common/parse.h"

void ss_print_sdh_listing(FILE *out, const ss_sdh *list, int n)
{
    for (int k = 0; k < n;) {
        int run = run_length(list, n, k);
        fprintf(out, "Δ = %d:", list[k].delta);
        for (int j = 0; j < run && j < SS_SDH_SHOWN; j++)
            fprintf(out, "%s L%dH%d", j ? "," : "", list[k + j].layer, list[k + j].head);
        if (run > SS_SDH_SHOWN)
            fprintf(out, " and %d more", run - SS_SDH_SHOWN);
        fputc('\n', out);
        k += run;
    }
}

void ss_print_sdh_regime(FILE *out, const ss_sdh_regime *r, const ss_sdh *list, int n)
{
    fprintf(out, "%s regime (Δ %d..%d, κ %g): %d SDH%s\n", r->name, r->d_min, r->d_max,
            r->kappa, n, n == 1 ? "" : "s");
    if (n == 0)
        return;
    fprintf(out, "  %5sΔ  %-8s  %s\n", "", "head", "score"); /* Δ is 2 bytes, 1 column */
    int hidden = 0;
    for (int k = 0; k < n;) {
        int run = run_length(list, n, k);
        for (int j = 0; j < run && j < SS_SDH_SHOWN; j++) {
            char name[32];
            snprintf(name, sizeof name, "L%dH%d", list[k + j].layer, list[k + j].head);
            fprintf(out, "  %6d  %-8s  %.6g\n", list[k].delta, name, list[k + j].score);
        }
        if (run > SS_SDH_SHOWN)
            fprintf(out, "  %6s  (%d more at Δ = %d)\n", "", run - SS_SDH_SHOWN, list[k].delta);
        hidden += run > SS_SDH_SHOWN ? run - SS_SDH_SHOWN : 0;
        k += run;
    }
    ss_print_sdh_listing(out, list, n);
    if (hidden)
        fprintf(out, "  (%d SDHs not shown: the strongest %d per offset are; all are in the "
                "files: sdh.csv, or --json)\n", hidden, SS_SDH_SHOWN);
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

ss_code ss_regimes_from_args(const ss_args *a, const ss_sdh_regime *dflt, ss_sdh_regime *out,
                             int *n, ss_error *err)
{
    const char *delta = ss_args_get(a, "--delta");
    double ks, kl, kappa;
    double ds = dflt ? dflt[0].kappa : SS_SDH_SMALL.kappa;
    double dl = dflt ? dflt[1].kappa : SS_SDH_LARGE.kappa;
    ss_code rc;
    if ((rc = ss_args_double(a, "--kappa-small", ds, 0.0, 1.0, &ks, err)) ||
        (rc = ss_args_double(a, "--kappa-large", dl, 0.0, 1.0, &kl, err)))
        return rc;
    if (ss_args_has(a, "--kappa") && !delta)
        return ss_fail(err, SS_ERR_USAGE, "--kappa sets the κ of a --delta A:B range; for the "
                       "default regimes give --kappa-small and/or --kappa-large");
    if (delta) {
        int lo = 0, hi = 0;
        if ((rc = parse_range(delta, &lo, &hi, err)))
            return rc;
        /* κ follows the range: the large regime's from its first offset on */
        double dflt = lo >= SS_SDH_LARGE.d_min ? kl : ks;
        if ((rc = ss_args_double(a, "--kappa", dflt, 0.0, 1.0, &kappa, err)))
            return rc;
        out[0] = (ss_sdh_regime){kappa, lo, hi, "custom"};
        *n = 1;
        return SS_OK;
    }
    out[0] = SS_SDH_SMALL;
    out[1] = SS_SDH_LARGE;
    out[0].kappa = ks;
    out[1].kappa = kl;
    *n = 2;
    return SS_OK;
}

int ss_sdh_kappa_warn(FILE *out, const char *cmd, const ss_sdh_regime *r, int n)
{
    /* the large-offset regime only: at small offsets attention is far from uniform */
    if (n < 1 || r->d_min >= n || r->d_min < SS_SDH_LARGE.d_min)
        return 0;
    double uniform = 1.0 / n;
    if (r->kappa >= 5 * uniform)
        return 0;
    const char *flag = strcmp(r->name, "small") == 0   ? "--kappa-small"
                       : strcmp(r->name, "large") == 0 ? "--kappa-large"
                                                        : "--kappa";
    fprintf(out, "slashscope %s: warning: the %s regime's κ %g is only %.1fx uniform attention "
            "at N = %d (1/N = %.3g): it counts noise as SDHs; 5x uniform would be κ = %.3g (%s)\n",
            cmd, r->name, r->kappa, r->kappa / uniform, n, uniform, 5 * uniform, flag);
    return 1;
}
