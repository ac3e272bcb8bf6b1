/* r~, R~, dominant direction, relative variation and projection norms
 * (SPEC.md section 4) against hand-worked closed forms. */
#include <math.h>
#include <stdlib.h>

#include "analysis/cone.h"
#include "harness.h"

/* W^T rows 2 e1, 1 e2, 0.5 e3 in R^4: sigma = (2, 1, 0.5), v_l = +-e_l. */
static const double WT[3 * 4] = {2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.5, 0};

static void test_svd_and_energies(void)
{
    ss_error err = {0};
    double sigma[3], v[3 * 4], e[3];
    CHECK(ss_cone_svd(WT, 3, 4, sigma, v, &err) == SS_OK);
    CHECK_NEAR(sigma[0], 2, 1e-14);
    CHECK_NEAR(sigma[1], 1, 1e-14);
    CHECK_NEAR(sigma[2], 0.5, 1e-14);
    for (int l = 0; l < 3; l++)
        CHECK_NEAR(fabs(v[l * 4 + l]), 1, 1e-14);
    const double x[4] = {1, 1, 1, 7}; /* the 4th coordinate is in W's null space */
    ss_cone_energies(x, sigma, v, 3, 4, e);
    CHECK_NEAR(e[0], 4, 1e-13);
    CHECK_NEAR(e[1], 1, 1e-13);
    CHECK_NEAR(e[2], 0.25, 1e-13);
    /* r~ sorts the energies: r~_1 = 4/5.25; 0.95 needs two (5/5.25 = 0.952),
     * 0.96 all three */
    double r1;
    CHECK(ss_cone_rtilde(e, 3, 0.95, &r1) == 2);
    CHECK(ss_cone_rtilde(e, 3, 0.96, &r1) == 3);
    CHECK_NEAR(r1, 4 / 5.25, 1e-13);
    double e2[3] = {0.25, 4, 1};
    CHECK(ss_cone_rtilde(e2, 3, 0.9, &r1) == 2 && e2[0] == 4);
    double z[3] = {0, 0, 0};
    CHECK(ss_cone_rtilde(z, 3, 0.95, &r1) == 0 && isnan(r1));
    CHECK(ss_cone_svd(WT, 4, 3, sigma, v, &err) == SS_ERR_USAGE);
}

/* Sum of energies is ||W^T x||^2 for a random W and x. */
static void test_energy_identity(void)
{
    enum { M = 6, D = 17 };
    double wt[M * D], x[D], sigma[M], v[M * D], e[M];
    unsigned s = 3;
    for (int i = 0; i < M * D; i++) {
        s = s * 1103515245u + 12345u;
        wt[i] = ((s >> 8) & 0xFFFF) / 65536.0 - 0.5;
    }
    for (int i = 0; i < D; i++)
        x[i] = sin(i + 1.0);
    ss_error err = {0};
    CHECK(ss_cone_svd(wt, M, D, sigma, v, &err) == SS_OK);
    ss_cone_energies(x, sigma, v, M, D, e);
    double sum = 0, direct = 0;
    for (int l = 0; l < M; l++) {
        sum += e[l];
        double q = 0;
        for (int j = 0; j < D; j++)
            q += wt[l * D + j] * x[j];
        direct += q * q;
    }
    CHECK_NEAR(sum, direct, 1e-12 * direct);
    for (int l = 1; l < M; l++)
        CHECK(sigma[l] <= sigma[l - 1]);
}

/* Two vectors (1, .5, 0, 0) and (3, -.5, 0, 0): energies (4, .25, 0) and
 * (36, .25, 0); dominant l = 0 with share 40/40.5; v_0^T x in {1, 3} (up to
 * sign): mean 2, population std 1, RV 0.5; r~_1 = (4/4.25 + 36/36.25)/2;
 * R~_0.95 = (2 + 1)/2; mean ||W^T x|| = (sqrt(4.25) + sqrt(36.25))/2. */
