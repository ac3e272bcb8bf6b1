/* The explain observers against independent routes:
 *  - rank: per-head r_1/R_tau from the streamed Gram route equal dense SVDs
 *    of the same reference q/k matrices (strides, GQA and averaging right);
 *  - band ablation: an empty ablation reproduces the unablated scores and
 *    removing every frequency equals a NoPE (p-RoPE 0) forward pass;
 *  - Barbero et al.'s construction (q = psi, k = R psi) is found by the
 *    scan's slash machinery as an SDH at offset 1 (and q = k at offset 0);
 *  - cone over the vocabulary: chunking does not matter, and every number
 *    matches a brute-force recomputation from the captured layer-0 states. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cone_vocab.h"
#include "analysis/freq_obs.h"
#include "analysis/rank_obs.h"
#include "analysis/scan_acc.h"
#include "analysis/sdh.h"
#include "analysis/slash.h"
#include "engine/forward.h"
#include "harness.h"
#include "io/dequant.h"

static int read_tokens(const char *dir, int line, int32_t *ids, int cap)
{
    FILE *f = fopen(ss_test_path("%s/%s/tokens.txt", ss_test_shared(), dir), "r");
    if (!f)
        return 0;
    char buf[1 << 16];
    int n = 0;
    for (int l = 0; l <= line && fgets(buf, sizeof buf, f); l++) {
        if (l < line)
            continue;
        char *p = buf, *end;
        for (long v; n < cap && (v = strtol(p, &end, 10), end != p); p = end)
            ids[n++] = (int32_t)v;
    }
    fclose(f);
    return n;
}

/* ---- rank ---------------------------------------------------------------- */

static void dense_stats(const float *x, int n, int d, int64_t ld, double tau, double *r1, double *R)
{
    double *m = malloc(sizeof *m * (size_t)n * d), *sv2 = malloc(sizeof *sv2 * (size_t)d);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            m[i * d + j] = x[(int64_t)i * ld + j];
    ss_error err = {0};
    CHECK(ss_lowrank_sv2_dense(m, n, d, d, sv2, &err) == SS_OK);
    int k = n < d ? n : d;
    double r[512];
    *R = ss_lowrank_R(sv2, k, tau, r);
    *r1 = r[0];
    free(m);
    free(sv2);
}

