/* The per-frequency decomposition on the later families, by an identity
 * with the model itself: from the pre-RoPE q/k an observer sees, the InP
 * terms of the layer's own schedule (Gemma 3: local and global angles), plus
 * the position-free part of the unrotated dims (GPT-NeoX's partial rotary),
 * with the attention factor (yarn) and the layer's window, softmaxed, must
 * give the probabilities the forward pass computed. So must re-scoring a
 * head from those q/k with the layer's attention details (what band
 * ablations do, with nothing removed). */
#include <stdlib.h>
#include <string.h>

#include "analysis/cone_vocab.h"
#include "analysis/inp.h"
#include "engine/attention.h"
#include "engine/forward.h"
#include "harness.h"

enum { N = 24 };

typedef struct {
    const ss_model *m;
    float *q, *k, *p; /* [L, n, H*dh], [L, n, K*dh], [L, H, n, n] */
} capture;

static ss_code on_layer(void *ctx, int layer, int n, const float *h, const float *q,
                        const float *k, ss_error *err)
{
    capture *c = ctx;
    (void)err;
    const ss_config *cf = &c->m->cfg;
    (void)h;
    size_t qd = (size_t)cf->n_head * cf->d_head, kd = (size_t)cf->n_kv_head * cf->d_head;
    memcpy(c->q + (size_t)layer * n * qd, q, sizeof(float) * n * qd);
    memcpy(c->k + (size_t)layer * n * kd, k, sizeof(float) * n * kd);
    return SS_OK;
}

static ss_code on_probs(void *ctx, int layer, int head, int row0, int nrows, const float *p,
                        int64_t ld)
{
    capture *c = ctx;
    for (int r = 0; r < nrows; r++)
        memcpy(c->p + (((size_t)layer * c->m->cfg.n_head + head) * N + row0 + r) * N, p + r * ld,
               sizeof(float) * (size_t)(row0 + r + 1));
    return SS_OK;
}

typedef struct {
    const float *want; /* [n, n] of the head */
    double worst;
} rescore;

static void on_rescore(void *ctx, int head, int row0, int nrows, const float *p, int64_t ld)
{
    rescore *r = ctx;
    (void)head;
    for (int i = row0; i < row0 + nrows; i++)
        for (int j = 0; j <= i; j++)
            r->worst = fmax(r->worst, fabs(p[(i - row0) * ld + j] - r->want[(size_t)i * N + j]));
}

