/* The theory lab's data model and reduced model (src/theory/icl.c,
 * rmodel.c): the analytic gradient against central finite differences, the
 * batched forward against a dense transcription of eq. (21), closed forms
 * for the uniform attention cases, the prompt layout, and bit-identical
 * results on any thread count. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "theory/freqs.h"
#include "theory/icl.h"
#include "theory/rmodel.h"
#include "theory/rng.h"

/* A small model with every parameter away from its initial value, so that
 * each term of the gradient is exercised. */
static void small_model(ss_rmodel *m, ss_icl_config *icl, int delta)
{
    icl->n_in = 4;
    icl->K = 3;
    icl->d_x = 4;
    icl->delta = delta;
    int N = ss_icl_len(icl);
    double th[8];
    ss_error err = {0};
    CHECK(ss_freqs_build(SS_FREQS_HIGH, NULL, 10000, 3, 3, N, th, &err) == SS_OK);
    /* larger semantic frequencies than N^-2 so the layer-2 rotation matters */
    th[3] = 0.3;
    th[4] = 0.11;
    th[5] = 0.05;
    CHECK(ss_rmodel_init(m, 6, 4, th, &err) == SS_OK);
    ss_rng r;
    ss_rng_seed(&r, 99, 1, 2);
    for (int k = 0; k < m->d_c * m->d_c; k++)
        m->W1[k] = 0.8 * ss_rng_normal(&r);
    for (int k = 0; k < m->d_s * m->d_s; k++)
        m->W2[k] += 0.7 * ss_rng_normal(&r);
}

static void gradient_check(int delta)
{
    ss_rmodel m;
    ss_icl_config icl;
    small_model(&m, &icl, delta);
    ss_icl_batch b;
    ss_error err = {0};
    CHECK(ss_icl_batch_alloc(&b, 5, ss_icl_len(&icl), &err) == SS_OK);
    ss_task t = {SS_TASK_GAUSS, 1, 0};
    ss_icl_fill(&icl, &t, 7, 3, &b);
    int n1 = m.d_c * m.d_c, n2 = m.d_s * m.d_s;
    double *g1 = calloc((size_t)n1, sizeof *g1), *g2 = calloc((size_t)n2, sizeof *g2);
    ss_rmodel_stats st;
    CHECK(ss_rmodel_eval(&m, &b, g1, g2, &st, &err) == SS_OK);
    const double h = 1e-5;
    double worst = 0.0;
    for (int pass = 0; pass < 2; pass++) {
        double *W = pass ? m.W2 : m.W1, *g = pass ? g2 : g1;
        int n = pass ? n2 : n1;
        for (int k = 0; k < n; k++) {
            double keep = W[k];
            ss_rmodel_stats sp, sm;
            W[k] = keep + h;
            ss_rmodel_eval(&m, &b, NULL, NULL, &sp, &err);
            W[k] = keep - h;
            ss_rmodel_eval(&m, &b, NULL, NULL, &sm, &err);
            W[k] = keep;
            double fd = (sp.loss - sm.loss) / (2 * h);
            double diff = fabs(fd - g[k]) / (1e-6 + fabs(fd));
            if (fabs(fd - g[k]) > 1e-8 && diff > worst)
                worst = diff;
            CHECK_MSG(fabs(fd - g[k]) <= 1e-8 + 1e-5 * fabs(fd), "W%d[%d]: analytic %.12g, "
                      "finite difference %.12g", pass + 1, k, g[k], fd);
        }
    }
    /* the gradient must not be trivially zero */
    double norm1 = 0, norm2 = 0;
    for (int k = 0; k < n1; k++)
        norm1 += g1[k] * g1[k];
    for (int k = 0; k < n2; k++)
        norm2 += g2[k] * g2[k];
    CHECK(norm1 > 1e-8 && norm2 > 1e-8);
    free(g1);
    free(g2);
    ss_icl_batch_free(&b);
    ss_rmodel_free(&m);
}

static void test_gradient_delta1(void) { gradient_check(1); }
static void test_gradient_delta2(void) { gradient_check(2); }

/* The batched sparse path and the dense eq. (21) transcription (absolute
 * positions, full RoPE matrices) agree prompt by prompt. */
