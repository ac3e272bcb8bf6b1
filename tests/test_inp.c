/* InP (SPEC.md section 5, paper eq. 9): the per-frequency terms sum to the
 * logit; recomputed from the reference pre-RoPE q/k of every fixture and
 * real model, their softmax reproduces the independent PyTorch attention
 * (which validates the rotation convention and half pairing too). Plus
 * closed forms for frequency usage, active frequencies and the
 * Cauchy-Schwarz ratio. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/inp.h"
#include "harness.h"
#include "io/atomic_file.h"

static void rope_from(ss_rope *r, const double *theta, int F)
{
    memset(r, 0, sizeof *r);
    r->n_freq = F;
    r->base = 10000;
    for (int f = 0; f < F; f++) {
        r->theta[f] = theta[f];
        r->active[f] = 1;
    }
}

/* The logit by explicit rotation of each vector to its absolute position. */
static double logit_by_rotation(const ss_rope *r, const float *q, const float *k, int i, int j,
                                double s)
{
    int F = r->n_freq;
    double dot = 0;
    for (int f = 0; f < F; f++) {
        double ai = r->active[f] ? i * r->theta[f] : 0, aj = r->active[f] ? j * r->theta[f] : 0;
        double qa = q[f] * cos(ai) - q[f + F] * sin(ai), qb = q[f] * sin(ai) + q[f + F] * cos(ai);
        double ka = k[f] * cos(aj) - k[f + F] * sin(aj), kb = k[f] * sin(aj) + k[f + F] * cos(aj);
        dot += qa * ka + qb * kb;
    }
    return s * dot;
}

static void test_sum_is_logit(void)
{
    enum { F = 6, N = 40 };
    double th[F];
    for (int f = 0; f < F; f++)
        th[f] = pow(10000, -2.0 * f / (2 * F));
    ss_rope r;
    rope_from(&r, th, F);
    r.active[2] = 0; /* an ablated frequency stays unrotated in both */
    static float q[N][2 * F], k[N][2 * F];
    for (int i = 0; i < N; i++)
        for (int x = 0; x < 2 * F; x++) {
            q[i][x] = (float)sin(1.3 * i + 0.7 * x);
            k[i][x] = (float)cos(0.9 * i - 0.4 * x);
        }
    ss_error err = {0};
    ss_inp_table t;
    CHECK(ss_inp_table_init(&t, &r, N, &err) == SS_OK);
    static double row[N * F];
    double worst = 0;
    for (int i = 0; i < N; i += 3) {
        ss_inp_row(&t, q[i], k[0], 2 * F, i, 0.25, row);
        for (int j = 0; j <= i; j++) {
            double sum = 0;
            for (int f = 0; f < F; f++)
                sum += row[j * F + f];
            double ref = logit_by_rotation(&r, q[i], k[j], i, j, 0.25);
            worst = fmax(worst, fabs(sum - ref));
        }
    }
    CHECK(worst < 1e-12);
    /* a pair with j > i (negative offset) works too */
    double out[F];
    double lg = ss_inp_pair(&t, q[3], k[20], 3, 20, 0.25, out);
    CHECK_NEAR(lg, logit_by_rotation(&r, q[3], k[20], 3, 20, 0.25), 1e-12);
    ss_inp_table_free(&t);
}

/* The mean |InP| behind the active frequencies (Figure 17) against each
 * vector rotated to its absolute position: a sign flip of the sine term (or
 * any other departure from the InP formula) changes these sums. */
