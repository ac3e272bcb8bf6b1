/* Mistral's sliding window (query i sees keys i-W+1..i), checked by
 * identities against the unwindowed model: at layer 0 the windowed
 * probabilities are the full causal ones renormalised over the window; a
 * window at least as long as the sequence changes nothing; a window of one
 * key puts every row on the diagonal. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "engine/forward.h"
#include "harness.h"

/* A copy of fixtures/mistral_mha/hf whose config says sliding_window = w. */
static const char *windowed_copy(int w)
{
    char tag[32], fields[64];
    snprintf(tag, sizeof tag, "window%d", w);
    snprintf(fields, sizeof fields, "{\"sliding_window\": %d}", w);
    return ss_test_edited_hf("fixtures/mistral_mha", tag, fields);
}

typedef struct {
    int H, n, layer;
    float *p; /* [H, n, n] of one layer */
} capture;

static ss_code on_probs(void *ctx, int layer, int head, int row0, int nrows, const float *p,
                        int64_t ld)
{
    capture *c = ctx;
    if (layer != c->layer)
        return SS_OK;
    for (int r = 0; r < nrows; r++)
        memcpy(c->p + ((size_t)head * c->n + row0 + r) * c->n, p + r * ld,
               sizeof(float) * (size_t)(row0 + r + 1));
    return SS_OK;
}

static int run(const char *path, const int32_t *ids, int n, int layer, float *probs, float *logits)
{
    ss_error err = {0};
    ss_model *m;
    if (ss_model_open(path, &m, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    capture c = {m->cfg.n_head, n, layer, probs};
    ss_observer obs = {.ctx = &c, .on_probs = on_probs};
    ss_forward_opts o = {.block_rows = 16, .observers = &obs, .n_observers = 1};
    int rc = ss_forward(m, ids, n, &o, logits, &err) == SS_OK ? m->cfg.sliding_window : -1;
    ss_model_close(m);
    return rc;
}

enum { N = 64, H = 4, VOCAB = 300 };

static void ids_for_test(int32_t *ids)
{
    for (int i = 0; i < N; i++)
        ids[i] = (int32_t)((i * 37 + 11) % VOCAB);
}

static void test_layer0_renormalised(void)
{
    int32_t ids[N];
    ids_for_test(ids);
    const int W = 9;
    float *full = calloc((size_t)H * N * N, 4), *win = calloc((size_t)H * N * N, 4);
    const char *dir = windowed_copy(W);
    CHECK(dir && run(ss_test_path("%s/fixtures/mistral_mha/hf", ss_test_shared()), ids, N, 0, full, NULL) == 0);
    CHECK(dir && run(dir, ids, N, 0, win, NULL) == W);
    double worst = 0;
    for (int h = 0; h < H; h++)
        for (int i = 0; i < N; i++) {
            const float *pf = full + ((size_t)h * N + i) * N, *pw = win + ((size_t)h * N + i) * N;
            int lo = i - W + 1 > 0 ? i - W + 1 : 0;
            double mass = 0;
            for (int j = lo; j <= i; j++)
                mass += pf[j];
            for (int j = 0; j <= i; j++) {
                double want = j >= lo ? pf[j] / mass : 0.0;
                worst = fmax(worst, fabs(pw[j] - want));
            }
        }
    CHECK_MSG(worst <= 2e-6, "layer-0 windowed vs renormalised full: %g", worst);
    free(full);
    free(win);
}

static void test_long_window_changes_nothing(void)
{
    int32_t ids[N];
    ids_for_test(ids);
    float *a = calloc((size_t)N * VOCAB, 4), *b = calloc((size_t)N * VOCAB, 4);
    float *p = calloc((size_t)H * N * N, 4);
    const char *dir = windowed_copy(N);
    CHECK(run(ss_test_path("%s/fixtures/mistral_mha/hf", ss_test_shared()), ids, N, 0, p, a) == 0);
    CHECK(dir && run(dir, ids, N, 0, p, b) == N);
    CHECK(memcmp(a, b, sizeof(float) * N * VOCAB) == 0);
    free(a);
    free(b);
    free(p);
}

static void test_window_of_one_is_the_diagonal(void)
{
    int32_t ids[N];
    ids_for_test(ids);
    float *p = calloc((size_t)H * N * N, 4);
    const char *dir = windowed_copy(1);
    CHECK(dir && run(dir, ids, N, 1, p, NULL) == 1); /* layer 1: any layer must obey */
    double worst = 0;
    for (int h = 0; h < H; h++)
        for (int i = 0; i < N; i++)
            for (int j = 0; j <= i; j++)
                worst = fmax(worst, fabs(p[((size_t)h * N + i) * N + j] - (i == j)));
    CHECK_NEAR(worst, 0.0, 0.0);
    free(p);
}

TEST_MAIN(TEST(test_layer0_renormalised), TEST(test_long_window_changes_nothing),
          TEST(test_window_of_one_is_the_diagonal))
