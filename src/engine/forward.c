#include "engine/forward.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "engine/attention.h"
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

typedef struct {
    float *x, *xn, *q, *k, *v, *att, *gate, *up, *norm_w, *scores;
    int n_threads;
    ss_scratch scratch;
    ss_rope_table rope;
} workspace;

static void workspace_free(workspace *w)
{
    free(w->x); free(w->xn); free(w->q); free(w->k); free(w->v); free(w->att);
    free(w->gate); free(w->up); free(w->norm_w); free(w->scores); free(w->scratch.buf);
    ss_rope_table_free(&w->rope);
}

uint64_t ss_forward_bytes(const ss_config *c, int n, int block, int threads)
{
    uint64_t N = (uint64_t)n, qd = (uint64_t)c->n_head * c->d_head;
    uint64_t kvd = (uint64_t)c->n_kv_head * c->d_head;
    uint64_t chunk = n < MLP_CHUNK ? N : MLP_CHUNK;
    uint64_t floats = N * (2 * (uint64_t)c->d_model + 2 * qd + 2 * kvd) +
                      2 * chunk * (uint64_t)c->d_ff + (uint64_t)c->d_model +
                      (uint64_t)threads * (uint64_t)block * N;
    uint64_t rope = N * (uint64_t)(c->d_head / 2) * 2 * sizeof(double);
    return 4 * floats + rope;
}

static ss_code workspace_alloc(workspace *w, const ss_config *c, int n, int block, ss_error *err)
{
    memset(w, 0, sizeof *w);
    size_t N = (size_t)n, qd = (size_t)c->n_head * c->d_head, kvd = (size_t)c->n_kv_head * c->d_head;
    size_t chunk = n < MLP_CHUNK ? N : MLP_CHUNK;
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
    if (!(w->x = ss_aligned_calloc(N * c->d_model, 4, "hidden states", err)) ||
        !(w->xn = ss_aligned_calloc(N * c->d_model, 4, "normed states", err)) ||
        !(w->q = ss_aligned_calloc(N * qd, 4, "queries", err)) ||
        !(w->k = ss_aligned_calloc(N * kvd, 4, "keys", err)) ||
        !(w->v = ss_aligned_calloc(N * kvd, 4, "values", err)) ||
        !(w->att = ss_aligned_calloc(N * qd, 4, "attention output", err)) ||
        !(w->gate = ss_aligned_calloc(chunk * c->d_ff, 4, "MLP gate", err)) ||
        !(w->up = ss_aligned_calloc(chunk * c->d_ff, 4, "MLP up", err)) ||
        !(w->norm_w = ss_aligned_calloc((size_t)c->d_model, 4, "norm weight", err)) ||
        !(w->scores = ss_aligned_calloc((size_t)w->n_threads * block * N, 4, "attention block", err))) {
        workspace_free(w);
        return SS_ERR_NOMEM;
    }
    return SS_OK;
}

