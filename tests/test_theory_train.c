/* Algorithm 1 and the lab around it (src/theory/train.c, lab.c, freqs.c):
 * the thresholds with satisfying frequencies (the shipped
 * defaults), their failure with only low frequencies, a slash at offset 2,
 * reproducibility from the seed on any thread count, and the frequency
 * sets against their formulas. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "theory/freqs.h"
#include "theory/lab.h"
#include "theory/train.h"

static void run_lab(ss_lab_config *c, ss_lab_result *r)
{
    ss_error err = {0};
    c->train.quiet = 1;
    ss_code rc = ss_lab_run(c, r, &err);
    CHECK_MSG(rc == SS_OK, "%s", err.msg);
}

/* The first trajectory row is the untrained model: W1 = 0 makes S1 uniform,
 * so S1[i][i-1] = 1/(i+1) and its mean over i = 1..N-1 is (H_N - 1)/(N-1). */
static void check_first_row(const ss_lab_result *r)
{
    int N = r->N;
    double h = 0;
    for (int k = 2; k <= N; k++)
        h += 1.0 / k;
    CHECK_NEAR(r->train.rows[0].s1_mean, h / (N - 1), 1e-12);
    CHECK_NEAR(r->train.rows[0].s1_min, 1.0 / N, 1e-12);
    CHECK(r->train.rows[0].step == 0 && r->train.rows[0].stage == 1);
}

static void test_satisfying_defaults(void)
{
    ss_lab_config c;
    ss_lab_defaults(&c);
    c.n_eval = 2048;
    ss_lab_result r;
    run_lab(&c, &r);
    if (!r.theta)
        return;
    check_first_row(&r);
    CHECK_MSG(r.s1_final >= 0.95, "mean S1[i][i-1] = %g", r.s1_final);
    CHECK_MSG(r.loss_final < 0.05 * r.loss_init, "loss %g of initial %g", r.loss_final,
              r.loss_init);
    CHECK(ss_lab_slash_dominant(&c, &r) && ss_lab_loss_converged(&r));
    CHECK(r.train.slash_step > 0 && r.train.slash_step < c.train.tau1);
    CHECK(r.train.n_rows == c.train.tau1 + c.train.tau2 + 1);
    CHECK(r.train.rows[c.train.tau1].stage == 2 && r.train.rows[c.train.tau1 - 1].stage == 1);
    /* stage II finds the question's feature (eq. 16) */
    CHECK(r.ood[0].s2_match > 0.8);
    /* OOD (section 5.5): the learned circuit copies the matching label, so
     * tasks outside training and longer prompts stay accurate */
    for (int k = 0; k < SS_OOD_CASES; k++)
        CHECK_MSG(r.ood[k].rel_mse < 0.1, "%s: relative error %g", r.ood[k].name,
                  r.ood[k].rel_mse);
    /* the gradient of W1 is c dg^T, so W1 stays c g^T with g = W1^T c */
    const ss_rmodel *m = &r.train.model;
    for (int a = 0; a < m->d_c; a++)
        for (int k = 0; k < m->d_c; k++) {
            double g = 0;
            for (int b = 0; b < m->d_c; b++)
                g += m->c[b] * m->W1[b * m->d_c + k];
            CHECK_NEAR(m->W1[a * m->d_c + k], m->c[a] * g, 1e-9 * (1 + fabs(g)));
        }
    /* the semantic frequencies of the default set are at most N^-2 */
    CHECK(r.sem_pass && r.cone.peak_gap > 0);
    ss_lab_free(&r);
}

static void test_low_fails(void)
{
    ss_lab_config c;
    ss_lab_defaults(&c);
    c.freqs = SS_FREQS_LOW;
    c.train.batch = 512;
    c.n_eval = 1024;
    ss_lab_result r;
    run_lab(&c, &r);
    if (!r.theta)
        return;
    check_first_row(&r);
    CHECK_MSG(r.s1_final < 0.5, "mean S1[i][i-1] = %g", r.s1_final);
    CHECK(!ss_lab_slash_dominant(&c, &r));
    CHECK_MSG(r.loss_final > 0.5 * r.loss_init, "loss %g of initial %g", r.loss_final,
              r.loss_init);
    CHECK(!ss_lab_loss_converged(&r));
    CHECK(r.train.slash_step == -1);
    ss_lab_free(&r);
}