static void test_rank_matches_dense(void)
{
    const char *dir = ss_test_path("%s/fixtures/llama3_gqa/ref", ss_test_shared());
    int nd;
    long qs[4], ks[4];
    double *qd = ss_test_load_npy(ss_test_path("%s/torch_q_prepe_s0.npy", dir), &nd, qs);
    double *kd = ss_test_load_npy(ss_test_path("%s/torch_k_prepe_s0.npy", dir), &nd, ks);
    CHECK(qd && kd);
    if (!qd || !kd)
        return;
    int L = (int)qs[0], H = (int)qs[1], T = (int)qs[2], dh = (int)qs[3], K = (int)ks[1];
    ss_config c = {.n_layer = L, .n_head = H, .n_kv_head = K, .d_head = dh, .d_model = H * dh};
    /* engine layout: row i holds every head; h is taken to be Q itself */
    float *q = malloc(sizeof *q * (size_t)L * T * H * dh), *k = malloc(sizeof *k * (size_t)L * T * K * dh);
    for (int l = 0; l < L; l++)
        for (int i = 0; i < T; i++) {
            for (int h = 0; h < H; h++)
                for (int x = 0; x < dh; x++)
                    q[(((size_t)l * T + i) * H + h) * dh + x] =
                        (float)qd[(((size_t)l * H + h) * T + i) * dh + x];
            for (int h = 0; h < K; h++)
                for (int x = 0; x < dh; x++)
                    k[(((size_t)l * T + i) * K + h) * dh + x] =
                        (float)kd[(((size_t)l * K + h) * T + i) * dh + x];
        }
    ss_rank_acc a;
    ss_error err = {0};
    const double tau[2] = {0.95, 0.5};
    CHECK(ss_rank_acc_init(&a, &c, tau, 2, &err) == SS_OK);
    for (int prompt = 0; prompt < 2; prompt++) { /* the same prompt twice: means unchanged */
        for (int l = 0; l < L; l++) {
            const float *ql = q + (size_t)l * T * H * dh, *kl = k + (size_t)l * T * K * dh;
            CHECK(ss_rank_acc_on_layer(&a, l, T, ql, ql, kl, &err) == SS_OK);
        }
        CHECK(ss_rank_acc_end_prompt(&a, &err) == SS_OK);
    }
    double r[512], R[2], r1;
    double Rd;
    for (int l = 0; l < L; l++) {
        const float *ql = q + (size_t)l * T * H * dh, *kl = k + (size_t)l * T * K * dh;
        for (int h = 0; h < H; h++) {
            ss_rank_acc_mean(&a, SS_RANK_Q, l, h, r, R);
            dense_stats(ql + h * dh, T, dh, (int64_t)H * dh, 0.95, &r1, &Rd);
            CHECK_NEAR(r[0], r1, 1e-9);
            CHECK(R[0] == Rd);
            dense_stats(ql + h * dh, T, dh, (int64_t)H * dh, 0.5, &r1, &Rd);
            CHECK(R[1] == Rd);
            /* norms: mean over tokens, directly */
            double s = 0;
            for (int i = 0; i < T; i++) {
                double n2 = 0;
                for (int x = 0; x < dh; x++)
                    n2 += (double)ql[(size_t)i * H * dh + h * dh + x] * ql[(size_t)i * H * dh + h * dh + x];
                s += sqrt(n2);
            }
            CHECK_NEAR(ss_moments_mean(&a.q_norm[l * H + h]), s / T, 1e-9 * s);
        }
        for (int h = 0; h < K; h++) {
            ss_rank_acc_mean(&a, SS_RANK_K, l, h, r, R);
            dense_stats(kl + h * dh, T, dh, (int64_t)K * dh, 0.95, &r1, &Rd);
            CHECK_NEAR(r[0], r1, 1e-9);
            CHECK(R[0] == Rd);
        }
        ss_rank_acc_mean(&a, SS_RANK_H, l, 0, r, R);
        dense_stats(ql, T, H * dh, (int64_t)H * dh, 0.95, &r1, &Rd);
        CHECK_NEAR(r[0], r1, 1e-9);
        CHECK(R[0] == Rd);
    }
    ss_error err2 = {0};
    CHECK(ss_rank_acc_end_prompt(&a, &err2) == SS_ERR_USAGE); /* no layer seen */
    ss_rank_acc_free(&a);
    free(q);
    free(k);
    free(qd);
    free(kd);
}

/* A wide model (d >= 1024) takes the other path for H: same answers. */
static void test_rank_wide_hidden(void)
{
    enum { N = 80, D = 1024, DH = 8 };
    ss_config c = {.n_layer = 1, .n_head = 1, .n_kv_head = 1, .d_head = DH, .d_model = D};
    static float h[N * D], q[N * DH];
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) /* rank 3 plus a little noise */
            h[i * D + j] = (float)(sin(0.1 * i) * cos(0.01 * j) + 0.5 * cos(0.3 * i) * sin(0.02 * j) +
                                   0.2 * sin(0.7 * i + 0.05 * j) + 1e-3 * sin(i * 7.0 + j * 3.0));
        for (int j = 0; j < DH; j++)
            q[i * DH + j] = h[i * D + j];
    }
    ss_rank_acc a;
    ss_error err = {0};
    double tau = 0.95, r[D], R, r1;
    double Rd;
    CHECK(ss_rank_acc_init(&a, &c, &tau, 1, &err) == SS_OK);
    CHECK(ss_rank_acc_on_layer(&a, 0, N, h, q, q, &err) == SS_OK);
    CHECK(ss_rank_acc_end_prompt(&a, &err) == SS_OK);
    ss_rank_acc_mean(&a, SS_RANK_H, 0, 0, r, &R);
    dense_stats(h, N, D, D, 0.95, &r1, &Rd);
    CHECK_NEAR(r[0], r1, 1e-9);
    CHECK(R == Rd && Rd <= 4);
    ss_rank_acc_free(&a);
}