/* out = x / rms(x) * w (or * (1 + w)); the mean square in double. */
static void rmsnorm(const float *x, float *out, int n, int d, const float *w, double eps,
                    int add_one)
{
    #pragma omp parallel for schedule(static) if ((int64_t)n * d >= PAR_MIN)
    for (int i = 0; i < n; i++) {
        const float *xi = x + (int64_t)i * d;
        double ss = 0.0;
        for (int j = 0; j < d; j++)
            ss += (double)xi[j] * xi[j];
        float r = (float)(1.0 / sqrt(ss / d + eps));
        float *oi = out + (int64_t)i * d;
        for (int j = 0; j < d; j++)
            oi[j] = (xi[j] * r) * (add_one ? 1.0f + w[j] : w[j]);
    }
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

/* Returns the first non-OK code an on_probs call returned (SS_OK if none),
 * with *head its head. */
static ss_code attention(const ss_config *c, workspace *w, int n, int block,
                         const ss_forward_opts *o, int layer, int *bad_head)
{
    int64_t qd = (int64_t)c->n_head * c->d_head, kvd = (int64_t)c->n_kv_head * c->d_head;
    int group = c->n_head / c->n_kv_head;
    probs_fanout fan = {o->observers, o->n_observers, layer, SS_OK, -1};
    int any_probs = 0;
    for (int i = 0; i < o->n_observers; i++)
        any_probs |= o->observers[i].on_probs != NULL;
    /* One head per task, its blocks in order: observers get per-head
     * sequential calls and results do not depend on the thread count. */
    #pragma omp parallel for schedule(dynamic, 1) if ((int64_t)n * n * c->d_head >= PAR_MIN)
    for (int h = 0; h < c->n_head; h++) {
        int g = h / group;
        ss_head_attn a = {
            .q = w->q + (int64_t)h * c->d_head, .ldq = qd,
            .k = w->k + (int64_t)g * c->d_head, .ldk = kvd,
            .v = w->v + (int64_t)g * c->d_head, .ldv = kvd,
            .out = w->att + (int64_t)h * c->d_head, .ldo = qd,
            .n = n, .d_head = c->d_head, .block_rows = block, .window = c->sliding_window,
            .scale = (float)c->attn_scale,
        };
        float *scores = w->scores + (size_t)omp_get_thread_num() * block * n;
        ss_attend_head(&a, scores, any_probs ? fan_out_probs : NULL, &fan, h);
    }
    *bad_head = fan.head;
    return (ss_code)fan.code;
}

static float gelu_tanh(float x)
{
    const float k = 0.7978845608028654f; /* sqrt(2 / pi) */
    return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

static ss_code mlp(const ss_model *m, const ss_layer_weights *lw, workspace *w, int n,
                   ss_error *err)
{
    const ss_config *c = &m->cfg;
    for (int r0 = 0; r0 < n; r0 += MLP_CHUNK) {
        int nr = n - r0 < MLP_CHUNK ? n - r0 : MLP_CHUNK;
        const float *xin = w->xn + (int64_t)r0 * c->d_model;
        ss_code rc;
        if ((rc = ss_linear(xin, c->d_model, nr, lw->w_gate, NULL, w->gate, c->d_ff, &w->scratch, err)) ||
            (rc = ss_linear(xin, c->d_model, nr, lw->w_up, NULL, w->up, c->d_ff, &w->scratch, err)))
            return rc;
        int64_t total = (int64_t)nr * c->d_ff;
        int gelu = c->act == SS_ACT_GELU_TANH;
        #pragma omp parallel for schedule(static) if (total >= PAR_MIN)
        for (int64_t j = 0; j < total; j++) {
            float g = w->gate[j];
            w->gate[j] = (gelu ? gelu_tanh(g) : g / (1.0f + expf(-g))) * w->up[j];
        }
        /* x += gate . W_down^T: BLAS with beta = 1 would need the weight as
         * F32; go through the up buffer and add instead */
        if ((rc = ss_linear(w->gate, c->d_ff, nr, lw->w_down, NULL, w->up, c->d_model, &w->scratch, err)))
            return rc;
        float *x = w->x + (int64_t)r0 * c->d_model;
        for (int64_t j = 0; j < (int64_t)nr * c->d_model; j++)
            x[j] += w->up[j];
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
    const ss_tensor *ts[] = {lw->attn_norm, lw->wq, lw->wk, lw->wv, lw->wo, lw->bq, lw->bk,
                             lw->bv, lw->ffn_norm, lw->w_gate, lw->w_up, lw->w_down};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        if (ts[i] && ss_tensor_check_finite(ts[i], err))
            return err->code;
    return ss_fail(err, SS_ERR_VALUE,
                   "%s: activations became NaN or infinite in layer %d although its weights are "
                   "finite (an fp32 overflow)", m->path, layer);
}

static ss_code run_layer(const ss_model *m, int l, workspace *w, int n, int block,
                         const ss_forward_opts *o, ss_error *err)
{
    const ss_config *c = &m->cfg;
    const ss_layer_weights *lw = &m->layers[l];
    int64_t qd = (int64_t)c->n_head * c->d_head, kvd = (int64_t)c->n_kv_head * c->d_head;
    ss_code rc;
    const float *nw = ss_vector_f32(lw->attn_norm, w->norm_w);
    rmsnorm(w->x, w->xn, n, c->d_model, nw, c->norm_eps, c->norm_add_one);
    if ((rc = ss_linear(w->xn, c->d_model, n, lw->wq, lw->bq, w->q, qd, &w->scratch, err)) ||
        (rc = ss_linear(w->xn, c->d_model, n, lw->wk, lw->bk, w->k, kvd, &w->scratch, err)) ||
        (rc = ss_linear(w->xn, c->d_model, n, lw->wv, lw->bv, w->v, kvd, &w->scratch, err)))
        return rc;
    if (c->pairing == SS_PAIR_INTERLEAVED) {
        interleaved_to_half(w->q, qd, n, c->n_head, c->d_head);
        interleaved_to_half(w->k, kvd, n, c->n_kv_head, c->d_head);
    }
    for (int i = 0; i < o->n_observers; i++)
        if (o->observers[i].on_layer &&
            (rc = o->observers[i].on_layer(o->observers[i].ctx, l, n, w->xn, w->q, w->k, err)))
            return observer_code(rc, "at", l, -1, err);
    ss_rope_table_apply(&w->rope, w->q, qd, c->n_head, c->d_head);
    ss_rope_table_apply(&w->rope, w->k, kvd, c->n_kv_head, c->d_head);
    int bad_head;
    ss_code probs_rc = attention(c, w, n, block, o, l, &bad_head);
    if (probs_rc && probs_rc != SS_STOP)
        return observer_code(probs_rc, "on the attention of", l, bad_head, err);
    for (int i = 0; i < o->n_observers; i++)
        if (o->observers[i].on_layer_done &&
            (rc = o->observers[i].on_layer_done(o->observers[i].ctx, l, err)))
            return observer_code(rc, "after", l, -1, err);
    if (probs_rc)
        return SS_STOP;
    /* x += att . W_o^T, through the xn buffer (free until the next norm) */
    if ((rc = ss_linear(w->att, qd, n, lw->wo, NULL, w->xn, c->d_model, &w->scratch, err)))
        return rc;
    for (int64_t j = 0; j < (int64_t)n * c->d_model; j++)
        w->x[j] += w->xn[j];
    nw = ss_vector_f32(lw->ffn_norm, w->norm_w);
    rmsnorm(w->x, w->xn, n, c->d_model, nw, c->norm_eps, c->norm_add_one);
    if ((rc = mlp(m, lw, w, n, err)))
        return rc;
    if (!all_finite(w->x, (int64_t)n * c->d_model))
        return blame_nonfinite(m, l, err);
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
    if ((rc = workspace_alloc(&w, c, n, block, err)))
        return rc;
    if ((rc = ss_rope_table_build(&w.rope, o->rope ? o->rope : &m->rope, n, err)))
        goto done;
    embed(m, ids, n, w.x);
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
        const float *nw = ss_vector_f32(m->out_norm, w.norm_w);
        rmsnorm(w.x + (int64_t)first * c->d_model, w.xn, rows, c->d_model, nw, c->norm_eps,
                c->norm_add_one);
        if ((rc = ss_linear(w.xn, c->d_model, rows, m->output, NULL, logits, c->vocab, &w.scratch, err)))
            goto done;
        if (!all_finite(logits, (int64_t)rows * c->vocab)) {
            if (!ss_tensor_check_finite(m->out_norm, err) && !ss_tensor_check_finite(m->output, err))
                ss_fail(err, SS_ERR_VALUE, "%s: non-finite logits", m->path);
            rc = err->code;
        }
    }
done:
    workspace_free(&w);
    return rc;
}

ss_code ss_head_probs_table(const float *q, int64_t ldq, const float *k, int64_t ldk, int d_head,
                            const ss_rope_table *t, double scale, int block_rows, int head_tag,
                            ss_probs_cb cb, void *ctx, ss_error *err)
{
    int n = t->n, block = block_rows > 0 ? block_rows : 64;
    float *qr = ss_aligned_calloc((size_t)n * d_head, 4, "rotated queries", err);
    float *kr = qr ? ss_aligned_calloc((size_t)n * d_head, 4, "rotated keys", err) : NULL;
    float *scores = kr ? ss_aligned_calloc((size_t)block * n, 4, "attention block", err) : NULL;
    if (scores) {
        for (int i = 0; i < n; i++) {
            memcpy(qr + (int64_t)i * d_head, q + (int64_t)i * ldq, (size_t)d_head * 4);
            memcpy(kr + (int64_t)i * d_head, k + (int64_t)i * ldk, (size_t)d_head * 4);
        }
        ss_rope_table_apply(t, qr, d_head, 1, d_head);
        ss_rope_table_apply(t, kr, d_head, 1, d_head);
        ss_head_attn a = {.q = qr, .ldq = d_head, .k = kr, .ldk = d_head, .n = n,
                          .d_head = d_head, .block_rows = block, .scale = (float)scale};
        ss_attend_head(&a, scores, cb, ctx, head_tag);
    }
    free(scores);
    free(kr);
    free(qr);
    return scores ? SS_OK : SS_ERR_NOMEM;
}

ss_code ss_head_probs(const float *q, int64_t ldq, const float *k, int64_t ldk, int n,
                      int d_head, const ss_rope *rope, double scale, int block_rows,
                      int head_tag, ss_probs_cb cb, void *ctx, ss_error *err)
{
    ss_rope_table table = {0};
    ss_code rc = ss_rope_table_build(&table, rope, n, err);
    if (!rc)
        rc = ss_head_probs_table(q, ldq, k, ldk, d_head, &table, scale, block_rows, head_tag, cb,
                                 ctx, err);
    ss_rope_table_free(&table);
    return rc;
}