static void test_delta2(void)
{
    ss_lab_config c;
    ss_lab_defaults(&c);
    c.train.icl.delta = 2;
    c.train.batch = 512;
    c.n_eval = 1024;
    ss_lab_result r;
    run_lab(&c, &r);
    if (!r.theta)
        return;
    CHECK_MSG(r.s1_final >= 0.95, "mean S1[i][i-2] = %g", r.s1_final);
    int N = r.N, wrong = 0;
    for (int i = 2; i < N; i++) {
        int best = 0;
        for (int j = 1; j <= i; j++)
            if (r.train.S1[i * N + j] > r.train.S1[i * N + best])
                best = j;
        wrong += best != i - 2;
    }
    CHECK_MSG(wrong == 0, "%d rows do not peak at offset 2", wrong);
    CHECK(ss_lab_loss_converged(&r));
    ss_lab_free(&r);
}

/* Same seed: the same numbers, bit for bit, on one thread or two. */
static void test_reproducible(void)
{
    ss_train_config c;
    ss_train_defaults(&c);
    c.batch = 200;
    c.tau1 = 25;
    c.tau2 = 15;
    c.quiet = 1;
    c.seed = 42;
    int N = ss_icl_len(&c.icl);
    double th[13];
    ss_error err = {0};
    CHECK(ss_freqs_build(SS_FREQS_HIGH, NULL, 1e4, 8, 5, N, th, &err) == SS_OK);
    ss_train_result a, b, d;
    int keep = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK(ss_train_run(&c, th, &a, &err) == SS_OK);
    omp_set_num_threads(2);
    CHECK(ss_train_run(&c, th, &b, &err) == SS_OK);
    c.seed = 43;
    CHECK(ss_train_run(&c, th, &d, &err) == SS_OK);
    omp_set_num_threads(keep);
    CHECK(a.n_rows == 41 && b.n_rows == 41);
    CHECK(memcmp(a.rows, b.rows, sizeof *a.rows * (size_t)a.n_rows) == 0);
    CHECK(memcmp(a.S1, b.S1, sizeof(double) * (size_t)N * N) == 0);
    CHECK(memcmp(a.model.W2, b.model.W2, sizeof(double) * 100) == 0);
    int same = 0;
    for (int t = 0; t < a.n_rows; t++)
        same += a.rows[t].loss == d.rows[t].loss;
    CHECK(same == 0);
    ss_train_result_free(&a);
    ss_train_result_free(&b);
    ss_train_result_free(&d);
}