/* ---- band ablation identities --------------------------------------------- */

static void test_ablation_identities(void)
{
    ss_model *m = NULL;
    ss_error err = {0};
    const char *dir = "fixtures/llama3_gqa";
    if (ss_model_open(ss_test_path("%s/%s/hf", ss_test_shared(), dir), &m, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    int32_t ids[256];
    int n = read_tokens(dir, 1, ids, 120);
    CHECK(n == 120);
    const ss_config *c = &m->cfg;
    int F = m->rope.n_freq, all[SS_ROPE_MAX_FREQ];
    for (int f = 0; f < F; f++)
        all[f] = f + 1;
    ss_ablation ab[3];
    CHECK(ss_ablation_make(&ab[0], "empty", &m->rope, NULL, 0, &err) == SS_OK);
    CHECK(ss_ablation_make(&ab[1], "all", &m->rope, all, F, &err) == SS_OK);
    int hi[3] = {1, 2, 3};
    CHECK(ss_ablation_make(&ab[2], "some", &m->rope, hi, 3, &err) == SS_OK);
    ss_head_ref sel[64];
    int ns = 0;
    for (int l = 0; l < c->n_layer; l++)
        for (int h = 0; h < c->n_head; h++)
            sel[ns++] = (ss_head_ref){l, h};
    ss_freq_opts o = {.row = 50, .inp_rows = 8, .skip = 4, .max_delta = 2};
    /* both runs through the analysis driver, as the CLI runs them */
    ss_analysis an_a, an_b;
    ss_prompt_source src;
    CHECK(ss_freq_analysis_new(&an_a, m, &m->rope, n, sel, ns, ab, 3, &o, &err) == SS_OK);
    ss_prompt_source_ids(&src, ids, n);
    CHECK(ss_analysis_run(m, &src, (ss_analysis *[]){&an_a}, 1, NULL, NULL, NULL, &err) == SS_OK);
    /* NoPE forward pass: every frequency unrotated from the start */
    ss_rope nope = m->rope;
    CHECK(ss_rope_keep_fraction(&nope, 0.0, &err) == SS_OK);
    CHECK(ss_freq_analysis_new(&an_b, m, &nope, n, sel, ns, NULL, 0, &o, &err) == SS_OK);
    ss_prompt_source_ids(&src, ids, n);
    ss_analysis_opts ro = {.rope = &nope};
    CHECK(ss_analysis_run(m, &src, (ss_analysis *[]){&an_b}, 1, NULL, &ro, NULL, &err) == SS_OK);
    ss_freq_acc a = *ss_freq_analysis_acc(&an_a), b = *ss_freq_analysis_acc(&an_b);
    CHECK(a.prompts == 1 && b.prompts == 1);
    double *base = malloc(sizeof(double) * n), *v = malloc(sizeof(double) * n);
    double worst_empty = 0, worst_nope = 0, moved = 0;
    for (int s = 0; s < ns; s++) {
        ss_freq_acc_scores(&a, s, 0, base);
        ss_freq_acc_scores(&a, s, 1, v);
        for (int d = 0; d < n - o.skip; d++)
            worst_empty = fmax(worst_empty, fabs(v[d] - base[d]));
        ss_freq_acc_scores(&a, s, 3, v);
        for (int d = 0; d < n - o.skip; d++)
            moved = fmax(moved, fabs(v[d] - base[d]));
        /* an ablation re-scores a head from the unablated run's q and k, so
         * it equals a NoPE pass only where the inputs are the same: layer 0
         * (deeper layers of the NoPE pass see other hidden states) */
        if (sel[s].layer != 0)
            continue;
        ss_freq_acc_scores(&a, s, 2, v);
        ss_freq_acc_scores(&b, s, 0, base);
        for (int d = 0; d < n - o.skip; d++)
            worst_nope = fmax(worst_nope, fabs(v[d] - base[d]));
    }
    fprintf(stderr, "     empty ablation %.3g, all removed vs NoPE (layer 0) %.3g, 3 removed "
            "moved %.3g\n", worst_empty, worst_nope, moved);
    CHECK(worst_empty == 0);   /* same q, k, schedule and kernel: bit for bit */
    CHECK(worst_nope < 1e-6);
    CHECK(moved > 1e-3);       /* and an ablation does change something */
    /* pre-RoPE q of layer 0 do not depend on the schedule: usage agrees there */
    for (size_t i = 0; i < (size_t)c->n_head * F; i++)
        CHECK_NEAR(a.use_q[i], b.use_q[i], 1e-9 * (1 + a.use_q[i]));
    free(base);
    free(v);
    ss_analysis_free(&an_a); /* a and b are copies of their states: freed with them */
    ss_analysis_free(&an_b);
    ss_model_close(m);
}

/* ---- Barbero et al.'s construction ------------------------------------------ */

typedef struct {
    ss_scan_acc *scan;
} scan_feed;

static void feed(void *ctx, int head, int row0, int nrows, const float *p, int64_t ld)
{
    scan_feed *f = ctx;
    ss_scan_acc_on_probs(f->scan, 0, head, row0, nrows, p, ld);
}

/* One head of queries psi and keys R^shift psi; returns the SDHs the scan's
 * accumulator and ss_sdh_find report in the small regime. */
static int construction_sdhs(int shift, double p_rope, ss_sdh **out)
{
    enum { N = 64, DH = 16, F = DH / 2 };
    ss_rope rope;
    ss_error err = {0};
    CHECK(ss_rope_standard(&rope, DH, 10000, NULL, &err) == SS_OK);
    CHECK(ss_rope_keep_fraction(&rope, p_rope, &err) == SS_OK);
    static float q[N * DH], k[N * DH];
    float psi[DH];
    for (int x = 0; x < DH; x++)
        psi[x] = 8.0f;
    for (int i = 0; i < N; i++)
        for (int f = 0; f < F; f++) {
            /* keys rotated by shift steps of RoPE's own angle: the logit from
             * i to j then peaks where j + shift = i */
            double a = shift * rope.theta[f];
            q[i * DH + f] = psi[f];
            q[i * DH + f + F] = psi[f + F];
            k[i * DH + f] = (float)(psi[f] * cos(a) - psi[f + F] * sin(a));
            k[i * DH + f + F] = (float)(psi[f] * sin(a) + psi[f + F] * cos(a));
        }
    ss_scan_acc scan;
    CHECK(ss_scan_acc_init(&scan, 1, 1, N, 4, 0, NULL, &err) == SS_OK);
    scan_feed fd = {&scan};
    CHECK(ss_head_probs(q, DH, k, DH, N, DH, &rope, 1 / sqrt(DH), 16, 0, feed, &fd, &err) ==
          SS_OK);
    CHECK(ss_scan_acc_on_layer_done(&scan, 0, &err) == SS_OK);
    CHECK(ss_scan_acc_end_prompt(&scan, &err) == SS_OK);
    double avg[N];
    ss_slash_average(scan.slash_sum, scan.slash_count, N, avg);
    int count = 0;
    CHECK(ss_sdh_find(avg, 1, 1, N, &SS_SDH_SMALL, out, &count, &err) == SS_OK);
    ss_scan_acc_free(&scan);
    return count;
}

static void test_barbero_construction(void)
{
    ss_sdh *s = NULL;
    int n = construction_sdhs(1, 1.0, &s);
    CHECK_MSG(n == 1 && s[0].delta == 1 && s[0].score > 0.9, "previous-token head: %d SDHs, "
              "first at %d with %g", n, n ? s[0].delta : -1, n ? s[0].score : 0);
    free(s);
    n = construction_sdhs(0, 1.0, &s);
    CHECK_MSG(n == 1 && s[0].delta == 0 && s[0].score > 0.9, "diagonal head: %d SDHs", n);
    free(s);
    /* NoPE cannot (Barbero et al. Prop. 5.2): uniform attention, no SDH at 1 */
    n = construction_sdhs(1, 0.0, &s);
    int at1 = 0;
    for (int i = 0; i < n; i++)
        at1 |= s[i].delta == 1;
    CHECK(!at1);
    free(s);
}

/* ---- cone over the vocabulary ---------------------------------------------- */

typedef struct {
    int d, qd, kd;
    double *h;
    float *q, *k;
} capture;

static ss_code grab(void *ctx, int layer, int n, const float *h, const float *q, const float *k,
                    ss_error *err)
{
    (void)err;
    capture *c = ctx;
    if (layer == 0) {
        for (int64_t i = 0; i < (int64_t)n * c->d; i++)
            c->h[i] = h[i];
        memcpy(c->q, q, sizeof(float) * (size_t)n * c->qd);
        memcpy(c->k, k, sizeof(float) * (size_t)n * c->kd);
    }
    return SS_STOP; /* layer 0 is all this test needs */
}

static void test_cone_vocab_brute_force(void)
{
    ss_model *m = NULL;
    ss_error err = {0};
    if (ss_model_open(ss_test_path("%s/models/stories260K/stories260K.bin", ss_test_shared()), &m,
                      &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    const ss_config *c = &m->cfg;
    int V = c->vocab, d = c->d_model, dh = c->d_head, H = c->n_head, K = c->n_kv_head;
    int heads[2] = {0, 3};
    ss_cone_opts o = {.tau = 0.95, .max_delta = 3, .seed = 5, .chunk = 100, .cs_heads = heads,
                      .n_cs = 2};
    ss_cone_report r1, r2;
    CHECK(ss_cone_vocab(m, &o, &r1, &err) == SS_OK);
    o.chunk = 0;
    CHECK(ss_cone_vocab(m, &o, &r2, &err) == SS_OK);
    /* chunking changes nothing but the fp32 rounding of the engine's q and k
     * (its matrix products block differently), hence 1e-7 there */
    for (int h = 0; h < H; h++) {
        CHECK_NEAR(r1.q[h].w.r1_tilde, r2.q[h].w.r1_tilde, 1e-12);
        CHECK_NEAR(r1.q[h].w.rv_dominant, r2.q[h].w.rv_dominant, 1e-9);
        CHECK_NEAR(r1.q[h].r1, r2.q[h].r1, 1e-7);
    }
    for (int i = 0; i < 2 * (o.max_delta + 1); i++)
        CHECK_NEAR(r1.cs_mean[i], r2.cs_mean[i], 1e-7);

    /* brute force: capture layer-0 h, q, k of the whole vocabulary at once */
    capture cap = {d, H * dh, K * dh, malloc(sizeof(double) * (size_t)V * d),
                   malloc(sizeof(float) * (size_t)V * H * dh), malloc(sizeof(float) * (size_t)V * K * dh)};
    int32_t *ids = malloc(sizeof *ids * (size_t)V);
    for (int t = 0; t < V; t++)
        ids[t] = t;
    ss_observer obs = {.ctx = &cap, .on_layer = grab};
    ss_forward_opts fo = {.n_layers = 1, .allow_long = 1, .observers = &obs, .n_observers = 1};
    ss_error ferr = {0};
    /* the observer ends the pass after layer 0: a stop, not an error */
    CHECK(ss_forward(m, ids, V, &fo, NULL, &ferr) == SS_STOP && ferr.code == SS_OK);
    for (int x = 0; x < H + K; x++) {
        int key = x >= H, idx = key ? x - H : x;
        const ss_cone_side *side = key ? &r1.k[idx] : &r1.q[idx];
        /* W^T rows straight from the checkpoint, SVD by dgesvd (not dgesdd) */
        float *wf = malloc(sizeof(float) * (size_t)dh * d);
        ss_tensor_rows_f32(key ? m->layers[0].wk : m->layers[0].wq, (int64_t)idx * dh, dh, wf);
        double *w = malloc(sizeof(double) * (size_t)dh * d), sig[64], u[64 * 64], superb[64];
        double *vt = malloc(sizeof(double) * (size_t)dh * d);
        for (int i = 0; i < dh * d; i++)
            w[i] = wf[i];
        CHECK(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'S', 'S', dh, d, w, d, sig, u, dh, vt, d,
                             superb) == 0);
        double r1s = 0, Rs = 0, esum[64] = {0}, psum[64] = {0}, psq[64] = {0}, nsum = 0;
        for (int t = 0; t < V; t++) {
            double e[64], tot = 0;
            for (int l = 0; l < dh; l++) {
                double p = 0;
                for (int j = 0; j < d; j++)
                    p += vt[l * d + j] * cap.h[(size_t)t * d + j];
                e[l] = sig[l] * sig[l] * p * p;
                tot += e[l];
                esum[l] += e[l];
                psum[l] += p;
                psq[l] += p * p;
            }
            nsum += sqrt(tot);
            /* r~_1 and R~ by repeated selection of the largest */
            double cum = 0, big = 0;
            int used[64] = {0}, R = 0;
            while (cum < 0.95 * tot * (1 - 1e-12)) {
                int best = -1;
                for (int l = 0; l < dh; l++)
                    if (!used[l] && (best < 0 || e[l] > e[best]))
                        best = l;
                used[best] = 1;
                if (R == 0)
                    big = e[best];
                cum += e[best];
                R++;
            }
            r1s += big / tot;
            Rs += R;
        }
        int dom = 0;
        for (int l = 1; l < dh; l++)
            if (esum[l] > esum[dom])
                dom = l;
        double mean = psum[dom] / V, sd = sqrt(psq[dom] / V - mean * mean);
        CHECK_NEAR(side->w.r1_tilde, r1s / V, 1e-9);
        CHECK_NEAR(side->w.R_tilde, Rs / V, 1e-9);
        CHECK(side->w.dominant == dom);
        CHECK_NEAR(side->w.rv_dominant, sd / fabs(mean), 1e-6 * (sd / fabs(mean)));
        CHECK_NEAR(side->w.proj_norm_mean, nsum / V, 1e-9 * nsum / V);
        CHECK_NEAR(side->sigma1, sig[0], 1e-9 * sig[0]);
        free(wf);
        free(w);
        free(vt);
    }
    /* alignment of head 3 at offset 2: rotate by hand */
    double sum = 0;
    int kv = 3 / (H / K);
    for (int t = 2; t < V; t++) {
        const float *qt = cap.q + (size_t)t * H * dh + 3 * dh;
        const float *kj = cap.k + (size_t)(t - 2) * K * dh + kv * dh;
        double dot = 0, qn = 0, kn = 0;
        for (int f = 0; f < dh / 2; f++) {
            double a = -2 * m->rope.theta[f]; /* key j = t - 2 seen from t: R_{j-t} */
            double ka = kj[f] * cos(a) - kj[f + dh / 2] * sin(a);
            double kb = kj[f] * sin(a) + kj[f + dh / 2] * cos(a);
            dot += qt[f] * ka + qt[f + dh / 2] * kb;
        }
        for (int x = 0; x < dh; x++) {
            qn += (double)qt[x] * qt[x];
            kn += (double)kj[x] * kj[x];
        }
        sum += dot / sqrt(qn * kn);
    }
    CHECK_NEAR(r1.cs_mean[1 * (o.max_delta + 1) + 2], sum / (V - 2), 1e-9);
    CHECK(r1.cs_n[1 * (o.max_delta + 1) + 2] == V - 2);
    ss_cone_report_free(&r1);
    ss_cone_report_free(&r2);
    free(cap.h);
    free(cap.q);
    free(cap.k);
    free(ids);
    ss_model_close(m);
}

TEST_MAIN(TEST(test_rank_matches_dense), TEST(test_rank_wide_hidden), TEST(test_ablation_identities),
          TEST(test_barbero_construction), TEST(test_cone_vocab_brute_force))
