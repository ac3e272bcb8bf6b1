/* r_l and R_tau (SPEC.md section 3) against closed forms, and the two routes
 * to singular values (dense SVD, streamed Gram eigenvalues) against each other. */
#include <math.h>
#include <stdlib.h>

#include "analysis/lowrank.h"
#include "harness.h"

static double urand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 8) & 0xFFFF) / 65536.0 - 0.5;
}

/* X = a b^T has one singular value |a| |b|: r_1 = 1, R_tau = 1 for any tau. */
static void test_rank_one_closed_form(void)
{
    enum { N = 300, D = 24 };
    static double x[N * D];
    double a[N], b[D], na = 0, nb = 0;
    unsigned s = 7;
    for (int i = 0; i < N; i++) {
        a[i] = 1 + urand(&s);
        na += a[i] * a[i];
    }
    for (int j = 0; j < D; j++) {
        b[j] = urand(&s);
        nb += b[j] * b[j];
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            x[i * D + j] = a[i] * b[j];
    ss_error err = {0};
    double sv2[D], r[D];
    CHECK(ss_lowrank_sv2_dense(x, N, D, D, sv2, &err) == SS_OK);
    CHECK_NEAR(sv2[0], na * nb, 1e-10 * na * nb);
    CHECK(ss_lowrank_R(sv2, D, 0.95, r) == 1);
    CHECK_NEAR(r[0], 1.0, 1e-12);
    CHECK(ss_lowrank_R(sv2, D, 1.0, NULL) == 1);

    ss_gram g;
    CHECK(ss_gram_init(&g, D, &err) == SS_OK);
    ss_gram_add_f64(&g, x, N, D);
    CHECK(g.rows == N);
    CHECK(ss_gram_sv2(&g, sv2, &err) == SS_OK);
    CHECK_NEAR(sv2[0], na * nb, 1e-10 * na * nb);
    CHECK(ss_lowrank_R(sv2, D, 0.95, r) == 1);
    CHECK_NEAR(r[0], 1.0, 1e-12);
    CHECK(ss_lowrank_R(sv2, D, 1.0, NULL) == 1);
    ss_gram_free(&g);
}

/* X = U diag(3, 2, 1) V^T with U = first 3 columns of H4 / 2 (orthonormal)
 * and V a rotation: squared singular values 9, 4, 1 exactly. */
static void test_known_spectrum(void)
{
    const double h4[4][4] = {{1, 1, 1, 1}, {1, -1, 1, -1}, {1, 1, -1, -1}, {1, -1, -1, 1}};
    const double sig[3] = {3, 2, 1};
    double c = cos(0.7), s = sin(0.7);
    const double v[3][3] = {{c, -s, 0}, {s, c, 0}, {0, 0, 1}};
    double x[4 * 3] = {0};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            for (int l = 0; l < 3; l++)
                x[i * 3 + j] += h4[i][l] / 2 * sig[l] * v[j][l];
    ss_error err = {0};
    double sv2[3], r[3];
    CHECK(ss_lowrank_sv2_dense(x, 4, 3, 3, sv2, &err) == SS_OK);
    CHECK_NEAR(sv2[0], 9, 1e-12);
    CHECK_NEAR(sv2[1], 4, 1e-12);
    CHECK_NEAR(sv2[2], 1, 1e-12);
    CHECK(ss_lowrank_R(sv2, 3, 0.95, r) == 3); /* 13/14 = 0.929 < 0.95 */
    CHECK_NEAR(r[0], 9.0 / 14, 1e-12);
    CHECK_NEAR(r[1], 4.0 / 14, 1e-12);
    CHECK_NEAR(r[2], 1.0 / 14, 1e-12);
    CHECK(ss_lowrank_R(sv2, 3, 0.93, NULL) == 3);
    CHECK(ss_lowrank_R(sv2, 3, 0.92, NULL) == 2);
    CHECK(ss_lowrank_R(sv2, 3, 0.5, NULL) == 1);
    /* a wide matrix (rows < cols): min(rows, cols) values */
    double xt[3 * 4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            xt[j * 4 + i] = x[i * 3 + j];
    CHECK(ss_lowrank_sv2_dense(xt, 3, 4, 4, sv2, &err) == SS_OK);
    CHECK_NEAR(sv2[0], 9, 1e-12);
    CHECK_NEAR(sv2[2], 1, 1e-12);
}

static void test_stats_edge_cases(void)
{
    const double sv2[4] = {4, 3, 2, 1};
    double r[4];
    CHECK(ss_lowrank_R(sv2, 4, 0.95, r) == 4);
    CHECK(ss_lowrank_R(sv2, 4, 0.9, r) == 3); /* exactly 0.9: allowed */
    CHECK(ss_lowrank_R(sv2, 4, 0.7, r) == 2);
    CHECK(ss_lowrank_R(sv2, 4, 0.0, r) == 1);
    CHECK_NEAR(r[0] + r[1] + r[2] + r[3], 1.0, 1e-15);
    const double zero[3] = {0, 0, 0};
    CHECK(isnan(ss_lowrank_R(zero, 3, 0.95, r)));
    CHECK(isnan(r[0]));
    ss_error err = {0};
    CHECK(ss_lowrank_sv2_dense(sv2, 0, 4, 4, r, &err) == SS_ERR_USAGE);
    ss_gram g;
    ss_error err2 = {0};
    CHECK(ss_gram_init(&g, 0, &err2) == SS_ERR_USAGE);
}

/* Random tall matrix: dense SVD and the streamed Gram (float input, uneven
 * blocks, two halves merged) agree. */
static void test_routes_agree(void)
{
    enum { N = 1000, D = 40 };
    static float xf[N * D];
    static double xd[N * D];
    unsigned s = 99;
    for (int i = 0; i < N * D; i++) {
        /* a dominant common direction plus noise, like queries of an SDH */
        xf[i] = (float)(urand(&s) + ((i % D) < 3 ? 2.0 : 0.0));
        xd[i] = xf[i];
    }
    ss_error err = {0};
    double a[D], b[D], c[D], r[D];
    CHECK(ss_lowrank_sv2_dense(xd, N, D, D, a, &err) == SS_OK);
    ss_gram g1, g2;
    CHECK(ss_gram_init(&g1, D, &err) == SS_OK);
    CHECK(ss_gram_init(&g2, D, &err) == SS_OK);
    ss_gram_add_f32(&g1, xf, 333, D);
    ss_gram_add_f32(&g1, xf + 333 * D, 1, D);
    ss_gram_add_f32(&g2, xf + 334 * D, N - 334, D);
    CHECK(ss_gram_merge(&g1, &g2, &err) == SS_OK);
    CHECK(g1.rows == N);
    CHECK(ss_gram_sv2(&g1, b, &err) == SS_OK);
    for (int i = 0; i < D; i++)
        CHECK_NEAR(a[i], b[i], 1e-9 * a[0]);
    CHECK(ss_lowrank_R(a, D, 0.95, r) == ss_lowrank_R(b, D, 0.95, NULL));
    /* one call over the whole matrix (row stride > d exercised too) */
    static float wide[N * (D + 5)];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            wide[i * (D + 5) + j] = xf[i * D + j];
    ss_gram g3;
    CHECK(ss_gram_init(&g3, D, &err) == SS_OK);
    ss_gram_add_f32(&g3, wide, N, D + 5);
    CHECK(ss_gram_sv2(&g3, c, &err) == SS_OK);
    for (int i = 0; i < D; i++)
        CHECK_NEAR(c[i], b[i], 1e-9 * a[0]);
    ss_gram bad;
    CHECK(ss_gram_init(&bad, D + 1, &err) == SS_OK);
    ss_error err2 = {0};
    CHECK(ss_gram_merge(&g1, &bad, &err2) == SS_ERR_INCOMPATIBLE);
    ss_gram_free(&bad);
    ss_gram_free(&g1);
    ss_gram_free(&g2);
    ss_gram_free(&g3);
}

TEST_MAIN(TEST(test_rank_one_closed_form), TEST(test_known_spectrum), TEST(test_stats_edge_cases),
          TEST(test_routes_agree))
