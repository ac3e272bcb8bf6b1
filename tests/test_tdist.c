/* Student's t quantiles (analysis/tdist.h) against closed forms, and the
 * spread of slash scores (analysis/slash.h) against a direct computation. */
#include <math.h>

#include "analysis/slash.h"
#include "analysis/tdist.h"
#include "harness.h"

static void test_closed_forms(void)
{
    const double p = 0.975, pi = acos(-1.0);
    /* df = 1 is the Cauchy distribution: tan(pi (p - 1/2)) */
    CHECK_NEAR(ss_student_t_quantile(p, 1), tan(pi * (p - 0.5)), 1e-10);
    /* df = 2: (2p - 1) / sqrt(2 p (1 - p)) */
    CHECK_NEAR(ss_student_t_quantile(p, 2), (2 * p - 1) / sqrt(2 * p * (1 - p)), 1e-11);
    /* df = 4: with a = 4 p (1 - p), t = 2 sqrt(cos(acos(sqrt a) / 3) / sqrt a - 1) */
    double a = 4 * p * (1 - p);
    double t4 = 2 * sqrt(cos(acos(sqrt(a)) / 3) / sqrt(a) - 1);
    CHECK_NEAR(ss_student_t_quantile(p, 4), t4, 1e-11);
    /* many degrees of freedom: the Cornish-Fisher expansion around the
     * normal quantile z to its third term (the fourth is below 1e-11 at nu = 1e3) */
    const double z = 1.959963984540054;
    for (double nu = 1e3; nu <= 1e5; nu *= 10) {
        double cf = z + (z * z * z + z) / (4 * nu) +
                    (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * nu * nu) +
                    (3 * pow(z, 7) + 19 * pow(z, 5) + 17 * z * z * z - 15 * z) /
                        (384 * nu * nu * nu);
        CHECK_NEAR(ss_student_t_quantile(p, nu), cf, 1e-9);
    }
    /* symmetry, the median, the cdf inverting the quantile */
    CHECK_NEAR(ss_student_t_quantile(0.025, 7), -ss_student_t_quantile(0.975, 7), 1e-13);
    CHECK(ss_student_t_quantile(0.5, 3) == 0);
    for (int df = 1; df <= 60; df += 7)
        CHECK_NEAR(ss_student_t_cdf(ss_student_t_quantile(p, df), df), p, 1e-13);
    CHECK(isnan(ss_student_t_quantile(p, 0)) && isnan(ss_student_t_quantile(1.0, 3)));
}

static void test_spread(void)
{
    /* three prompts at cell 0 scoring 0.1, 0.2, 0.4; one prompt at cell 1 */
    const double s[3] = {0.1, 0.2, 0.4};
    double sum[2] = {0}, sumsq[2] = {0}, sd[2], half[2];
    int64_t count[2] = {3, 1};
    for (int k = 0; k < 3; k++) {
        sum[0] += s[k];
        sumsq[0] += s[k] * s[k];
    }
    sum[1] = 0.5;
    sumsq[1] = 0.25;
    ss_slash_spread(sum, sumsq, count, 2, sd, half);
    double m = (s[0] + s[1] + s[2]) / 3, v = 0;
    for (int k = 0; k < 3; k++)
        v += (s[k] - m) * (s[k] - m);
    double want_sd = sqrt(v / 2);
    CHECK_NEAR(sd[0], want_sd, 1e-15);
    /* t_{0.975, 2} in closed form */
    CHECK_NEAR(half[0], 0.95 / sqrt(2 * 0.975 * 0.025) * want_sd / sqrt(3.0), 1e-14);
    CHECK(isnan(sd[1]) && isnan(half[1])); /* one prompt: no spread */
    /* identical prompts: zero, never NaN from rounding */
    double same_sum = 3 * 0.1, same_sq = 3 * 0.1 * 0.1;
    int64_t three = 3;
    ss_slash_spread(&same_sum, &same_sq, &three, 1, sd, NULL);
    CHECK(sd[0] >= 0 && sd[0] < 1e-8);
}

TEST_MAIN(TEST(test_closed_forms), TEST(test_spread))