static void test_forward_matches_dense(void)
{
    ss_rmodel m;
    ss_icl_config icl;
    small_model(&m, &icl, 1);
    int N = ss_icl_len(&icl);
    ss_icl_batch b;
    ss_error err = {0};
    CHECK(ss_icl_batch_alloc(&b, 1, N, &err) == SS_OK);
    double *S1 = calloc((size_t)N * N, sizeof *S1);
    ss_rmodel_layer1(&m, N, S1);
    ss_task t = {SS_TASK_GAUSS, 1, 0};
    for (int i = 0; i < 20; i++) {
        ss_icl_fill(&icl, &t, 11, (uint64_t)i, &b);
        double yhat = ss_rmodel_predict(&m, S1, N, &b.p[0], NULL);
        ss_rmodel_stats st;
        CHECK(ss_rmodel_eval(&m, &b, NULL, NULL, &st, &err) == SS_OK);
        double e = yhat - b.p[0].y_q;
        CHECK_NEAR(st.loss, 0.5 * e * e, 1e-12);
    }
    free(S1);
    ss_icl_batch_free(&b);
    ss_rmodel_free(&m);
}

/* W1 = 0 gives uniform causal attention S1[i][j] = 1/(i+1); W2 = 0 gives
 * uniform layer-2 attention, so yhat = (sum of labels) / N. */
static void test_uniform_closed_forms(void)
{
    ss_icl_config icl = {6, 4, 4, 1};
    int N = ss_icl_len(&icl);
    double th[5] = {2.0, 0.5, 1e-3, 1e-4, 1e-5};
    ss_rmodel m;
    ss_error err = {0};
    CHECK(ss_rmodel_init(&m, 4, 4, th, &err) == SS_OK);
    double *S1 = calloc((size_t)N * N, sizeof *S1);
    ss_rmodel_layer1(&m, N, S1);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            CHECK_NEAR(S1[i * N + j], j <= i ? 1.0 / (i + 1) : 0.0, 1e-15);
    memset(m.W2, 0, sizeof(double) * (size_t)(m.d_s * m.d_s));
    ss_icl_batch b;
    CHECK(ss_icl_batch_alloc(&b, 1, N, &err) == SS_OK);
    ss_task t = {SS_TASK_GAUSS, 1, 0};
    ss_icl_fill(&icl, &t, 5, 0, &b);
    double sum = 0;
    for (int i = 0; i < icl.n_in; i++)
        sum += b.p[0].val[ss_icl_pos_y(&icl, i)];
    double S2[13];
    CHECK_NEAR(ss_rmodel_predict(&m, S1, N, &b.p[0], S2), sum / N, 1e-14);
    for (int i = 0; i < N; i++)
        CHECK_NEAR(S2[i], 1.0 / N, 1e-15);
    free(S1);
    ss_icl_batch_free(&b);
    ss_rmodel_free(&m);
}

/* a(delta) for W1 = beta c u^T is beta (u_even . cos - u_odd . sin): with u
 * = (1,0,1,0,...) it is beta sum_s cos(delta theta_s), eq. (31)'s sum. */
static void test_offset_logits(void)
{
    double th[5] = {2.5, 0.9, 0.3, 1e-4, 1e-5};
    ss_rmodel m;
    ss_error err = {0};
    CHECK(ss_rmodel_init(&m, 6, 2, th, &err) == SS_OK);
    double beta = 1.7;
    for (int a = 0; a < 6; a++)
        for (int k = 0; k < 6; k++)
            m.W1[a * 6 + k] = beta * m.c[a] * (k % 2 == 0 ? 1.0 : 0.0);
    double a[20];
    ss_rmodel_offset_logits(&m, 20, a);
    for (int d = 0; d < 20; d++)
        CHECK_NEAR(a[d], beta * (cos(2.5 * d) + cos(0.9 * d) + cos(0.3 * d)), 1e-12);
    /* the odd coordinates carry -sin */
    for (int a2 = 0; a2 < 6; a2++)
        for (int k = 0; k < 6; k++)
            m.W1[a2 * 6 + k] = m.c[a2] * (k == 1 ? 1.0 : 0.0);
    ss_rmodel_offset_logits(&m, 20, a);
    for (int d = 0; d < 20; d++)
        CHECK_NEAR(a[d], -sin(2.5 * d), 1e-12);
    ss_rmodel_free(&m);
}

