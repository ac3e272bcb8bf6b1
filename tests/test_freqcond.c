/* The slash-dominance frequency condition (src/analysis/freqcond.c) against
 * sums of cosines that are known in closed form. */
#include <math.h>
#include <string.h>

#include "analysis/freqcond.h"
#include "harness.h"

/* theta = pi: f(x) = (-1)^x. For even N the mean over 1..N is 0, so C2 =
 * 0, C1 = 1, eps_FN = 1, L_min = N, and f(2) = f(0) gives a zero gap. For
 * odd N: C2 = -1/N, C1 = 1 + 1/N, eps_FN = 1 + 1/N, L_min = N. */
static void test_alternating(void)
{
    double th = M_PI;
    ss_freq_condition_result r;
    CHECK(ss_freq_condition(&th, 1, 10, &r) == SS_OK);
    CHECK_NEAR(r.f0, 1.0, 1e-15);
    CHECK_NEAR(r.C2, 0.0, 1e-12);
    CHECK_NEAR(r.C1, 1.0, 1e-12);
    CHECK_NEAR(r.eps_fn, 1.0, 1e-12);
    CHECK_NEAR(r.L_min, 10.0, 1e-10);
    CHECK_NEAR(r.peak_gap, 0.0, 1e-12);
    CHECK(r.peak_x == 2);
    CHECK(ss_freq_condition(&th, 1, 9, &r) == SS_OK);
    CHECK_NEAR(r.C2, -1.0 / 9, 1e-12);
    CHECK_NEAR(r.C1, 1.0 + 1.0 / 9, 1e-12);
    CHECK_NEAR(r.eps_fn, 1.0 + 1.0 / 9, 1e-12);
    CHECK_NEAR(r.L_min, 9.0, 1e-10);
}

/* One frequency: sum_{x=1}^N cos(theta x) = sin(N theta/2) cos((N+1) theta/2)
 * / sin(theta/2) (a geometric series), so C2 is that over N. */
static void test_single_frequency(void)
{
    const double thetas[3] = {0.3, 1.0, 2.2};
    const int Ns[3] = {7, 50, 333};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double th = thetas[a];
            int N = Ns[b];
            double sum = sin(N * th / 2) * cos((N + 1) * th / 2) / sin(th / 2);
            ss_freq_condition_result r;
            CHECK(ss_freq_condition(&th, 1, N, &r) == SS_OK);
            CHECK_NEAR(r.C2, sum / N, 1e-12);
            CHECK_NEAR(r.C1, 1.0 - sum / N, 1e-12);
            CHECK_NEAR(r.L_min, r.eps_fn * N / r.C1, 1e-9);
            /* cos never exceeds its value at 0: the gap cannot be negative */
            CHECK(r.peak_gap >= -1e-12);
        }
}

/* theta_s = 2 pi s / M, s = 0..M-1: f(x) = M when M divides x, else 0 (a
 * geometric series of roots of unity). For N < M: a perfect pulse, C1 = M,
 * C2 = 0, eps_FN = 0, gap M. For N >= M the pulse recurs at x = M:
 * C2 = M floor(N/M) / N and the gap is 0. */
static void test_roots_of_unity(void)
{
    const int M = 12;
    double th[12];
    for (int s = 0; s < M; s++)
        th[s] = 2 * M_PI * s / M;
    ss_freq_condition_result r;
    CHECK(ss_freq_condition(th, M, 11, &r) == SS_OK);
    CHECK_NEAR(r.C1, M, 1e-11);
    CHECK_NEAR(r.C2, 0.0, 1e-11);
    CHECK_NEAR(r.eps_fn, 0.0, 1e-11);
    CHECK_NEAR(r.L_min, 0.0, 1e-10);
    CHECK_NEAR(r.peak_gap, M, 1e-11);
    CHECK(ss_freq_condition_holds(&r, 1e-6));
    CHECK(ss_freq_condition(th, M, 30, &r) == SS_OK);
    double C2 = (double)M * 2 / 30;
    CHECK_NEAR(r.C2, C2, 1e-11);
    CHECK_NEAR(r.C1, M - C2, 1e-11);
    CHECK_NEAR(r.eps_fn, M - C2, 1e-11); /* at x = 12 and 24 */
    CHECK_NEAR(r.peak_gap, 0.0, 1e-11);
    CHECK(r.peak_x == 12);
    /* eps_FN <= L C1 / N  <=>  L >= N (M - C2) / (M - C2) = N */
    CHECK(!ss_freq_condition_holds(&r, 29.9));
    CHECK(ss_freq_condition_holds(&r, 30.0 + 1e-9));
}

/* Zero frequencies (NoPE): f is constant n, C1 = 0: no pulse at any L. */
static void test_unrotated(void)
{
    double th[4] = {0, 0, 0, 0};
    ss_freq_condition_result r;
    CHECK(ss_freq_condition(th, 4, 20, &r) == SS_OK);
    CHECK_NEAR(r.C2, 4.0, 1e-15);
    CHECK_NEAR(r.C1, 0.0, 1e-15);
    CHECK(isinf(r.L_min));
    CHECK(!ss_freq_condition_holds(&r, 1e9));
    CHECK_NEAR(ss_freq_cos_sum(th, 4, 7), 4.0, 1e-15);
}

