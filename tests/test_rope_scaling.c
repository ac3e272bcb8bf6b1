/* RoPE scalings without a fixture of their own (dynamic NTK, longrope) and
 * Qwen2's per-layer sliding windows, checked by identities: closed forms of
 * the rules at their end points, configs that must reduce to another path
 * (longrope with unit factors = no scaling; constant short factors = linear),
 * and windowed layers against the unwindowed model renormalised. yarn has a
 * fixture (test_forward_refs.c). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "engine/forward.h"
#include "harness.h"
#include "model/rope.h"

/* dynamic NTK: up to max_position_embeddings nothing changes; beyond, the
 * highest frequency stays 1 rad/token and the lowest is divided exactly by
 * s = factor n / max - (factor - 1) (the base grows by s^(d/(d-2))). */
static void test_dynamic_end_points(void)
{
    ss_error err = {0};
    ss_rope_scaling s = {.type = SS_SCALE_DYNAMIC, .factor = 2.0, .max_ctx = 100};
    ss_rope r, plain, at;
    CHECK(ss_rope_standard(&r, 16, 10000.0, &s, &err) == SS_OK);
    CHECK(ss_rope_standard(&plain, 16, 10000.0, NULL, &err) == SS_OK);
    ss_rope_at_length(&r, 100, &at);
    CHECK(memcmp(at.theta, plain.theta, sizeof(double) * 8) == 0);
    ss_rope_at_length(&r, 300, &at);
    double scale = 2.0 * 300 / 100 - 1.0;
    CHECK_NEAR(at.theta[0], 1.0, 0);
    CHECK_NEAR(at.theta[7] / (plain.theta[7] / scale), 1.0, 1e-12);
    for (int f = 1; f < 8; f++)
        CHECK(at.theta[f] < plain.theta[f]);
    CHECK_NEAR(at.attn_factor, 1.0, 0);
}

/* longrope: short divisors up to original_max_position_embeddings, long
 * ones beyond; cos/sin x sqrt(1 + ln(max/orig) / ln(orig)). */
static void test_longrope_switch_and_factor(void)
{
    ss_error err = {0};
    ss_rope_scaling s = {.type = SS_SCALE_LONGROPE, .original_ctx = 64, .max_ctx = 256,
                         .n_factors = 4};
    for (int f = 0; f < 4; f++) {
        s.short_factor[f] = 1.0 + f;
        s.long_factor[f] = 10.0 + f;
    }
    ss_rope r, plain, at;
    CHECK(ss_rope_standard(&r, 8, 10000.0, &s, &err) == SS_OK);
    CHECK(ss_rope_standard(&plain, 8, 10000.0, NULL, &err) == SS_OK);
    ss_rope_at_length(&r, 64, &at);
    for (int f = 0; f < 4; f++)
        CHECK_NEAR(at.theta[f] * (1.0 + f) / plain.theta[f], 1.0, 1e-14);
    ss_rope_at_length(&r, 65, &at);
    for (int f = 0; f < 4; f++)
        CHECK_NEAR(at.theta[f] * (10.0 + f) / plain.theta[f], 1.0, 1e-14);
    CHECK_NEAR(r.attn_factor, sqrt(1.0 + log(4.0) / log(64.0)), 1e-15);
    s.n_factors = 3;
    CHECK(ss_rope_standard(&r, 8, 10000.0, &s, &err) == SS_ERR_VALUE);
}

/* yarn's attention factor from DeepSeek's mscale / mscale_all_dim, and the
 * default 0.1 ln(factor) + 1. */
static void test_yarn_attention_factor(void)
{
    ss_error err = {0};
    ss_rope r;
    ss_rope_scaling s = {.type = SS_SCALE_YARN, .factor = 40, .original_ctx = 4096,
                         .mscale = 1.0, .mscale_all_dim = 1.0};
    CHECK(ss_rope_standard(&r, 64, 10000.0, &s, &err) == SS_OK);
    CHECK_NEAR(r.attn_factor, 1.0, 1e-15);
    s.mscale_all_dim = 0.707;
    CHECK(ss_rope_standard(&r, 64, 10000.0, &s, &err) == SS_OK);
    CHECK_NEAR(r.attn_factor, (0.1 * log(40.0) + 1) / (0.1 * 0.707 * log(40.0) + 1), 1e-15);
    s.mscale = s.mscale_all_dim = 0;
    CHECK(ss_rope_standard(&r, 64, 10000.0, &s, &err) == SS_OK);
    CHECK_NEAR(r.attn_factor, 0.1 * log(40.0) + 1, 1e-15);
}

/* ---- configs edited from a fixture ------------------------------------ */

static const char *edited_copy(const char *name, const char *tag, const char *fields)
{
    char t[64];
    snprintf(t, sizeof t, "rope_%s", tag);
    return ss_test_edited_hf(ss_test_path("fixtures/%s", name), t, fields);
}

typedef struct {
    int L, H, n;
    float *p; /* [L, H, n, n] */
} capture;

static ss_code on_probs(void *ctx, int layer, int head, int row0, int nrows, const float *p,
                        int64_t ld)
{
    capture *c = ctx;
    for (int r = 0; r < nrows; r++)
        memcpy(c->p + (((size_t)layer * c->H + head) * c->n + row0 + r) * c->n, p + r * ld,
               sizeof(float) * (size_t)(row0 + r + 1));
    return SS_OK;
}

