/* Student's t distribution: the quantile behind the 95% intervals of the
 * average slash scores (SPEC.md section 2). */
#ifndef SS_ANALYSIS_TDIST_H
#define SS_ANALYSIS_TDIST_H

#include <stdint.h>

/* Regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1]. */
double ss_betainc(double a, double b, double x);

/* P(T <= t) for T ~ Student's t with df > 0 degrees of freedom. */
double ss_student_t_cdf(double t, double df);

/* The p-quantile of Student's t with df degrees of freedom (0 < p < 1);
 * NaN for df <= 0 or p outside (0, 1). Accurate to ~1e-12 relative. */
double ss_student_t_quantile(double p, double df);

#endif
