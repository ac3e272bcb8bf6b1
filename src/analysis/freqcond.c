#include "analysis/freqcond.h"

#include <math.h>
#include <string.h>

double ss_freq_cos_sum(const double *theta, int n, int x)
{
    double f = 0.0;
    for (int s = 0; s < n; s++)
        f += cos(theta[s] * (double)x);
    return f;
}

/* f(x): from the caller's curve when there is one (filled by
 * ss_freq_condition_curve), else summed here; the same value either way. */
static double f_at(const double *curve, const double *theta, int n, int x)
{
    return curve ? curve[x] : ss_freq_cos_sum(theta, n, x);
}

static ss_code fit(const double *theta, int n, int N, const double *curve,
                   ss_freq_condition_result *out)
{
    out->n = n;
    out->N = N;
    out->f0 = f_at(curve, theta, n, 0);
    /* f is even, so the mean over x != 0 in [-N, N] is the mean over 1..N. */
    double sum = 0.0, fmax = -INFINITY;
    int xmax = 1;
    for (int x = 1; x <= N; x++) {
        double f = f_at(curve, theta, n, x);
        sum += f;
        if (f > fmax) {
            fmax = f;
            xmax = x;
        }
    }
    out->C2 = sum / N;
    out->C1 = out->f0 - out->C2;
    double eps = 0.0; /* the residual at x = 0 is exactly zero */
    for (int x = 1; x <= N; x++) {
        double r = fabs(f_at(curve, theta, n, x) - out->C2);
        if (r > eps)
            eps = r;
    }
    out->eps_fn = eps;
    out->L_min = out->C1 > 0 ? eps * N / out->C1 : INFINITY;
    out->peak_gap = out->f0 - fmax;
    out->peak_x = xmax;
    return SS_OK;
}

static ss_code check(const double *theta, int n, int N, ss_freq_condition_result *out)
{
    memset(out, 0, sizeof *out);
    if (n < 1 || N < 1)
        return SS_ERR_USAGE;
    for (int s = 0; s < n; s++)
        if (!isfinite(theta[s]))
            return SS_ERR_VALUE;
    return SS_OK;
}

ss_code ss_freq_condition(const double *theta, int n, int N, ss_freq_condition_result *out)
{
    ss_code rc = check(theta, n, N, out);
    return rc ? rc : fit(theta, n, N, NULL, out);
}

ss_code ss_freq_condition_curve(const double *theta, int n, int N, double *curve,
                                ss_freq_condition_result *out)
{
    ss_code rc = check(theta, n, N, out);
    if (rc)
        return rc;
    for (int x = 0; x <= N; x++)
        curve[x] = ss_freq_cos_sum(theta, n, x);
    return fit(theta, n, N, curve, out);
}

int ss_freq_condition_holds(const ss_freq_condition_result *r, double L)
{
    return r->C1 > 0 && r->eps_fn <= L * r->C1 / r->N;
}