static void test_abs_sums_by_rotation(void)
{
    enum { F = 5, N = 30 };
    double th[F];
    for (int f = 0; f < F; f++)
        th[f] = pow(500, -2.0 * f / (2 * F));
    ss_rope r;
    rope_from(&r, th, F);
    r.active[3] = 0;
    static float q[N][2 * F], k[N][2 * F];
    for (int i = 0; i < N; i++)
        for (int x = 0; x < 2 * F; x++) {
            q[i][x] = (float)sin(0.8 * i + 1.1 * x + 0.3);
            k[i][x] = (float)cos(1.7 * i - 0.6 * x);
        }
    ss_error err = {0};
    ss_inp_table t;
    CHECK(ss_inp_table_init(&t, &r, N, &err) == SS_OK);
    const double s = 0.3;
    double worst = 0, spread = 0;
    for (int i = 4; i < N; i += 5) {
        double got[F] = {0}, want[F] = {0}, mirrored[F] = {0};
        CHECK(ss_inp_row_abs_add(&t, q[i], k[0], 2 * F, i, 2, s, got) == i - 1);
        for (int j = 2; j <= i; j++)
            for (int f = 0; f < F; f++) {
                double ai = r.active[f] ? i * th[f] : 0, aj = r.active[f] ? j * th[f] : 0;
                double qa = q[i][f] * cos(ai) - q[i][f + F] * sin(ai);
                double qb = q[i][f] * sin(ai) + q[i][f + F] * cos(ai);
                double ka = k[j][f] * cos(aj) - k[j][f + F] * sin(aj);
                double kb = k[j][f] * sin(aj) + k[j][f + F] * cos(aj);
                want[f] += fabs(s * (qa * ka + qb * kb));
                /* rotating the other way is what a flipped sine computes */
                double qa2 = q[i][f] * cos(ai) + q[i][f + F] * sin(ai);
                double qb2 = -q[i][f] * sin(ai) + q[i][f + F] * cos(ai);
                double ka2 = k[j][f] * cos(aj) + k[j][f + F] * sin(aj);
                double kb2 = -k[j][f] * sin(aj) + k[j][f + F] * cos(aj);
                mirrored[f] += fabs(s * (qa2 * ka2 + qb2 * kb2));
            }
        for (int f = 0; f < F; f++) {
            worst = fmax(worst, fabs(got[f] - want[f]));
            spread = fmax(spread, fabs(mirrored[f] - want[f]));
        }
    }
    CHECK(worst < 1e-12);
    CHECK(spread > 1e-3); /* the test data tell the two signs apart */
    ss_inp_table_free(&t);
}

/* One frequency, q = k = (1, 0): InP(i, j, 0) = s cos((i - j) theta). */
static void test_single_frequency_closed_form(void)
{
    double th[1] = {0.3};
    ss_rope r;
    rope_from(&r, th, 1);
    ss_error err = {0};
    ss_inp_table t;
    CHECK(ss_inp_table_init(&t, &r, 20, &err) == SS_OK);
    const float q[2] = {1, 0}, k[2] = {1, 0};
    for (int d = 0; d < 20; d++) {
        double v;
        ss_inp_pair(&t, q, k, 19, 19 - d, 2.0, &v);
        CHECK_NEAR(v, 2.0 * cos(0.3 * d), 1e-14);
    }
    ss_inp_table_free(&t);
    ss_inp_table bad;
    r.n_freq = 0;
    CHECK(ss_inp_table_init(&bad, &r, 5, &err) == SS_ERR_USAGE);
}

static double *summary_inv_freq(const char *dir, int *F)
{
    char *text = NULL;
    size_t n = 0;
    ss_error err = {0};
    if (ss_read_file(ss_test_path("%s/ref/summary.json", dir), 1 << 24, &text, &n, &err) != SS_OK)
        return NULL;
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "rope_inv_freq");
    double *out = NULL;
    if (cJSON_IsArray(arr)) {
        *F = cJSON_GetArraySize(arr);
        out = malloc(sizeof *out * (size_t)*F);
        for (int f = 0; f < *F; f++)
            out[f] = cJSON_GetArrayItem(arr, f)->valuedouble;
    }
    cJSON_Delete(root);
    return out;
}

/* Attention from the reference pre-RoPE q, k through InP sums and softmax
 * equals torch_attn_s0 within the suggested 2e-5. */
