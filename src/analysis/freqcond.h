/* The slash-dominance frequency condition (Assumption 5.1, eq. 11; SPEC.md
 * section 5, last bullet) for one set of RoPE frequencies.
 *
 *   f(x) = sum_s cos(theta_s x),   x integer, |x| <= N
 *
 * is fitted by least squares to C1 delta_0(x) + C2 over the 2N + 1 points.
 * The delta regressor touches only x = 0, so the fit is exact there and
 * C2 is the mean of f over x != 0 (f is even: the mean over 1..N), C1 =
 * f(0) - C2. Reported alongside: eps_FN = max |f - C1 delta_0 - C2|, the
 * smallest L for which eps_FN <= L C1 / N holds (L_min = eps_FN N / C1),
 * and the peak gap f(0) - max_{x != 0} f(x) (positive: the summed cosines
 * peak at offset 0 alone). Pass/fail needs an L from the user: see
 * ss_freq_condition_holds. */
#ifndef SS_ANALYSIS_FREQCOND_H
#define SS_ANALYSIS_FREQCOND_H

#include "common/error.h"

typedef struct {
    int n, N;          /* number of frequencies and the range |x| <= N */
    double f0;         /* f(0) = n */
    double C1, C2;     /* least-squares fit of C1 delta_0 + C2 */
    double eps_fn;     /* max over |x| <= N of |f(x) - C1 delta_0(x) - C2| */
    double L_min;      /* eps_fn * N / C1 (+inf when C1 <= 0) */
    double peak_gap;   /* f(0) - max_{x != 0} f(x) */
    int peak_x;        /* the x in 1..N where f is largest (first one) */
} ss_freq_condition_result;

/* theta: n >= 1 finite frequencies (radians per token); N >= 1. Returns
 * SS_ERR_USAGE for n < 1 or N < 1, SS_ERR_VALUE for a non-finite theta. */
ss_code ss_freq_condition(const double *theta, int n, int N, ss_freq_condition_result *out);

/* The same, also writing f(0..N) into curve [N + 1] (each f(x) summed
 * once instead of three times: the same values). curve is left as it was
 * when the result is an error. */
ss_code ss_freq_condition_curve(const double *theta, int n, int N, double *curve,
                                ss_freq_condition_result *out);

/* cos(theta_f x) for every frequency f of a schedule and x = 0..N: the
 * terms of every head's curve, computed once per run instead of once per
 * head (c [f * (N + 1) + x], the same values ss_freq_cos_sum adds). */
typedef struct {
    int n, N;
    double *theta; /* [n] */
    double *c;     /* [n, N + 1] */
} ss_cos_table;

/* theta: n >= 1 frequencies (non-finite ones are kept and refused by
 * ss_freq_condition_table when chosen); N >= 1. */
ss_code ss_cos_table_init(ss_cos_table *t, const double *theta, int n, int N, ss_error *err);
void ss_cos_table_free(ss_cos_table *t);

/* ss_freq_condition_curve over the table's frequencies idx [0..n-1] (the
 * same values, bit for bit): curve [N + 1] with N = t->N. */
ss_code ss_freq_condition_table(const ss_cos_table *t, const int *idx, int n, double *curve,
                                ss_freq_condition_result *out);

/* Whether eps_FN <= L C1 / N for the user's L (C1 must be positive). */
int ss_freq_condition_holds(const ss_freq_condition_result *r, double L);

/* f(x) for one x (the same sum the fit uses), for plots and tests. */
double ss_freq_cos_sum(const double *theta, int n, int x);

#endif