static void test_layout(void)
{
    for (int delta = 1; delta <= 4; delta++) {
        ss_icl_config icl = {12, 3, 4, delta};
        ss_error err = {0};
        CHECK(ss_icl_check(&icl, &err) == SS_OK);
        int N = ss_icl_len(&icl), used[25] = {0};
        for (int i = 0; i < icl.n_in; i++) {
            int px = ss_icl_pos_x(&icl, i), py = ss_icl_pos_y(&icl, i);
            CHECK(py - px == delta);
            CHECK(px >= 0 && py < N - 1);
            used[px]++;
            used[py]++;
        }
        for (int p = 0; p < N - 1; p++)
            CHECK(used[p] == 1);
    }
    ss_icl_config one = {3, 2, 2, 1};
    CHECK(ss_icl_pos_x(&one, 2) == 4 && ss_icl_pos_y(&one, 2) == 5);
    ss_icl_config two = {4, 2, 2, 2};
    CHECK(ss_icl_pos_x(&two, 1) == 1 && ss_icl_pos_y(&two, 1) == 3);
    CHECK(ss_icl_pos_x(&two, 2) == 4 && ss_icl_pos_y(&two, 2) == 6);
    ss_icl_config bad = {5, 2, 2, 2};
    ss_error err = {0};
    CHECK(ss_icl_check(&bad, &err) == SS_ERR_USAGE && strstr(err.msg, "delta"));
    ss_icl_config badk = {4, 5, 4, 1};
    ss_error_clear(&err);
    CHECK(ss_icl_check(&badk, &err) == SS_ERR_USAGE && strstr(err.msg, "features"));
    ss_icl_config oddx = {4, 2, 3, 1};
    ss_error_clear(&err);
    CHECK(ss_icl_check(&oddx, &err) == SS_ERR_USAGE && strstr(err.msg, "d_x"));
}

/* Labels are <w, x>: every label of one feature is the same number, the
 * question's target equals it, and a one-hot task gives 0/1 labels. */
static void test_prompts(void)
{
    ss_icl_config icl = {16, 4, 4, 1};
    int N = ss_icl_len(&icl);
    ss_icl_batch b;
    ss_error err = {0};
    CHECK(ss_icl_batch_alloc(&b, 50, N, &err) == SS_OK);
    const ss_task tasks[3] = {
        {SS_TASK_GAUSS, 1, 0}, {SS_TASK_SHIFTED, 1, 2}, {SS_TASK_ONEHOT, 1, 0}};
    for (int tk = 0; tk < 3; tk++) {
        ss_icl_fill(&icl, &tasks[tk], 3, 9, &b);
        int ones = 0;
        for (int s = 0; s < b.B; s++) {
            const ss_icl_prompt *p = &b.p[s];
            double wk[4];
            int seen[4] = {0};
            CHECK(p->kind[N - 1] == SS_TOK_Q && p->feat[N - 1] == p->q_feat);
            for (int i = 0; i < icl.n_in; i++) {
                int px = ss_icl_pos_x(&icl, i), py = ss_icl_pos_y(&icl, i);
                CHECK(p->kind[px] == SS_TOK_X && p->kind[py] == SS_TOK_Y);
                int k = p->feat[px];
                CHECK(k >= 0 && k < icl.K && p->feat[py] == k);
                if (seen[k])
                    CHECK(p->val[py] == wk[k]);
                seen[k] = 1;
                wk[k] = p->val[py];
                if (tk == 2)
                    CHECK(p->val[py] == 0.0 || p->val[py] == 1.0);
            }
            if (seen[p->q_feat])
                CHECK(p->y_q == wk[p->q_feat]);
            if (tk == 2)
                ones += p->y_q == 1.0;
        }
        if (tk == 2) /* P(y_q = 1) = 1/K */
            CHECK(ones > 2 && ones < 30);
    }
    /* the same (seed, stream, index) gives the same prompt */
    ss_icl_batch c;
    CHECK(ss_icl_batch_alloc(&c, 50, N, &err) == SS_OK);
    ss_icl_fill(&icl, &tasks[0], 3, 9, &b);
    ss_icl_fill(&icl, &tasks[0], 3, 9, &c);
    CHECK(memcmp(b.val, c.val, sizeof(double) * 50 * (size_t)N) == 0);
    CHECK(memcmp(b.feat, c.feat, sizeof(int16_t) * 50 * (size_t)N) == 0);
    ss_icl_fill(&icl, &tasks[0], 4, 9, &c);
    CHECK(memcmp(b.val, c.val, sizeof(double) * 50 * (size_t)N) != 0);
    ss_icl_batch_free(&b);
    ss_icl_batch_free(&c);
}