static void check_reference(const char *name)
{
    const char *dir = ss_test_path("%s/%s", ss_test_shared(), name);
    int nd, F = 0;
    long qs[4], ks[4], as[4];
    double *qd = ss_test_load_npy(ss_test_path("%s/ref/torch_q_prepe_s0.npy", dir), &nd, qs);
    double *kd = ss_test_load_npy(ss_test_path("%s/ref/torch_k_prepe_s0.npy", dir), &nd, ks);
    double *att = ss_test_load_npy(ss_test_path("%s/ref/torch_attn_s0.npy", dir), &nd, as);
    double *th = summary_inv_freq(dir, &F);
    CHECK_MSG(qd && kd && att && th, "%s: reference files", name);
    if (!qd || !kd || !att || !th)
        goto done;
    int L = (int)qs[0], H = (int)qs[1], T = (int)qs[2], dh = (int)qs[3], Hkv = (int)ks[1];
    CHECK_MSG(F == dh / 2 && ks[3] == dh && as[2] == T, "%s: shapes", name);
    ss_rope r;
    rope_from(&r, th, F);
    ss_error err = {0};
    ss_inp_table t;
    CHECK(ss_inp_table_init(&t, &r, T, &err) == SS_OK);
    float *q = malloc(sizeof *q * (size_t)T * dh), *k = malloc(sizeof *k * (size_t)T * dh);
    double *row = malloc(sizeof *row * (size_t)T * F), *lg = malloc(sizeof *lg * (size_t)T);
    double s = 1 / sqrt((double)dh), worst = 0, worst_sum = 0;
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++) {
            int kvh = h / (H / Hkv);
            for (long x = 0; x < (long)T * dh; x++) {
                q[x] = (float)qd[((long)(l * H + h) * T) * dh + x];
                k[x] = (float)kd[((long)(l * Hkv + kvh) * T) * dh + x];
            }
            for (int i = 0; i < T; i++) {
                ss_inp_row(&t, q + (long)i * dh, k, dh, i, s, row);
                double mx = -INFINITY, z = 0;
                for (int j = 0; j <= i; j++) {
                    lg[j] = 0;
                    for (int f = 0; f < F; f++)
                        lg[j] += row[j * F + f];
                    double ref = logit_by_rotation(&r, q + (long)i * dh, k + (long)j * dh, i, j, s);
                    worst_sum = fmax(worst_sum, fabs(lg[j] - ref) / fmax(1, fabs(ref)));
                    mx = fmax(mx, lg[j]);
                }
                for (int j = 0; j <= i; j++)
                    z += exp(lg[j] - mx);
                const double *ar = att + (((long)(l * H + h) * T) + i) * T;
                for (int j = 0; j < T; j++) {
                    double p = j <= i ? exp(lg[j] - mx) / z : 0;
                    worst = fmax(worst, fabs(p - ar[j]));
                }
            }
        }
    CHECK_MSG(worst < 2e-5, "%s: max |attention - torch| = %g", name, worst);
    CHECK_MSG(worst_sum < 1e-12, "%s: InP sum vs rotation %g", name, worst_sum);
    fprintf(stderr, "     %s: %dx%d heads, T %d, F %d: max |p - torch| %.2e\n", name, L, H, T, F,
            worst);
    ss_inp_table_free(&t);
    free(q);
    free(k);
    free(row);
    free(lg);
done:
    free(qd);
    free(kd);
    free(att);
    free(th);
}