static void test_bad_input(void)
{
    double th[2] = {1.0, NAN};
    ss_freq_condition_result r;
    CHECK(ss_freq_condition(th, 0, 10, &r) == SS_ERR_USAGE);
    CHECK(ss_freq_condition(th, 1, 0, &r) == SS_ERR_USAGE);
    CHECK(ss_freq_condition(th, 2, 10, &r) == SS_ERR_VALUE);
}

/* The curve variant (freq's): the same fit, field for field, and f(x) at
 * every x; an error leaves the curve alone. */
static void test_curve_variant(void)
{
    double th[5] = {1.0, 0.31, 0.0137, 2.9, 0.5e-3}, curve[101];
    ss_freq_condition_result a, b;
    CHECK(ss_freq_condition(th, 5, 100, &a) == SS_OK);
    CHECK(ss_freq_condition_curve(th, 5, 100, curve, &b) == SS_OK);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    int same = 1;
    for (int x = 0; x <= 100; x++)
        same &= curve[x] == ss_freq_cos_sum(th, 5, x);
    CHECK(same);
    CHECK(a.f0 == 5.0 && a.C1 > 0);
    double bad[2] = {1.0, NAN};
    curve[0] = 42;
    CHECK(ss_freq_condition_curve(bad, 2, 100, curve, &b) == SS_ERR_VALUE && curve[0] == 42);
}

/* The run's cosine table (freq's, shared by every head): each subset of its
 * frequencies gives the curve variant's result field for field and its f(x)
 * bit for bit; theta = pi alone is the closed form (-1)^x; a non-finite
 * chosen frequency or an index outside the table is refused and leaves the
 * curve alone. */
static void test_table_variant(void)
{
    double th[6] = {1.0, 0.31, NAN, 0.0137, 2.9, 0.5e-3}, curve[101], want[101];
    ss_cos_table t;
    ss_error err = {0};
    CHECK(ss_cos_table_init(&t, th, 6, 100, &err) == SS_OK);
    const int sets[3][4] = {{0, 1, 3, 4}, {5, 1, 0, 4}, {3, 5, -1, -1}};
    const int sizes[3] = {4, 4, 2};
    for (int k = 0; k < 3; k++) {
        double sub[4];
        for (int s = 0; s < sizes[k]; s++)
            sub[s] = th[sets[k][s]];
        ss_freq_condition_result a, b;
        CHECK(ss_freq_condition_curve(sub, sizes[k], 100, want, &a) == SS_OK);
        CHECK(ss_freq_condition_table(&t, sets[k], sizes[k], curve, &b) == SS_OK);
        CHECK(memcmp(&a, &b, sizeof a) == 0);
        CHECK(memcmp(curve, want, sizeof curve) == 0);
    }
    ss_cos_table_free(&t);
    double pi = M_PI;
    CHECK(ss_cos_table_init(&t, &pi, 1, 9, &err) == SS_OK);
    ss_freq_condition_result r;
    CHECK(ss_freq_condition_table(&t, (const int[]){0}, 1, curve, &r) == SS_OK);
    for (int x = 0; x <= 9; x++)
        CHECK_NEAR(curve[x], x % 2 ? -1.0 : 1.0, 1e-12);
    CHECK_NEAR(r.C2, -1.0 / 9, 1e-12);
    ss_cos_table_free(&t);
    CHECK(ss_cos_table_init(&t, th, 6, 100, &err) == SS_OK);
    curve[0] = 42;
    CHECK(ss_freq_condition_table(&t, (const int[]){1, 2}, 2, curve, &r) == SS_ERR_VALUE);
    CHECK(ss_freq_condition_table(&t, (const int[]){6}, 1, curve, &r) == SS_ERR_USAGE);
    CHECK(ss_freq_condition_table(&t, (const int[]){0}, 0, curve, &r) == SS_ERR_USAGE);
    CHECK(curve[0] == 42);
    ss_cos_table_free(&t);
    CHECK(ss_cos_table_init(&t, th, 6, 0, &err) == SS_ERR_USAGE);
}

/* A table long enough to be filled on several threads (n (N + 1) >= 65536):
 * every entry is cos(theta_f x) as one thread computes it, bit for bit, and
 * a curve from it equals ss_freq_condition_curve's. */
static void test_table_threads(void)
{
    enum { N = 20000 };
    double th[6] = {1.0, 0.31, NAN, 0.0137, 2.9, 0.5e-3};
    ss_cos_table t;
    ss_error err = {0};
    CHECK(ss_cos_table_init(&t, th, 6, N, &err) == SS_OK);
    int same = 1;
    for (int f = 0; f < 6; f++)
        for (int x = 0; x <= N; x++) {
            double want = cos(th[f] * (double)x), got = t.c[(size_t)f * (N + 1) + x];
            same &= got == want || (isnan(got) && isnan(want));
        }
    CHECK(same);
    static double curve[N + 1], want[N + 1];
    ss_freq_condition_result a, b;
    const int idx[4] = {5, 0, 3, 4};
    double sub[4] = {th[5], th[0], th[3], th[4]};
    CHECK(ss_freq_condition_curve(sub, 4, N, want, &a) == SS_OK);
    CHECK(ss_freq_condition_table(&t, idx, 4, curve, &b) == SS_OK);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK(memcmp(curve, want, sizeof curve) == 0);
    ss_cos_table_free(&t);
}

TEST_MAIN(TEST(test_alternating), TEST(test_single_frequency), TEST(test_roots_of_unity),
          TEST(test_unrotated), TEST(test_bad_input), TEST(test_curve_variant),
          TEST(test_table_variant), TEST(test_table_threads))
