#include "analysis/freqcond.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

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
    return fit(NULL, n, N, curve, out); /* the curve holds every f(x) */
}

int ss_freq_condition_holds(const ss_freq_condition_result *r, double L)
{
    return r->C1 > 0 && r->eps_fn <= L * r->C1 / r->N;
}

ss_code ss_cos_table_init(ss_cos_table *t, const double *theta, int n, int N, ss_error *err)
{
    memset(t, 0, sizeof *t);
    if (n < 1 || N < 1)
        return ss_fail(err, SS_ERR_USAGE, "cosine table: %d frequencies over 0..%d; expected "
                       "both positive", n, N);
    t->theta = ss_calloc((size_t)n, sizeof *t->theta, "cosine table", err);
    t->c = t->theta ? ss_calloc((size_t)n * ((size_t)N + 1), sizeof *t->c, "cosine table", err)
                    : NULL;
    if (!t->c) {
        ss_cos_table_free(t);
        return SS_ERR_NOMEM;
    }
    t->n = n;
    t->N = N;
    memcpy(t->theta, theta, sizeof *theta * (size_t)n);
    /* n (N + 1) cosines (2M at N = 32768 with 64 frequencies) were the serial
     * part of freq's result: the rows are independent and shared among the threads,
     * each value the same cos call as on one thread */
    #pragma omp parallel for schedule(static) if ((size_t)n * ((size_t)N + 1) >= 65536)
    for (int f = 0; f < n; f++) {
        double *row = t->c + (size_t)f * ((size_t)N + 1);
        for (int x = 0; x <= N; x++)
            row[x] = cos(theta[f] * (double)x);
    }
    return SS_OK;
}

void ss_cos_table_free(ss_cos_table *t)
{
    free(t->theta);
    free(t->c);
    memset(t, 0, sizeof *t);
}

ss_code ss_freq_condition_table(const ss_cos_table *t, const int *idx, int n, double *curve,
                                ss_freq_condition_result *out)
{
    memset(out, 0, sizeof *out);
    if (n < 1 || t->N < 1)
        return SS_ERR_USAGE;
    for (int s = 0; s < n; s++) {
        if (idx[s] < 0 || idx[s] >= t->n)
            return SS_ERR_USAGE;
        if (!isfinite(t->theta[idx[s]]))
            return SS_ERR_VALUE;
    }
    int N = t->N;
    /* each f(x) adds its frequencies in the set's order from 0, as
     * ss_freq_cos_sum does */
    for (int x = 0; x <= N; x++)
        curve[x] = 0.0;
    for (int s = 0; s < n; s++) {
        const double *row = t->c + (size_t)idx[s] * ((size_t)N + 1);
        for (int x = 0; x <= N; x++)
            curve[x] += row[x];
    }
    return fit(NULL, n, N, curve, out); /* the curve holds every f(x) */
}
