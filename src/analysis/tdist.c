#include "analysis/tdist.h"

#include <math.h>

#define TINY 1e-300

/* Lentz's evaluation of the continued fraction of I_x(a, b); converges
 * quickly for x < (a + 1) / (a + b + 2), where the caller uses it. */
static double betainc_cf(double a, double b, double x)
{
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < TINY)
        d = TINY;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 500; m++) {
        /* even step: m (b - m) x / ((a + 2m - 1)(a + 2m)) */
        double num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        d = 1 + num * d;
        c = 1 + num / c;
        d = 1 / (fabs(d) < TINY ? TINY : d);
        c = fabs(c) < TINY ? TINY : c;
        h *= d * c;
        /* odd step: -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) */
        num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
        d = 1 + num * d;
        c = 1 + num / c;
        d = 1 / (fabs(d) < TINY ? TINY : d);
        c = fabs(c) < TINY ? TINY : c;
        double step = d * c;
        h *= step;
        if (fabs(step - 1) < 1e-16)
            break;
    }
    return h;
}

/* I_x(a, b) with y = 1 - x given too: for x near 1 (many degrees of
 * freedom) 1 - x computed from x would have lost its digits. */
static double betainc_xy(double a, double b, double x, double y)
{
    if (x <= 0)
        return 0;
    if (y <= 0)
        return 1;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(y));
    if (x < (a + 1) / (a + b + 2))
        return front * betainc_cf(a, b, x) / a;
    return 1 - front * betainc_cf(b, a, y) / b; /* the symmetry I_x(a,b) = 1 - I_y(b,a) */
}

double ss_betainc(double a, double b, double x)
{
    return betainc_xy(a, b, x, 1 - x);
}

double ss_student_t_cdf(double t, double df)
{
    /* P(|T| > |t|) = I_x(df / 2, 1 / 2), x = df / (df + t^2) */
    double t2 = t * t;
    double tail = 0.5 * betainc_xy(df / 2, 0.5, df / (df + t2), t2 / (df + t2));
    return t >= 0 ? 1 - tail : tail;
}

double ss_student_t_quantile(double p, double df)
{
    if (!(df > 0) || !(p > 0 && p < 1))
        return NAN;
    if (p == 0.5)
        return 0;
    if (p < 0.5)
        return -ss_student_t_quantile(1 - p, df);
    /* the cdf is increasing: bisect on a bracket grown until it holds p */
    double lo = 0, hi = 1;
    while (ss_student_t_cdf(hi, df) < p && hi < 1e300)
        hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (ss_student_t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}