static void test_reference_attention(void)
{
    const char *names[] = {"fixtures/llama3_gqa", "fixtures/qwen2", "fixtures/gemma",
                           "fixtures/mistral_mha", "models/stories260K",
                           "models/llama2xs_tinystories", "models/aidreams260K"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        check_reference(names[i]);
}

static void test_chunk_norms_and_active(void)
{
    const float x[4] = {3, 0, 4, 0}; /* F = 2: chunk 0 = (3, 4), chunk 1 = (0, 0) */
    double acc[2] = {1, 1};
    ss_chunk_norms_add(x, 2, acc);
    CHECK_NEAR(acc[0], 6, 1e-15);
    CHECK_NEAR(acc[1], 1, 1e-15);
    const double mean_abs[5] = {1, 0.05, 0.2, 0.1, NAN};
    unsigned char act[5];
    CHECK(ss_inp_active(mean_abs, 5, 0.1, act) == 2);
    CHECK(act[0] && !act[1] && act[2] && !act[3] && !act[4]);
    const double zero[3] = {0, 0, 0};
    CHECK(ss_inp_active(zero, 3, 0.1, act) == 0);
}

/* Barbero et al.'s construction: q = psi, k = R(theta) psi (each chunk
 * rotated one step): perfectly aligned at offset 1 (ratio 1), and q = k is
 * aligned at offset 0; |ratio| <= 1 always. */
static void test_cauchy_schwarz(void)
{
    enum { F = 4 };
    double th[F] = {1, 0.3, 0.1, 0.01};
    ss_rope r;
    rope_from(&r, th, F);
    ss_error err = {0};
    ss_inp_table t;
    CHECK(ss_inp_table_init(&t, &r, 50, &err) == SS_OK);
    float psi[2 * F] = {1, -2, 0.5, 3, 2, 1, -1, 0.25}, rk[2 * F];
    for (int f = 0; f < F; f++) {
        rk[f] = (float)(psi[f] * cos(th[f]) - psi[f + F] * sin(th[f]));
        rk[f + F] = (float)(psi[f] * sin(th[f]) + psi[f + F] * cos(th[f]));
    }
    double lg, bound;
    CHECK_NEAR(ss_cs_ratio(&t, psi, psi, 10, 10, 0.5, &lg, &bound), 1, 1e-12);
    CHECK_NEAR(ss_cs_ratio(&t, psi, rk, 10, 9, 0.5, &lg, &bound), 1, 1e-6);
    CHECK_NEAR(lg, bound, 1e-5);
    double r0 = ss_cs_ratio(&t, psi, rk, 10, 10, 0.5, NULL, NULL);
    CHECK(r0 < 0.999 && r0 > -1);
    const float z[2 * F] = {0};
    CHECK(isnan(ss_cs_ratio(&t, psi, z, 3, 2, 0.5, NULL, NULL)));
    ss_inp_table_free(&t);
}

/* freq's Cauchy-Schwarz loop (ss_cs_row: each query's and key's norm once)
 * gives ss_cs_ratio's values bit for bit at every (i, i - d), d from d0,
 * stopping at j0; the ratio of a key rotated one step from q is 1 (the
 * closed form above), a zero key NaN. */
static void test_cs_row(void)
{
    enum { F = 5, N = 24, D = 6 };
    double th[F] = {1, 0.45, 0.2, 0.05, 0.001};
    ss_rope r;
    rope_from(&r, th, F);
    r.active[2] = 0;
    r.attn_factor = 1.3; /* the bound carries m^2 */
    ss_error err = {0};
    ss_inp_table t;
    CHECK(ss_inp_table_init(&t, &r, N, &err) == SS_OK);
    static float q[N][2 * F], k[N][2 * F];
    for (int i = 0; i < N; i++)
        for (int x = 0; x < 2 * F; x++) {
            q[i][x] = (float)sin(0.7 * i + 1.3 * x + 0.2);
            k[i][x] = (float)cos(1.1 * i - 0.5 * x);
        }
    for (int x = 0; x < 2 * F; x++)
        k[9][x] = 0;
    double kn[N];
    for (int j = 0; j < N; j++)
        kn[j] = ss_inp_sqnorm(k[j], F);
    int same = 1, pairs = 0, nan_seen = 0;
    for (int i = 0; i < N; i++)
        for (int d0 = 0; d0 < D; d0 += 4) {
            double ratio[4], lg[4], bound[4];
            int nd = ss_cs_row(&t, q[i], k[0], 2 * F, kn, i, 3, d0, D - d0 < 4 ? D - d0 : 4,
                               -0.7, ratio, lg, bound);
            int want = i - 3 - d0 + 1 < 0 ? 0 : i - 3 - d0 + 1;
            CHECK(nd == (want < (D - d0 < 4 ? D - d0 : 4) ? want : (D - d0 < 4 ? D - d0 : 4)));
            for (int x = 0; x < nd; x++) {
                double l2, b2, r2 = ss_cs_ratio(&t, q[i], k[i - d0 - x], i, i - d0 - x, -0.7,
                                                &l2, &b2);
                if (isnan(r2)) {
                    nan_seen++;
                    same &= isnan(ratio[x]) && i - d0 - x == 9;
                    continue;
                }
                same &= ratio[x] == r2 && lg[x] == l2 && bound[x] == b2;
                pairs++;
            }
        }
    CHECK(same);
    CHECK(pairs > 60 && nan_seen > 0);
    ss_inp_table_free(&t);
}

TEST_MAIN(TEST(test_cs_row), TEST(test_sum_is_logit), TEST(test_abs_sums_by_rotation), TEST(test_single_frequency_closed_form),
          TEST(test_reference_attention), TEST(test_chunk_norms_and_active),
          TEST(test_cauchy_schwarz))