static void test_frequency_sets(void)
{
    const int F_c = 8, F_s = 5, N = 65, F = 13;
    double th[13];
    ss_error err = {0};
    CHECK(ss_freqs_build(SS_FREQS_HIGH, NULL, 1e4, F_c, F_s, N, th, &err) == SS_OK);
    CHECK_NEAR(th[0], 2.5, 1e-15);
    CHECK_NEAR(th[F_c - 1], 0.2, 1e-15);
    for (int l = 1; l < F_c - 1; l++) /* geometric: constant ratio */
        CHECK_NEAR(th[l + 1] / th[l], pow(0.2 / 2.5, 1.0 / 7), 1e-12);
    CHECK_NEAR(th[F_c], 1.0 / (N * N), 1e-18);
    for (int s = F_c; s < F; s++)
        CHECK(th[s] <= 1.0 / (N * N) * (1 + 1e-12));
    CHECK(ss_freqs_build(SS_FREQS_STANDARD, NULL, 500.0, F_c, F_s, N, th, &err) == SS_OK);
    for (int l = 1; l <= F; l++)
        CHECK_NEAR(th[l - 1], pow(500.0, -2.0 * (l - 1) / 26), 1e-15);
    CHECK(ss_freqs_build(SS_FREQS_LOW, NULL, 1e4, F_c, F_s, N, th, &err) == SS_OK);
    CHECK_NEAR(th[0], 0.5 / N, 1e-15);
    for (int l = 0; l < F; l++)
        CHECK(th[l] * N <= 0.5 + 1e-12); /* no half turn over the prompt */

    /* files: all d/2 frequencies, or the cone's d_c/2 */
    const char *path = ss_test_path("%s/freqs_all.txt", ss_test_tmp());
    FILE *f = fopen(path, "w");
    fprintf(f, "# all thirteen\n");
    for (int l = 0; l < F; l++)
        fprintf(f, "%.17g\n", 0.1 * (l + 1));
    fclose(f);
    CHECK(ss_freqs_build(SS_FREQS_FILE, path, 1e4, F_c, F_s, N, th, &err) == SS_OK);
    for (int l = 0; l < F; l++)
        CHECK_NEAR(th[l], 0.1 * (l + 1), 1e-15);
    path = ss_test_path("%s/freqs_cone.txt", ss_test_tmp());
    f = fopen(path, "w");
    for (int l = 0; l < F_c; l++)
        fprintf(f, "%g  # cone %d\n", 1.0 / (l + 1), l);
    fclose(f);
    CHECK(ss_freqs_build(SS_FREQS_FILE, path, 1e4, F_c, F_s, N, th, &err) == SS_OK);
    CHECK_NEAR(th[3], 0.25, 1e-15);
    CHECK_NEAR(th[F_c], 1.0 / (N * N), 1e-18);
    path = ss_test_path("%s/freqs_short.txt", ss_test_tmp());
    f = fopen(path, "w");
    fprintf(f, "1\n0.5\n");
    fclose(f);
    CHECK(ss_freqs_build(SS_FREQS_FILE, path, 1e4, F_c, F_s, N, th, &err) == SS_ERR_SHAPE);
    CHECK(strstr(err.msg, path) && strstr(err.msg, "found 2"));
    path = ss_test_path("%s/freqs_bad.txt", ss_test_tmp());
    f = fopen(path, "w");
    fprintf(f, "1\nfast\n");
    fclose(f);
    ss_error_clear(&err);
    CHECK(ss_freqs_build(SS_FREQS_FILE, path, 1e4, F_c, F_s, N, th, &err) == SS_ERR_FORMAT);
    CHECK(strstr(err.msg, "line 2") != NULL);
    ss_error_clear(&err);
    CHECK(ss_freqs_build(SS_FREQS_FILE, "/nonexistent/f.txt", 1e4, F_c, F_s, N, th, &err) ==
          SS_ERR_IO);
}

static void test_prope(void)
{
    double a[6] = {1, 0.5, 0.25, 0.1, 0.05, 0.01};
    ss_freqs_prope(a, 6, 0.5);
    const double want[6] = {1, 0.5, 0.25, 0, 0, 0};
    CHECK(memcmp(a, want, sizeof a) == 0);
    double b[3] = {0.1, 1, 0.5};
    ss_freqs_prope(b, 3, 0.34); /* int(1.02) = 1: only the largest stays */
    CHECK(b[0] == 0 && b[1] == 1 && b[2] == 0);
    double c[3] = {0.1, 1, 0.5};
    ss_freqs_prope(c, 3, 1.0);
    CHECK(c[0] == 0.1 && c[1] == 1 && c[2] == 0.5);
    ss_freqs_prope(c, 3, 0.0);
    CHECK(c[0] == 0 && c[1] == 0 && c[2] == 0);
}

TEST_MAIN(TEST(test_satisfying_defaults), TEST(test_low_fails), TEST(test_delta2),
          TEST(test_reproducible), TEST(test_frequency_sets), TEST(test_prope))
