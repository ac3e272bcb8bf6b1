#include "engine/forward.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/timing.h"
#include "engine/attention.h"
#include "engine/head_rope.h"
#include "engine/linear.h"
#include "io/dequant.h"

/* OpenBLAS's own thread-count setter (declared in its cblas.h, but not in
 * the reference CBLAS header, so declared here). */
void openblas_set_num_threads(int n);

void ss_set_threads(int n)
{
    if (n <= 0)
        return;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

#define MLP_CHUNK 512 /* token rows per MLP pass: bounds the [rows, d_ff] buffers */
/* Below this many elements a parallel region costs more than it saves (and
 * spinning threads hurt badly on a busy machine). */
#define PAR_MIN ((int64_t)1 << 16)
/* Below this much attention work (n^2 d) per head, a leftover head runs on
 * one thread: the barriers per block would cost more than the idle core. */
#ifndef TEAM_MIN
#define TEAM_MIN ((int64_t)1 << 24)
#endif

typedef struct {
    float *x, *xn, *ao, *q, *k, *v, *att, *gate, *up, *norm_w, *norm_b, *scores;
    ss_arena arena; /* holds every buffer above */
    int n_threads;
    ss_scratch scratch;
    ss_rope_table rope, rope_local; /* global layers; Gemma 3's local layers */
    ss_rope local_override;          /* local angles with the caller's active flags */
    int n_hr;                        /* per-head RoPE removals (opts->head_rope) */
    struct head_rope_slot *hr;       /* [n_hr] */
    int *hr_of_head;                 /* [n_head]: this layer's slot of each head, or -1 */
} workspace;

/* One head under its own RoPE schedule: its query and its key head's keys,
 * copied before the layer's rotation and rotated with the head's table. */
struct head_rope_slot {
    const ss_head_rope_entry *e;
    ss_rope rope;       /* the layer's schedule with e's frequencies removed */
    ss_rope_table table;
    float *q, *k;       /* [n, d_head] */
};

static void workspace_free(workspace *w)
{
    ss_arena_unmap(&w->arena);
    free(w->scratch.buf);
    for (int i = 0; i < w->n_hr; i++) {
        ss_rope_table_free(&w->hr[i].table);
        free(w->hr[i].q);
        free(w->hr[i].k);
    }
    free(w->hr);
    free(w->hr_of_head);
    ss_rope_table_free(&w->rope);
    ss_rope_table_free(&w->rope_local);
}

/* Floats of attention scratch: one head's per thread, which a team of them
 * shares for a head left over (engine/attention.h). */
static int64_t scores_floats(const ss_config *c, int n, int block, int threads)
{
    int64_t own = (int64_t)threads * ss_attend_scratch_floats(n, c->d_head, block);
    int64_t team = threads > 1 ? ss_attend_team_floats(n, c->d_head, block) : 0;
    return own > team ? own : team;
}

/* The workspace's buffers, in the arena's order. */
enum {
    WS_X, WS_XN, WS_AO, WS_Q, WS_K, WS_V, WS_ATT, WS_GATE, WS_UP, WS_NORM_W, WS_NORM_B,
    WS_SCORES, WS_N
};

/* Bytes of each workspace buffer for n tokens: what workspace_alloc maps and
 * ss_forward_bytes counts (one list, so the memory check is of the buffers
 * the pass takes). */
static void workspace_sizes(const ss_config *c, int n, int block, int threads, size_t *bytes)
{
    size_t N = (size_t)n, qd = (size_t)c->n_head * c->d_head, kvd = (size_t)c->n_kv_head * c->d_head;
    size_t chunk = n < MLP_CHUNK ? N : MLP_CHUNK;
    /* one norm-weight buffer serves every norm: d_model, or a q/k norm over
     * the whole projection */
    size_t norm_len = qd > (size_t)c->d_model ? qd : (size_t)c->d_model;
    size_t floats[WS_N] = {
        [WS_X] = N * c->d_model, [WS_XN] = N * c->d_model,
        /* the attention output waits in xn (free until the next norm) unless
         * the MLP reads a norm of the same residual (parallel residual) */
        [WS_AO] = c->parallel_residual ? N * c->d_model : 0,
        [WS_Q] = N * qd, [WS_K] = N * kvd, [WS_V] = N * kvd, [WS_ATT] = N * qd,
        [WS_GATE] = chunk * c->d_ff, [WS_UP] = chunk * c->d_ff,
        [WS_NORM_W] = norm_len, [WS_NORM_B] = (size_t)c->d_model,
        [WS_SCORES] = (size_t)scores_floats(c, n, block, threads)};
    for (int i = 0; i < WS_N; i++)
        bytes[i] = floats[i] * sizeof(float);
}

uint64_t ss_forward_bytes(const ss_config *c, int n, int block, int threads)
{
    size_t bytes[WS_N];
    workspace_sizes(c, n, block, threads, bytes);
    /* the arena with its alignment and guard gaps, and the RoPE tables */
    int rot = c->rotary_dim > 0 ? c->rotary_dim : c->d_head;
    uint64_t rope = (uint64_t)n * (uint64_t)(rot / 2) * 2 * sizeof(double) *
                    (c->rope_local_base > 0 ? 2 : 1);
    return (uint64_t)ss_arena_bytes(bytes, WS_N) + rope;
}

static ss_code workspace_alloc(workspace *w, const ss_config *c, int n, int block, ss_error *err)
{
    memset(w, 0, sizeof *w);
    w->n_threads = omp_get_max_threads();
    /* refuse up front rather than let the allocations below succeed on
     * overcommit and the OOM killer end the run when they are touched */
    char what[160];
    snprintf(what, sizeof what, "the forward pass over %d tokens (hidden states, q/k/v, "
             "attention blocks of %d threads)", n, w->n_threads);
    ss_code rc = ss_mem_check(ss_forward_bytes(c, n, block, w->n_threads), what,
                              "use a shorter --len (or fewer --threads)", err);
    if (rc)
        return rc;
    /* one arena: zero pages from the kernel (nothing to clear), huge pages
     * where THP allows (set-up took 10 ms CPU of 4 KiB page faults at 512
     * tokens, docs/benchmarks.md "startup") */
    size_t bytes[WS_N];
    workspace_sizes(c, n, block, w->n_threads, bytes);
    if ((rc = ss_arena_map(&w->arena, ss_arena_bytes(bytes, WS_N), "forward-pass workspace", err)))
        return rc;
    float **to[WS_N] = {&w->x, &w->xn, &w->ao, &w->q, &w->k, &w->v, &w->att, &w->gate, &w->up,
                        &w->norm_w, &w->norm_b, &w->scores};
    for (int i = 0; i < WS_N; i++)
        *to[i] = ss_arena_take(&w->arena, bytes[i]);
    if (!c->parallel_residual)
        w->ao = w->xn;
    return SS_OK;
}

/* out = (x - mean) / sqrt(var + eps) * w + b (PyTorch LayerNorm, biased
 * variance); mean and variance in double. */
static void layernorm(const float *x, float *out, int n, int d, const float *w, const float *b,
                      double eps)
{
    #pragma omp parallel for schedule(static) if ((int64_t)n * d >= PAR_MIN)
    for (int i = 0; i < n; i++) {
        const float *xi = x + (int64_t)i * d;
        double mean = 0.0, var = 0.0;
        for (int j = 0; j < d; j++)
            mean += xi[j];
        mean /= d;
        for (int j = 0; j < d; j++)
            var += ((double)xi[j] - mean) * ((double)xi[j] - mean);
        float r = (float)(1.0 / sqrt(var / d + eps)), mu = (float)mean;
        float *oi = out + (int64_t)i * d;
        for (int j = 0; j < d; j++)
            oi[j] = ((xi[j] - mu) * r) * w[j] + (b ? b[j] : 0.0f);
    }
}

/* out = x / rms(x) * w (or * (1 + w)); the mean square in double. */
static void rmsnorm(const float *x, float *out, int n, int d, const float *w, double eps,
                    int add_one)
{
    #pragma omp parallel for schedule(static) if ((int64_t)n * d >= PAR_MIN)
    for (int i = 0; i < n; i++) {
        const float *xi = x + (int64_t)i * d;
        double ss = 0.0;
        /* simd: -O2 leaves both loops scalar (the sum's lanes are added in a
         * fixed order, so it still does not depend on the threads) */
        #pragma omp simd reduction(+ : ss)
        for (int j = 0; j < d; j++)
            ss += (double)xi[j] * xi[j];
        float r = (float)(1.0 / sqrt(ss / d + eps));
        float *oi = out + (int64_t)i * d;
        if (add_one) {
            #pragma omp simd
            for (int j = 0; j < d; j++)
                oi[j] = (xi[j] * r) * (1.0f + w[j]);
        } else {
            #pragma omp simd
            for (int j = 0; j < d; j++)
                oi[j] = (xi[j] * r) * w[j];
        }
    }
}

/* The model's norm (RMSNorm or LayerNorm) with weight t (and bias tb) over
 * n rows of d values; in place is fine. */
static void apply_norm(const ss_config *c, workspace *w, const ss_tensor *t, const ss_tensor *tb,
                       const float *x, float *out, int n, int d)
{
    const float *nw = ss_vector_f32(t, w->norm_w);
    if (c->norm_type == SS_NORM_LAYER)
        layernorm(x, out, n, d, nw, tb ? ss_vector_f32(tb, w->norm_b) : NULL, c->norm_eps);
    else
        rmsnorm(x, out, n, d, nw, c->norm_eps, c->norm_add_one);
}

static void embed(const ss_model *m, const int32_t *ids, int n, float *x)
{
    const ss_config *c = &m->cfg;
    #pragma omp parallel for schedule(static) if ((int64_t)n * c->d_model >= PAR_MIN)
    for (int i = 0; i < n; i++) {
        float *xi = x + (int64_t)i * c->d_model;
        ss_tensor_rows_f32(m->tok_embd, ids[i], 1, xi);
        if (c->embed_scale != 1.0) {
            float s = (float)c->embed_scale;
            for (int j = 0; j < c->d_model; j++)
                xi[j] *= s;
        }
    }
}

/* Interleaved checkpoints store each head's rotary pairs as (2f, 2f+1);
 * bring them to half order (f, f + d/2), the one everything else assumes. */
static void interleaved_to_half(float *x, int64_t ld, int n, int heads, int d_head)
{
    int half = d_head / 2;
    #pragma omp parallel for schedule(static) if ((int64_t)n * heads * d_head >= PAR_MIN)
    for (int i = 0; i < n; i++) {
        float tmp[2 * SS_ROPE_MAX_FREQ];
        for (int h = 0; h < heads; h++) {
            float *v = x + (int64_t)i * ld + (int64_t)h * d_head;
            for (int f = 0; f < half; f++) {
                tmp[f] = v[2 * f];
                tmp[f + half] = v[2 * f + 1];
            }
            memcpy(v, tmp, (size_t)d_head * sizeof *v);
        }
    }
}

typedef struct {
    const ss_observer *obs;
    int n_obs, layer;
    int code, head; /* the first non-OK on_probs return and its head (set once) */
} probs_fanout;

static void fan_out_probs(void *ctx, int head, int row0, int nrows, const float *p, int64_t ld)
{
    probs_fanout *f = ctx;
    for (int o = 0; o < f->n_obs; o++) {
        if (!f->obs[o].on_probs)
            continue;
        ss_code rc = f->obs[o].on_probs(f->obs[o].ctx, f->layer, head, row0, nrows, p, ld);
        if (rc == SS_OK)
            continue;
        /* heads run concurrently: the first code wins, except that an error
         * replaces a stop, so a failure is never reported as a stop */
        int seen = __atomic_load_n(&f->code, __ATOMIC_RELAXED);
        while (seen == SS_OK || (seen == SS_STOP && rc != SS_STOP)) {
            if (__atomic_compare_exchange_n(&f->code, &seen, (int)rc, 0, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED)) {
                __atomic_store_n(&f->head, head, __ATOMIC_RELAXED);
                break;
            }
        }
    }
}

/* What an observer's code means for the pass: SS_OK and SS_STOP pass through
 * untouched; an error without a message gets one naming where it happened. */
static ss_code observer_code(ss_code rc, const char *where, int layer, int head, ss_error *err)
{
    if (rc == SS_OK || rc == SS_STOP)
        return rc;
    if (err->code == SS_OK) {
        if (head >= 0)
            ss_fail(err, rc, "an observer failed (%s) %s layer %d, head %d", ss_code_name(rc),
                    where, layer, head);
        else
            ss_fail(err, rc, "an observer failed (%s) %s layer %d", ss_code_name(rc), where,
                    layer);
    }
    return rc;
}

/* Head h of layer l: its q/k/v columns and the layer's attention details
 * (scale, Gemma 2's softcap, the layer's sliding window). */
static ss_head_attn head_attn(const ss_config *c, workspace *w, int n, int block, int l, int h)
{
    ss_attn_layer al = ss_attn_layer_of(c, l);
    int64_t qd = (int64_t)c->n_head * c->d_head, kvd = (int64_t)c->n_kv_head * c->d_head;
    int g = h / (c->n_head / c->n_kv_head);
    ss_head_attn a = {
        .q = w->q + (int64_t)h * c->d_head, .ldq = qd,
        .k = w->k + (int64_t)g * c->d_head, .ldk = kvd,
        .v = w->v + (int64_t)g * c->d_head, .ldv = kvd,
        .out = w->att + (int64_t)h * c->d_head, .ldo = qd,
        .n = n, .d_head = c->d_head, .block_rows = block, .window = al.window,
        .scale = (float)al.scale, .softcap = (float)al.softcap,
    };
    int slot = w->hr_of_head ? w->hr_of_head[h] : -1;
    if (slot >= 0) { /* its own schedule: the private rotated copies */
        a.q = w->hr[slot].q;
        a.k = w->hr[slot].k;
        a.ldq = a.ldk = c->d_head;
    }
    return a;
}

#define BUSY_THREADS 64 /* threads whose busy time SLASHSCOPE_TIMINGS shows */

/* Sum over threads of the CPU seconds the busiest thread had more: how long
 * the others waited (a bound: a thread may have waited at a block's barrier
 * and been the busiest overall). */
static void add_waiting(const char *counter, const double *busy, int threads)
{
    double most = 0, sum = 0;
    threads = threads < BUSY_THREADS ? threads : BUSY_THREADS;
    for (int t = 0; t < threads; t++)
        most = busy[t] > most ? busy[t] : most;
    for (int t = 0; t < threads; t++)
        sum += most - busy[t];
    ss_timing_add(counter, sum);
}

/* Returns the first non-OK code an on_probs call returned (SS_OK if none),
 * with *bad_head its head. */
static ss_code attention(const ss_config *c, workspace *w, int n, int block,
                         const ss_forward_opts *o, int layer, int *bad_head)
{
    probs_fanout fan = {o->observers, o->n_observers, layer, SS_OK, -1};
    int any_probs = 0;
    for (int i = 0; i < o->n_observers; i++)
        any_probs |= o->observers[i].on_probs != NULL;
    /* One head per thread, its blocks in order: observers get per-head
     * sequential calls and results do not depend on the thread count. The
     * heads left over (n_head not a multiple of the threads) run one at a
     * time with every thread on each block, so no core idles. */
    int64_t per_thread = ss_attend_scratch_floats(n, c->d_head, block);
    /* SLASHSCOPE_TIMINGS: each thread's CPU seconds in the two parts; what
     * the others had more is the time a thread waited for them */
    int timed = ss_timing_on();
    double busy[2][BUSY_THREADS] = {{0}};
    int threads = 1, teamed = 0;
    #pragma omp parallel if ((int64_t)n * n * c->d_head >= PAR_MIN)
    {
        int me = omp_get_thread_num();
        double t0 = timed ? ss_timing_thread_cpu() : 0;
        int team = omp_get_num_threads(), split = c->n_head - c->n_head % team;
        if (team == 1 || (int64_t)n * n * c->d_head < (o->team_min > 0 ? o->team_min : TEAM_MIN))
            split = c->n_head;
        #pragma omp for schedule(dynamic, 1) nowait
        for (int h = 0; h < split; h++) {
            ss_head_attn a = head_attn(c, w, n, block, layer, h);
            float *scratch = w->scores + (size_t)me * per_thread;
            ss_attend_head(&a, scratch, any_probs ? fan_out_probs : NULL, &fan, h);
        }
        double t1 = timed ? ss_timing_thread_cpu() : 0;
        #pragma omp barrier
        double t2 = timed ? ss_timing_thread_cpu() : 0; /* the barrier's wait is neither part's work */
        for (int h = split; h < c->n_head; h++) {
            ss_head_attn a = head_attn(c, w, n, block, layer, h);
            ss_attend_head_team(&a, w->scores, any_probs ? fan_out_probs : NULL, &fan, h);
        }
        if (me == 0) {
            threads = team;
            teamed = split < c->n_head;
        }
        if (timed && me < BUSY_THREADS) {
            busy[0][me] = t1 - t0;
            busy[1][me] = ss_timing_thread_cpu() - t2;
        }
    }
    if (timed) {
        add_waiting("attention: heads, waiting", busy[0], threads);
        if (teamed)
            add_waiting("attention: team, waiting", busy[1], threads);
    }
    *bad_head = fan.head;
    return (ss_code)fan.code;
}

static float gelu_tanh(float x)
{
    const float k = 0.7978845608028654f; /* sqrt(2 / pi) */
    return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

static float gelu_erf(float x)
{
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

static float activate(ss_activation act, float g)
{
    switch (act) {
    case SS_ACT_GELU_TANH: return gelu_tanh(g);
    case SS_ACT_GELU_ERF: return gelu_erf(g);
    case SS_ACT_SILU: break;
    }
    return g / (1.0f + expf(-g));
}

#ifdef __AVX2__
#include <immintrin.h>
__m256 _ZGVdN8v_expf(__m256 x); /* glibc's vectorised expf (libmvec), AVX2 */
#endif

/* gate[j] = silu(gate[j]) * up[j] over one row of d values: 8 at a time with
 * glibc's vector expf, the rest with expf. By column within the row, so a
 * value never depends on the chunking or the thread count. */
static void silu_gate_row(float *gate, const float *up, int d)
{
    int j = 0;
#ifdef __AVX2__
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    for (; j + 8 <= d; j += 8) {
        __m256 g = _mm256_loadu_ps(gate + j);
        __m256 e = _ZGVdN8v_expf(_mm256_xor_ps(g, sign));
        __m256 a = _mm256_div_ps(g, _mm256_add_ps(one, e));
        _mm256_storeu_ps(gate + j, _mm256_mul_ps(a, _mm256_loadu_ps(up + j)));
    }
#endif
    for (; j < d; j++)
        gate[j] = activate(SS_ACT_SILU, gate[j]) * up[j];
}

/* x += y over count floats; returns whether every sum is finite (the
 * layer's check of its output, in the same pass). On the calling thread: a
 * parallel region, waking the sleeping threads, took 4x longer than the
 * adds (0.10 s against 0.025 s per 2048-token scan, docs/benchmarks.md). */
static int add_rows(float *x, const float *y, int64_t count)
{
    int ok = 1;
    #pragma omp simd reduction(& : ok)
    for (int64_t j = 0; j < count; j++) {
        x[j] += y[j];
        ok &= isfinite(x[j]) != 0;
    }
    return ok;
}

/* x += post_norm(mlp(xn)) chunk by chunk: gated (down(act(gate) * up)) or
 * plain (down(act(up + b) ) + b, GPT-NeoX). */
static ss_code mlp(const ss_model *m, const ss_layer_weights *lw, workspace *w, int n,
                   int *finite, ss_error *err)
{
    *finite = 1;
    const ss_config *c = &m->cfg;
    for (int r0 = 0; r0 < n; r0 += MLP_CHUNK) {
        int nr = n - r0 < MLP_CHUNK ? n - r0 : MLP_CHUNK;
        const float *xin = w->xn + (int64_t)r0 * c->d_model;
        ss_code rc;
        if ((lw->w_gate &&
             (rc = ss_linear(xin, c->d_model, nr, lw->w_gate, NULL, w->gate, c->d_ff, &w->scratch, err))) ||
            (rc = ss_linear(xin, c->d_model, nr, lw->w_up, lw->b_up, w->up, c->d_ff, &w->scratch, err)))
            return rc;
        ss_timing_mark("MLP: gate, up");
        int64_t total = (int64_t)nr * c->d_ff;
        ss_activation act = c->act;
        if (lw->w_gate && act == SS_ACT_SILU) {
            #pragma omp parallel for schedule(static) if (total >= PAR_MIN)
            for (int r = 0; r < nr; r++)
                silu_gate_row(w->gate + (int64_t)r * c->d_ff, w->up + (int64_t)r * c->d_ff, c->d_ff);
        } else if (lw->w_gate) {
            #pragma omp parallel for schedule(static) if (total >= PAR_MIN)
            for (int64_t j = 0; j < total; j++)
                w->gate[j] = activate(act, w->gate[j]) * w->up[j];
        } else {
            #pragma omp parallel for schedule(static) if (total >= PAR_MIN)
            for (int64_t j = 0; j < total; j++)
                w->gate[j] = activate(act, w->up[j]);
        }
        ss_timing_mark("MLP: activation");
        /* x += gate . W_down^T: BLAS with beta = 1 would need the weight as
         * F32; go through the up buffer and add instead */
        if ((rc = ss_linear(w->gate, c->d_ff, nr, lw->w_down, lw->b_down, w->up, c->d_model,
                            &w->scratch, err)))
            return rc;
        ss_timing_mark("MLP: down");
        if (lw->post_ffn_norm)
            apply_norm(c, w, lw->post_ffn_norm, NULL, w->up, w->up, nr, c->d_model);
        *finite &= add_rows(w->x + (int64_t)r0 * c->d_model, w->up, (int64_t)nr * c->d_model);
        ss_timing_mark("MLP: add");
    }
    return SS_OK;
}

static int all_finite(const float *x, int64_t count)
{
    int ok = 1;
    for (int64_t i = 0; i < count; i++)
        ok &= isfinite(x[i]) != 0;
    return ok;
}

/* Non-finite activations: name the weight responsible when there is one
 * (layer -1: the embedding). Scanning only on failure keeps the normal path
 * free of a whole-model pass. */
static ss_code blame_nonfinite(const ss_model *m, int layer, ss_error *err)
{
    if (layer < 0) {
        if (ss_tensor_check_finite(m->tok_embd, err))
            return err->code;
        return ss_fail(err, SS_ERR_VALUE, "%s: non-finite values in the embedding", m->path);
    }
    const ss_layer_weights *lw = &m->layers[layer];
    const ss_tensor *ts[] = {lw->attn_norm, lw->attn_norm_b, lw->wq, lw->wk, lw->wv, lw->bq,
                             lw->bk, lw->bv, lw->wo, lw->bo, lw->q_norm, lw->k_norm,
                             lw->post_attn_norm, lw->ffn_norm, lw->ffn_norm_b, lw->w_gate,
                             lw->w_up, lw->w_down, lw->b_up, lw->b_down, lw->post_ffn_norm};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        if (ts[i] && ss_tensor_check_finite(ts[i], err))
            return err->code;
    return ss_fail(err, SS_ERR_VALUE,
                   "%s: activations became NaN or infinite in layer %d although its weights are "
                   "finite (an fp32 overflow)", m->path, layer);
}

/* q_norm / k_norm: RMSNorm over each head's d_head values (Qwen3, Gemma 3)
 * or over the whole projection (OLMo 2), in the checkpoint's dim order. */
static void qk_norm(const ss_config *c, workspace *w, const ss_tensor *t, float *x, int n,
                    int heads)
{
    if (c->qk_norm == SS_QKNORM_HEAD)
        rmsnorm(x, x, n * heads, c->d_head, ss_vector_f32(t, w->norm_w), c->norm_eps,
                c->norm_add_one);
    else
        rmsnorm(x, x, n, heads * c->d_head, ss_vector_f32(t, w->norm_w), c->norm_eps,
                c->norm_add_one);
}

/* q, k, v of the layer from its attention input, up to the pre-RoPE q/k the
 * observers see: projections with biases, q/k norms, half pairing. */
static ss_code project_qkv(const ss_model *m, const ss_layer_weights *lw, workspace *w,
                           const float *in, int n, ss_error *err)
{
    const ss_config *c = &m->cfg;
    int64_t qd = (int64_t)c->n_head * c->d_head, kvd = (int64_t)c->n_kv_head * c->d_head;
    ss_code rc;
    if ((rc = ss_linear(in, c->d_model, n, lw->wq, lw->bq, w->q, qd, &w->scratch, err)) ||
        (rc = ss_linear(in, c->d_model, n, lw->wk, lw->bk, w->k, kvd, &w->scratch, err)) ||
        (rc = ss_linear(in, c->d_model, n, lw->wv, lw->bv, w->v, kvd, &w->scratch, err)))
        return rc;
    if (lw->q_norm)
        qk_norm(c, w, lw->q_norm, w->q, n, c->n_head);
    if (lw->k_norm)
        qk_norm(c, w, lw->k_norm, w->k, n, c->n_kv_head);
    if (c->pairing == SS_PAIR_INTERLEAVED) {
        interleaved_to_half(w->q, qd, n, c->n_head, c->d_head);
        interleaved_to_half(w->k, kvd, n, c->n_kv_head, c->d_head);
    }
    return SS_OK;
}

/* Before the layer's rotation: the heads of layer l with their own schedule
 * get their pre-RoPE query and keys copied and rotated by it. */
static void head_rope_layer(const ss_config *c, workspace *w, int l, int n)
{
    if (!w->n_hr)
        return;
    int64_t qd = (int64_t)c->n_head * c->d_head, kvd = (int64_t)c->n_kv_head * c->d_head;
    size_t row = (size_t)c->d_head * sizeof(float);
    for (int h = 0; h < c->n_head; h++)
        w->hr_of_head[h] = -1;
    for (int s = 0; s < w->n_hr; s++) {
        struct head_rope_slot *hs = &w->hr[s];
        if (hs->e->layer != l)
            continue;
        int h = hs->e->head, g = h / (c->n_head / c->n_kv_head);
        for (int i = 0; i < n; i++) {
            memcpy(hs->q + (int64_t)i * c->d_head, w->q + i * qd + (int64_t)h * c->d_head, row);
            memcpy(hs->k + (int64_t)i * c->d_head, w->k + i * kvd + (int64_t)g * c->d_head, row);
        }
        ss_rope_table_apply_qk(&hs->table, hs->q, c->d_head, 1, hs->k, c->d_head, 1, c->d_head);
        w->hr_of_head[h] = s;
    }
}

/* The slots of opts->head_rope: each head's schedule is its layer's (under
 * the caller's global edits) with the entry's frequencies removed. */
static ss_code head_rope_alloc(const ss_model *m, const ss_forward_opts *o, workspace *w, int n,
                               ss_error *err)
{
    const ss_head_rope *hr = o->head_rope;
    if (!hr || !hr->n)
        return SS_OK;
    const ss_config *c = &m->cfg;
    w->hr = ss_calloc((size_t)hr->n, sizeof *w->hr, "per-head RoPE", err);
    w->hr_of_head = ss_calloc((size_t)c->n_head, sizeof *w->hr_of_head, "per-head RoPE", err);
    if (!w->hr || !w->hr_of_head)
        return SS_ERR_NOMEM;
    for (int i = 0; i < hr->n; i++) {
        const ss_head_rope_entry *e = &hr->e[i];
        if (e->layer < 0 || e->layer >= c->n_layer || e->head < 0 || e->head >= c->n_head)
            return ss_fail(err, SS_ERR_USAGE, "per-head RoPE removal: no head L%dH%d (the "
                           "model has %d layers x %d heads)", e->layer, e->head, c->n_layer,
                           c->n_head);
        struct head_rope_slot *hs = &w->hr[w->n_hr++];
        hs->e = e;
        ss_rope scratch;
        hs->rope = *ss_layer_rope_override(m, e->layer, o->rope, &scratch);
        for (int f = 0; f < hs->rope.n_freq; f++)
            if (e->removed[f])
                hs->rope.active[f] = 0;
        if (!(hs->q = ss_calloc((size_t)n * c->d_head, sizeof *hs->q, "per-head RoPE", err)) ||
            !(hs->k = ss_calloc((size_t)n * c->d_head, sizeof *hs->k, "per-head RoPE", err)))
            return SS_ERR_NOMEM;
        ss_code rc = ss_rope_table_build(&hs->table, &hs->rope, n, err);
        if (rc)
            return rc;
    }
    return SS_OK;
}

/* One block. Sequential: x += post(attn(norm(x))); x += post(mlp(norm(x))).
 * Parallel residual (GPT-NeoX): x += attn(norm1(x)) + mlp(norm2(x)). A
 * missing pre-norm (OLMo 2) feeds x itself. */
static ss_code run_layer(const ss_model *m, int l, workspace *w, int n, int block,
                         const ss_forward_opts *o, ss_error *err)
{
    const ss_config *c = &m->cfg;
    const ss_layer_weights *lw = &m->layers[l];
    int64_t qd = (int64_t)c->n_head * c->d_head, kvd = (int64_t)c->n_kv_head * c->d_head;
    int64_t size = (int64_t)n * c->d_model;
    ss_code rc;
    const float *in = w->x;
    if (lw->attn_norm) {
        apply_norm(c, w, lw->attn_norm, lw->attn_norm_b, w->x, w->xn, n, c->d_model);
        in = w->xn;
        ss_timing_mark("layer: norms");
    }
    if ((rc = project_qkv(m, lw, w, in, n, err)))
        return rc;
    ss_timing_mark("layer: q, k, v");
    for (int i = 0; i < o->n_observers; i++)
        if (o->observers[i].on_layer &&
            (rc = o->observers[i].on_layer(o->observers[i].ctx, l, n, in, w->q, w->k, err)))
            return observer_code(rc, "at", l, -1, err);
    ss_timing_mark("layer: on_layer");
    head_rope_layer(c, w, l, n);
    const ss_rope_table *rt = ss_layer_rope(m, l) == &m->rope ? &w->rope : &w->rope_local;
    ss_rope_table_apply_qk(rt, w->q, qd, c->n_head, w->k, kvd, c->n_kv_head, c->d_head);
    ss_timing_mark("layer: RoPE");
    int bad_head;
    ss_code probs_rc = attention(c, w, n, block, o, l, &bad_head);
    ss_timing_mark("layer: attention");
    if (probs_rc && probs_rc != SS_STOP)
        return observer_code(probs_rc, "on the attention of", l, bad_head, err);
    for (int i = 0; i < o->n_observers; i++)
        if (o->observers[i].on_layer_done &&
            (rc = o->observers[i].on_layer_done(o->observers[i].ctx, l, err)))
            return observer_code(rc, "after", l, -1, err);
    ss_timing_mark("layer: on_layer_done");
    if (probs_rc)
        return SS_STOP;
    if (o->edit_heads && (rc = o->edit_heads(o->edit_ctx, l, n, w->att, err)))
        return rc;
    if ((rc = ss_linear(w->att, qd, n, lw->wo, lw->bo, w->ao, c->d_model, &w->scratch, err)))
        return rc;
    ss_timing_mark("layer: o");
    if (lw->post_attn_norm)
        apply_norm(c, w, lw->post_attn_norm, NULL, w->ao, w->ao, n, c->d_model);
    if (!c->parallel_residual)
        add_rows(w->x, w->ao, size);
    if (lw->ffn_norm)
        apply_norm(c, w, lw->ffn_norm, lw->ffn_norm_b, w->x, w->xn, n, c->d_model);
    else
        memcpy(w->xn, w->x, (size_t)size * sizeof *w->xn);
    ss_timing_mark("layer: norms");
    int finite; /* of x as it leaves the layer: the MLP's sums, or the last sum */
    if ((rc = mlp(m, lw, w, n, &finite, err)))
        return rc;
    if (c->parallel_residual)
        finite = add_rows(w->x, w->ao, size);
    if (!finite)
        return blame_nonfinite(m, l, err);
    ss_timing_mark("layer: residual, checks");
    return SS_OK;
}

static ss_code check_input(const ss_model *m, const int32_t *ids, int n, const ss_forward_opts *o,
                           ss_error *err)
{
    if (n < 1)
        return ss_fail(err, SS_ERR_VALUE, "the token sequence is empty");
    if (n > m->cfg.ctx_len && !o->allow_long)
        return ss_fail(err, SS_ERR_VALUE,
                       "the sequence has %d tokens, more than the model's context of %d (pass "
                       "allow_long to run it anyway)", n, m->cfg.ctx_len);
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= m->cfg.vocab)
            return ss_fail(err, SS_ERR_VALUE,
                           "token id %d at position %d is outside the vocabulary (0..%d)", ids[i],
                           i, m->cfg.vocab - 1);
    if (o->rope && o->rope->n_freq != m->rope.n_freq)
        return ss_fail(err, SS_ERR_USAGE, "RoPE schedule has %d frequencies, the model %d",
                       o->rope->n_freq, m->rope.n_freq);
    return SS_OK;
}

ss_code ss_forward(const ss_model *m, const int32_t *ids, int n, const ss_forward_opts *opts,
                   float *logits, ss_error *err)
{
    static const ss_forward_opts defaults = {0};
    const ss_forward_opts *o = opts ? opts : &defaults;
    const ss_config *c = &m->cfg;
    ss_code rc = check_input(m, ids, n, o, err);
    if (rc)
        return rc;
    int block = o->block_rows > 0 ? o->block_rows : 64;
    int layers = o->n_layers > 0 && o->n_layers < c->n_layer ? o->n_layers : c->n_layer;
    workspace w;
    ss_timing_mark("before the forward pass");
    if ((rc = workspace_alloc(&w, c, n, block, err)))
        return rc;
    if ((rc = ss_rope_table_build(&w.rope, o->rope ? o->rope : &m->rope, n, err)) ||
        (rc = head_rope_alloc(m, o, &w, n, err)))
        goto done;
    for (int l = 0; l < c->n_layer; l++)
        if (ss_layer_rope(m, l) == &m->rope_local) { /* Gemma 3's local layers */
            const ss_rope *local = ss_layer_rope_override(m, l, o->rope, &w.local_override);
            if ((rc = ss_rope_table_build(&w.rope_local, local, n, err)))
                goto done;
            break;
        }
    embed(m, ids, n, w.x);
    ss_timing_mark("forward: set-up, embedding");
    if (!all_finite(w.x, (int64_t)n * c->d_model)) {
        rc = blame_nonfinite(m, -1, err);
        goto done;
    }
    for (int l = 0; l < layers; l++) {
        if ((rc = run_layer(m, l, &w, n, block, o, err)))
            goto done;
        if (o->progress)
            ss_progress_update(o->progress, l + 1, NULL);
    }
    if (logits && layers == c->n_layer) {
        int first = o->last_logits_only ? n - 1 : 0, rows = n - first;
        apply_norm(c, &w, m->out_norm, m->out_norm_b, w.x + (int64_t)first * c->d_model, w.xn,
                   rows, c->d_model);
        if ((rc = ss_linear(w.xn, c->d_model, rows, m->output, NULL, logits, c->vocab, &w.scratch, err)))
            goto done;
        if (c->final_softcap > 0) { /* Gemma 2: cap tanh(z / cap) */
            float cap = (float)c->final_softcap;
            for (int64_t j = 0; j < (int64_t)rows * c->vocab; j++)
                logits[j] = cap * tanhf(logits[j] / cap);
        }
        if (!all_finite(logits, (int64_t)rows * c->vocab)) {
            if (!ss_tensor_check_finite(m->out_norm, err) && !ss_tensor_check_finite(m->output, err))
                ss_fail(err, SS_ERR_VALUE, "%s: non-finite logits", m->path);
            rc = err->code;
        }
    }
done:
    workspace_free(&w);
    ss_timing_mark("forward: logits, free");
    return rc;
}

ss_attn_layer ss_attn_layer_of(const ss_config *c, int l)
{
    ss_attn_layer al = {c->attn_scale, c->attn_softcap, ss_layer_window(c, l)};
    return al;
}

int64_t ss_rescore_floats(int n, int d_head, int block_rows)
{
    return 2 * (int64_t)n * d_head +
           ss_attend_scratch_floats(n, d_head, block_rows > 0 ? block_rows : 64);
}

/* The kernel's view of one head of n rows re-scored with layer al's details. */
static ss_head_attn rescore_head(const float *q, int64_t ldq, const float *k, int64_t ldk, int n,
                                 int d_head, const ss_attn_layer *al, int block_rows)
{
    ss_head_attn a = {.q = q, .ldq = ldq, .k = k, .ldk = ldk, .n = n, .d_head = d_head,
                      .block_rows = block_rows > 0 ? block_rows : 64, .scale = (float)al->scale,
                      .softcap = (float)al->softcap, .window = al->window};
    return a;
}

/* One head's q and k rotated by t into work (then the kernel's scratch). */
static ss_head_attn rescore_setup(const float *q, int64_t ldq, const float *k, int64_t ldk,
                                  int d_head, const ss_rope_table *t, const ss_attn_layer *al,
                                  int block_rows, float *work)
{
    int n = t->n;
    float *qr = work, *kr = work + (int64_t)n * d_head;
    for (int i = 0; i < n; i++) {
        memcpy(qr + (int64_t)i * d_head, q + (int64_t)i * ldq, (size_t)d_head * 4);
        memcpy(kr + (int64_t)i * d_head, k + (int64_t)i * ldk, (size_t)d_head * 4);
    }
    ss_rope_table_apply_qk(t, qr, d_head, 1, kr, d_head, 1, d_head);
    return rescore_head(qr, d_head, kr, d_head, n, d_head, al, block_rows);
}

ss_code ss_head_probs_table(const float *q, int64_t ldq, const float *k, int64_t ldk, int d_head,
                            const ss_rope_table *t, const ss_attn_layer *al, int block_rows,
                            int head_tag, ss_probs_cb cb, void *ctx, ss_error *err)
{
    float *work = ss_aligned_calloc((size_t)ss_rescore_floats(t->n, d_head, block_rows), 4,
                                    "re-scored head", err);
    if (!work)
        return SS_ERR_NOMEM;
    ss_head_attn a = rescore_setup(q, ldq, k, ldk, d_head, t, al, block_rows, work);
    ss_attend_head(&a, work + 2 * (int64_t)t->n * d_head, cb, ctx, head_tag);
    free(work);
    return SS_OK;
}

void ss_head_slash_table(const float *q, int64_t ldq, const float *k, int64_t ldk, int d_head,
                         const ss_rope_table *t, const ss_attn_layer *al, int block_rows,
                         float *work, double *rdiag, int skip)
{
    ss_head_attn a = rescore_setup(q, ldq, k, ldk, d_head, t, al, block_rows, work);
    ss_attend_head_slash(&a, work + 2 * (int64_t)t->n * d_head, rdiag, skip);
}

/* The dims where tables t[0..n_var) rotate differently: both dims of every
 * frequency whose active flag, angle or factor is not the same in all. */
static int differing_dims(const ss_rope_table *const *t, int n_var, int d_head, int *dims)
{
    int F = t[0]->n_freq, nu = 0;
    unsigned char differ[SS_ROPE_MAX_FREQ] = {0};
    for (int v = 1; v < n_var; v++)
        for (int f = 0; f < F; f++)
            differ[f] |= t[v]->n_freq != F || t[v]->factor != t[0]->factor ||
                         t[v]->rope->active[f] != t[0]->rope->active[f] ||
                         t[v]->rope->theta[f] != t[0]->rope->theta[f];
    for (int half = 0; half < 2; half++)
        for (int f = 0; f < F; f++)
            if (differ[f] && half * F + f < d_head)
                dims[nu++] = half * F + f;
    return nu;
}

int64_t ss_rescore_shared_floats(int n, int d_head, int block_rows, const ss_rope_table *const *t,
                                 int n_var)
{
    int dims_u[2 * SS_ROPE_MAX_FREQ];
    int nu = n_var > 0 ? differing_dims(t, n_var, d_head, dims_u) : 0;
    /* the kernel reads q and k where they are: its scratch is all; else
     * each variant on its own, one after the other in the same work */
    if (ss_attend_shared_fits(d_head, n_var, nu))
        return ss_attend_shared_floats(n, d_head, block_rows, n_var, nu);
    return ss_rescore_floats(n, d_head, block_rows);
}

void ss_head_slash_shared(const float *q, int64_t ldq, const float *k, int64_t ldk, int d_head,
                          const ss_rope_table *const *t, int n_var, const ss_attn_layer *al,
                          int block_rows, float *work, double *const *rdiag, int skip)
{
    int dims_u[2 * SS_ROPE_MAX_FREQ];
    int nu = differing_dims(t, n_var, d_head, dims_u);
    if (!ss_attend_shared_fits(d_head, n_var, nu)) {
        for (int v = 0; v < n_var; v++)
            ss_head_slash_table(q, ldq, k, ldk, d_head, t[v], al, block_rows, work, rdiag[v],
                                skip);
        return;
    }
    ss_head_attn a = rescore_head(q, ldq, k, ldk, t[0]->n, d_head, al, block_rows);
    ss_attend_shared_slash(&a, t, n_var, dims_u, nu, work, rdiag, skip);
}

ss_code ss_head_probs(const float *q, int64_t ldq, const float *k, int64_t ldk, int n,
                      int d_head, const ss_rope *rope, double scale, int block_rows,
                      int head_tag, ss_probs_cb cb, void *ctx, ss_error *err)
{
    ss_rope_table table = {0};
    ss_code rc = ss_rope_table_build(&table, rope, n, err);
    ss_attn_layer al = {scale, 0, 0};
    if (!rc)
        rc = ss_head_probs_table(q, ldq, k, ldk, d_head, &table, &al, block_rows, head_tag, cb,
                                 ctx, err);
    ss_rope_table_free(&table);
    return rc;
}