/* Worst |softmax(InP sums + NoPE) - model probability| over every head. */
static double check_model(const char *fixture, double *nope_seen)
{
    ss_error err = {0};
    ss_model *m;
    if (ss_model_open(ss_test_path("%s/fixtures/%s/hf", ss_test_shared(), fixture), &m, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return INFINITY;
    }
    const ss_config *c = &m->cfg;
    int L = c->n_layer, H = c->n_head, K = c->n_kv_head, dh = c->d_head;
    size_t qd = (size_t)H * dh, kd = (size_t)K * dh;
    capture cap = {m, calloc((size_t)L * N * qd, 4), calloc((size_t)L * N * kd, 4),
                   calloc((size_t)L * H * N * N, 4)};
    int32_t ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = (int32_t)((i * 29 + 3) % c->vocab);
    ss_observer obs = {.ctx = &cap, .on_layer = on_layer, .on_probs = on_probs};
    ss_forward_opts o = {.observers = &obs, .n_observers = 1};
    double worst = INFINITY;
    *nope_seen = 0;
    if (ss_forward(m, ids, N, &o, NULL, &err) == SS_OK) {
        worst = 0;
        for (int l = 0; l < L; l++) {
            ss_inp_table t;
            CHECK(ss_inp_table_init(&t, ss_layer_rope(m, l), N, &err) == SS_OK);
            int F = t.n_freq, W = ss_layer_window(c, l);
            double *inp = calloc((size_t)N * F, sizeof *inp);
            for (int h = 0; h < H; h++) {
                const float *qh = cap.q + (size_t)l * N * qd + (size_t)h * dh;
                const float *kh = cap.k + (size_t)l * N * kd + (size_t)(h / (H / K)) * dh;
                for (int i = 0; i < N; i++) {
                    ss_inp_row(&t, qh + i * qd, kh, (int64_t)kd, i, c->attn_scale, inp);
                    double s[N], mx = -INFINITY, sum = 0;
                    int lo = W > 0 && i - W + 1 > 0 ? i - W + 1 : 0;
                    for (int j = lo; j <= i; j++) {
                        double nope = ss_nope_logit(qh + i * qd, kh + j * kd, 2 * F, dh, c->attn_scale);
                        *nope_seen = fmax(*nope_seen, fabs(nope));
                        s[j] = nope;
                        for (int f = 0; f < F; f++)
                            s[j] += inp[(size_t)j * F + f];
                        if (c->attn_softcap > 0)
                            s[j] = c->attn_softcap * tanh(s[j] / c->attn_softcap);
                        mx = fmax(mx, s[j]);
                    }
                    for (int j = lo; j <= i; j++)
                        sum += exp(s[j] - mx);
                    const float *pr = cap.p + (((size_t)l * H + h) * N + i) * N;
                    for (int j = 0; j <= i; j++) {
                        double want = j >= lo ? exp(s[j] - mx) / sum : 0.0;
                        worst = fmax(worst, fabs(pr[j] - want));
                    }
                }
            }
            free(inp);
            ss_inp_table_free(&t);
            ss_rope_table rt;
            ss_attn_layer al = ss_attn_layer_of(c, l);
            rescore rs = {cap.p + (size_t)l * H * N * N, 0};
            CHECK(ss_rope_table_build(&rt, ss_layer_rope(m, l), N, &err) == SS_OK);
            CHECK(ss_head_probs_table(cap.q + (size_t)l * N * qd, (int64_t)qd, cap.k + (size_t)l * N * kd,
                                      (int64_t)kd, dh, &rt, &al, 8, 0, on_rescore, &rs, &err) == SS_OK);
            ss_rope_table_free(&rt);
            worst = fmax(worst, rs.worst);
        }
    }
    free(cap.q);
    free(cap.k);
    free(cap.p);
    ss_model_close(m);
    return worst;
}

static void test_inp_reproduces_attention(void)
{
    /* gemma3: local/global angles and windows; gptneox: 8 of 32 dims
     * rotated; llama_yarn: cos/sin x 1.1386; gemma2: softcap, windows */
    const char *fixtures[] = {"gemma3", "gptneox", "llama_yarn", "gemma2", "qwen3", "phi3"};
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        double nope;
        double w = check_model(fixtures[i], &nope);
        fprintf(stderr, "  %-10s softmax(InP + NoPE) vs the model: %.3g (max |NoPE logit| %.3g)\n",
                fixtures[i], w, nope);
        CHECK_MSG(w <= 2e-5, "%s: %g", fixtures[i], w);
        /* the position-free part exists exactly where rotary_dim < head_dim */
        CHECK_MSG((nope > 0) == (strcmp(fixtures[i], "gptneox") == 0), "%s NoPE %g", fixtures[i], nope);
    }
}

/* cone's two norm RVs: ||W^T h|| and ||q|| are the same numbers without a
 * bias or q/k norm (llama_yarn); a per-head RMSNorm (qwen3) fixes most of
 * ||q|| (it varies only through the norm weight). */
static void test_cone_norm_rv(void)
{
    const char *fixtures[] = {"llama_yarn", "qwen3"};
    for (int f = 0; f < 2; f++) {
        ss_error err = {0};
        ss_model *m;
        CHECK(ss_model_open(ss_test_path("%s/fixtures/%s/hf", ss_test_shared(), fixtures[f]), &m,
                            &err) == SS_OK);
        ss_cone_opts o = {.tau = 0.95, .max_delta = 2, .seed = 1};
        ss_cone_report r;
        CHECK_MSG(ss_cone_vocab(m, &o, &r, &err) == SS_OK, "%s", err.msg);
        for (int h = 0; h < r.n_head; h++) {
            double a = r.q[h].norm_rv_proj, b = r.q[h].norm_rv;
            if (f == 0)
                CHECK_MSG(fabs(a - b) <= 1e-5 * a, "%s head %d: %g vs %g", fixtures[f], h, a, b);
            else
                CHECK_MSG(b < 0.5 * a, "%s head %d: %g vs %g", fixtures[f], h, a, b);
        }
        ss_cone_report_free(&r);
        ss_model_close(m);
    }
}

TEST_MAIN(TEST(test_inp_reproduces_attention), TEST(test_cone_norm_rv))