enum { N = 48 };

/* logits [N, vocab] (and probabilities when c != NULL) of a model folder. */
static float *run(const char *dir, capture *c, int *vocab)
{
    ss_error err = {0};
    ss_model *m;
    if (!dir || ss_model_open(dir, &m, &err)) {
        fprintf(stderr, "%s: %s\n", dir ? dir : "(copy failed)", err.msg);
        return NULL;
    }
    int32_t ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = (int32_t)((i * 53 + 7) % m->cfg.vocab);
    *vocab = m->cfg.vocab;
    float *logits = calloc((size_t)N * m->cfg.vocab, sizeof *logits);
    ss_observer obs = {.ctx = c, .on_probs = on_probs};
    ss_forward_opts o = {.observers = &obs, .n_observers = c ? 1 : 0};
    if (ss_forward(m, ids, N, &o, logits, &err)) {
        fprintf(stderr, "%s: %s\n", dir, err.msg);
        free(logits);
        logits = NULL;
    }
    ss_model_close(m);
    return logits;
}

static double max_diff(const float *a, const float *b, long n)
{
    double w = 0;
    for (long i = 0; i < n; i++)
        w = fmax(w, fabs((double)a[i] - b[i]));
    return w;
}

/* Phi-3 with longrope whose factors are all 1 and attention_factor 1 is the
 * plain model; constant short factors 2 (sequence within the original
 * context) are linear scaling by 2; long factors are unused at N tokens. */
static void test_longrope_reduces(void)
{
    int v1 = 0, v2 = 0;
    const char *ones = "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]", *twos = "[2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2]";
    char fields[512];
    float *plain = run(ss_test_path("%s/fixtures/phi3/hf", ss_test_shared()), NULL, &v1);
    snprintf(fields, sizeof fields, "{\"rope_scaling\": {\"type\": \"longrope\", \"short_factor\": %s, "
             "\"long_factor\": %s, \"attention_factor\": 1.0}}", ones, twos);
    float *unit = run(edited_copy("phi3", "unit", fields), NULL, &v2);
    CHECK(plain && unit && v1 == v2);
    if (plain && unit)
        CHECK_MSG(max_diff(plain, unit, (long)N * v1) == 0, "unit longrope vs none: %g",
                  max_diff(plain, unit, (long)N * v1));
    snprintf(fields, sizeof fields, "{\"rope_scaling\": {\"type\": \"longrope\", \"short_factor\": %s, "
             "\"long_factor\": %s, \"attention_factor\": 1.0}}", twos, ones);
    float *lr = run(edited_copy("phi3", "short2", fields), NULL, &v2);
    float *lin = run(edited_copy("phi3", "linear2", "{\"rope_scaling\": {\"rope_type\": \"linear\", "
                                 "\"factor\": 2.0}}"), NULL, &v2);
    CHECK(lr && lin);
    if (lr && lin)
        CHECK_MSG(max_diff(lr, lin, (long)N * v1) <= 1e-6, "short factors 2 vs linear 2: %g",
                  max_diff(lr, lin, (long)N * v1));
    free(plain);
    free(unit);
    free(lr);
    free(lin);
}

/* Qwen2 with use_sliding_window and max_window_layers 1: layer 0 keeps full
 * attention (bit-identical to the plain model), layer 1 sees the window, so
 * its probabilities are the plain model's layer 1 renormalised over it. */
static void test_qwen2_max_window_layers(void)
{
    enum { L = 2, H = 4, W = 5 };
    capture full = {L, H, N, calloc((size_t)L * H * N * N, 4)};
    capture win = {L, H, N, calloc((size_t)L * H * N * N, 4)};
    int v = 0;
    float *a = run(ss_test_path("%s/fixtures/qwen2/hf", ss_test_shared()), &full, &v);
    float *b = run(edited_copy("qwen2", "qwin", "{\"use_sliding_window\": true, \"sliding_window\": 5, "
                               "\"max_window_layers\": 1}"), &win, &v);
    CHECK(a && b);
    CHECK(memcmp(full.p, win.p, sizeof(float) * H * N * N) == 0);
    double worst = 0;
    for (int h = 0; h < H; h++)
        for (int i = 0; i < N; i++) {
            const float *pf = full.p + (((size_t)1 * H + h) * N + i) * N;
            const float *pw = win.p + (((size_t)1 * H + h) * N + i) * N;
            int lo = i - W + 1 > 0 ? i - W + 1 : 0;
            double mass = 0;
            for (int j = lo; j <= i; j++)
                mass += pf[j];
            for (int j = 0; j <= i; j++)
                worst = fmax(worst, fabs(pw[j] - (j >= lo ? pf[j] / mass : 0.0)));
        }
    CHECK_MSG(worst <= 2e-6, "layer-1 windowed vs renormalised full: %g", worst);
    CHECK(a && b && max_diff(a, b, (long)N * v) > 1e-3); /* the window does change the output */
    free(a);
    free(b);
    free(full.p);
    free(win.p);
}

TEST_MAIN(TEST(test_dynamic_end_points), TEST(test_longrope_switch_and_factor),
          TEST(test_yarn_attention_factor), TEST(test_longrope_reduces),
          TEST(test_qwen2_max_window_layers))