/* Fixed chunks reduced in order: one thread and two give the same bits. */
static void test_thread_independent(void)
{
    ss_rmodel m;
    ss_icl_config icl;
    small_model(&m, &icl, 1);
    ss_icl_batch b;
    ss_error err = {0};
    CHECK(ss_icl_batch_alloc(&b, 300, ss_icl_len(&icl), &err) == SS_OK);
    ss_task t = {SS_TASK_GAUSS, 1, 0};
    ss_icl_fill(&icl, &t, 1, 1, &b);
    double g1a[36], g2a[36], g1b[36], g2b[36];
    ss_rmodel_stats sa, sb;
    int keep = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK(ss_rmodel_eval(&m, &b, g1a, g2a, &sa, &err) == SS_OK);
    omp_set_num_threads(3);
    CHECK(ss_rmodel_eval(&m, &b, g1b, g2b, &sb, &err) == SS_OK);
    omp_set_num_threads(keep);
    CHECK(memcmp(g1a, g1b, sizeof g1a) == 0);
    CHECK(memcmp(g2a, g2b, sizeof g2a) == 0);
    CHECK(memcmp(&sa, &sb, sizeof sa) == 0);
    ss_icl_batch_free(&b);
    ss_rmodel_free(&m);
}

/* Prompts built for a wider feature space than the model's are refused. */
static void test_feature_mismatch(void)
{
    ss_icl_config icl = {4, 6, 6, 1};
    int N = ss_icl_len(&icl);
    ss_icl_batch b;
    ss_error err = {0};
    CHECK(ss_icl_batch_alloc(&b, 40, N, &err) == SS_OK);
    ss_task t = {SS_TASK_GAUSS, 1, 0};
    ss_icl_fill(&icl, &t, 1, 1, &b);
    double th[4] = {1.0, 1e-3, 1e-4, 1e-5};
    ss_rmodel m;
    CHECK(ss_rmodel_init(&m, 2, 4, th, &err) == SS_OK); /* d_x = 4 < 6 */
    ss_rmodel_stats st;
    CHECK(ss_rmodel_eval(&m, &b, NULL, NULL, &st, &err) == SS_ERR_SHAPE);
    CHECK(strstr(err.msg, "d_x = 4") != NULL);
    ss_rmodel_free(&m);
    ss_icl_batch_free(&b);
}

static void test_rng(void)
{
    ss_rng r;
    ss_rng_seed(&r, 1, 2, 3);
    double s = 0, s2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double z = ss_rng_normal(&r);
        s += z;
        s2 += z * z;
    }
    CHECK_NEAR(s / n, 0.0, 0.01);
    CHECK_NEAR(s2 / n, 1.0, 0.015);
    int counts[5] = {0};
    for (int i = 0; i < 50000; i++)
        counts[ss_rng_below(&r, 5)]++;
    for (int k = 0; k < 5; k++)
        CHECK(counts[k] > 9500 && counts[k] < 10500);
    ss_rng a, b;
    ss_rng_seed(&a, 1, 2, 3);
    ss_rng_seed(&b, 1, 3, 2);
    CHECK(ss_rng_u64(&a) != ss_rng_u64(&b));
}

TEST_MAIN(TEST(test_gradient_delta1), TEST(test_gradient_delta2), TEST(test_forward_matches_dense),
          TEST(test_uniform_closed_forms), TEST(test_offset_logits), TEST(test_layout),
          TEST(test_prompts), TEST(test_thread_independent), TEST(test_feature_mismatch),
          TEST(test_rng))