static void test_accumulator_closed_form(void)
{
    ss_error err = {0};
    double sigma[3], v[3 * 4];
    CHECK(ss_cone_svd(WT, 3, 4, sigma, v, &err) == SS_OK);
    const double x[2 * 4] = {1, 0.5, 0, 0, 3, -0.5, 0, 0};
    ss_cone_acc a;
    CHECK(ss_cone_acc_init(&a, sigma, v, 3, 4, 0.95, &err) == SS_OK);
    ss_cone_acc_add(&a, x, 1, 4);
    ss_cone_acc_add(&a, x + 4, 1, 4);
    ss_cone_result r;
    ss_cone_acc_result(&a, &r);
    CHECK(r.dominant == 0);
    CHECK_NEAR(r.dominant_share, 40 / 40.5, 1e-13);
    CHECK_NEAR(r.rv_dominant, 0.5, 1e-13);
    CHECK_NEAR(r.r1_tilde, (4 / 4.25 + 36 / 36.25) / 2, 1e-13);
    CHECK_NEAR(r.R_tilde, 1.5, 1e-13);
    CHECK_NEAR(r.proj_norm_mean, (sqrt(4.25) + sqrt(36.25)) / 2, 1e-13);
    ss_cone_acc_free(&a);

    ss_moments m = {0};
    const double dir[4] = {0, 2, 0, 0};
    ss_cone_project_moments(dir, x, 2, 4, 4, &m);
    CHECK_NEAR(ss_moments_mean(&m), 0, 1e-15);
    CHECK(isnan(ss_moments_rv(&m))); /* mean 0: RV undefined */
    ss_moments k = {0};
    ss_moments_add(&k, 2);
    ss_moments_add(&k, 4);
    ss_moments_add(&k, 6);
    CHECK_NEAR(ss_moments_std(&k), sqrt(8.0 / 3), 1e-14);
    CHECK_NEAR(ss_moments_rv(&k), sqrt(8.0 / 3) / 4, 1e-14);
}

/* Vectors on a cone around the axis c (v^T x / ||x|| = const) with the
 * projections W^T x all along one direction are rank one: r~_1 = 1. */
static void test_cone_is_rank_one(void)
{
    enum { N = 50, D = 5 };
    const double wt[2 * D] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* rank one: only e1 */
    ss_error err = {0};
    double sigma[2], v[2 * D];
    CHECK(ss_cone_svd(wt, 2, D, sigma, v, &err) == SS_OK);
    static double x[N * D];
    for (int i = 0; i < N; i++) {
        x[i * D] = 1;
        x[i * D + 1] = cos(i);
        x[i * D + 2] = sin(i);
    }
    ss_cone_acc a;
    CHECK(ss_cone_acc_init(&a, sigma, v, 2, D, 0.95, &err) == SS_OK);
    ss_cone_acc_add(&a, x, N, D);
    ss_cone_result r;
    ss_cone_acc_result(&a, &r);
    CHECK_NEAR(r.r1_tilde, 1, 1e-14);
    CHECK_NEAR(r.R_tilde, 1, 1e-14);
    CHECK_NEAR(r.rv_dominant, 0, 1e-14);
    ss_cone_acc_free(&a);
}

/* W = 0 (a zeroed head): W^T x = 0 for every x, so there is no spectrum and
 * no dominant direction. Every value is undefined (NaN, index -1), never a
 * number an average would take in (R~ 0, or the RV of an arbitrary
 * direction of the zero matrix's SVD); the norm's mean is a real 0. */
static void test_zero_projection_is_undefined(void)
{
    enum { D = 4 };
    const double wt[2 * D] = {0};
    ss_error err = {0};
    double sigma[2], v[2 * D];
    CHECK(ss_cone_svd(wt, 2, D, sigma, v, &err) == SS_OK);
    const double x[2 * D] = {1, 0.5, 0, 0, 3, -0.5, 2, 0};
    ss_cone_acc a;
    CHECK(ss_cone_acc_init(&a, sigma, v, 2, D, 0.95, &err) == SS_OK);
    ss_cone_acc_add(&a, x, 2, D);
    ss_cone_result r;
    ss_cone_acc_result(&a, &r);
    CHECK(r.dominant == -1);
    CHECK(isnan(r.r1_tilde) && isnan(r.R_tilde));
    CHECK(isnan(r.dominant_share) && isnan(r.rv_dominant));
    CHECK(r.proj_norm_mean == 0);
    ss_cone_acc_free(&a);
}

TEST_MAIN(TEST(test_svd_and_energies), TEST(test_energy_identity),
          TEST(test_accumulator_closed_form), TEST(test_cone_is_rank_one),
          TEST(test_zero_projection_is_undefined))
