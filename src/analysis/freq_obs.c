#include "analysis/freq_obs.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/slash.h"
#include "analysis/freq_result.h"
#include "common/mem.h"
#include "engine/forward.h"

ss_code ss_ablation_make(ss_ablation *ab, const char *name, const ss_rope *base, const int *l,
                         int n, ss_error *err)
{
    memset(ab, 0, sizeof *ab);
    snprintf(ab->name, sizeof ab->name, "%s", name);
    ab->rope = *base;
    if (n < 0 || n > base->n_freq)
        return ss_fail(err, SS_ERR_USAGE, "ablation %s: %d frequencies to remove, the model has "
                       "%d", name, n, base->n_freq);
    ss_code rc = ss_rope_remove(&ab->rope, l, n, err);
    if (rc)
        return rc;
    /* keep the list sorted and without repeats, as it is written out */
    unsigned char seen[SS_ROPE_MAX_FREQ] = {0};
    for (int i = 0; i < n; i++)
        seen[l[i] - 1] = 1;
    for (int f = 0; f < base->n_freq; f++)
        if (seen[f])
            ab->removed[ab->n_removed++] = f + 1;
    return SS_OK;
}

/* Operations below which the usage loop stays on the calling thread: waking
 * a thread team costs more than that on a busy machine. */
#define USAGE_PARALLEL_MIN 4e6

static void pick_rows(ss_freq_acc *a)
{
    int lo = a->o.skip, hi = a->n - 1, want = a->o.inp_rows;
    a->n_rows = 0;
    if (lo > hi)
        return;
    int avail = hi - lo + 1;
    if (want >= avail) {
        for (int i = lo; i <= hi; i++)
            a->rows[a->n_rows++] = i;
        return;
    }
    if (want == 1) {
        a->rows[a->n_rows++] = hi;
        return;
    }
    for (int t = 0; t < want; t++) {
        int i = lo + (int)floor((double)t * (hi - lo) / (want - 1));
        if (a->n_rows == 0 || i != a->rows[a->n_rows - 1])
            a->rows[a->n_rows++] = i;
    }
}

ss_code ss_freq_acc_init(ss_freq_acc *a, const ss_config *c, const ss_rope *rope, int n,
                         const ss_head_ref *sel, int n_sel, ss_ablation *abl, int n_abl,
                         const ss_freq_opts *o, ss_error *err)
{
    memset(a, 0, sizeof *a);
    if (n < 1 || n_sel < 0 || n_abl < 0 || o->inp_rows < 1 || o->skip < 0 || o->max_delta < 0 ||
        o->row < 0 || o->row >= n)
        return ss_fail(err, SS_ERR_USAGE, "freq: prompt length %d, InP row %d (must be below "
                       "the length), %d InP rows, skip %d, max offset %d: out of range", n,
                       o->row, o->inp_rows, o->skip, o->max_delta);
    int rot = c->rotary_dim > 0 ? c->rotary_dim : c->d_head;
    if (rope->n_freq != rot / 2)
        return ss_fail(err, SS_ERR_USAGE, "freq: RoPE schedule has %d frequencies, the heads %d",
                       rope->n_freq, rot / 2);
    a->n_layer = c->n_layer;
    a->n_head = c->n_head;
    a->n_kv_head = c->n_kv_head;
    a->d_head = c->d_head;
    a->n_freq = rope->n_freq;
    a->n = n;
    a->scale = c->attn_scale;
    a->o = *o;
    a->rope = *rope;
    a->n_sel = n_sel;
    a->abl = abl;
    a->n_abl = n_abl;
    a->n_var = n_abl + 1;
    size_t L = (size_t)c->n_layer, H = (size_t)c->n_head, F = (size_t)a->n_freq;
    size_t S = n_sel > 0 ? (size_t)n_sel : 1, V = (size_t)a->n_var, N = (size_t)n;
    size_t D = (size_t)o->max_delta + 1;
    ss_code rc = SS_OK;
    if (!(a->sel = ss_calloc(S, sizeof *a->sel, "head list", err)) ||
        !(a->slot_of = ss_calloc(L * H, sizeof(int), "head slots", err)) ||
        !(a->rows = ss_calloc(N, sizeof(int), "InP rows", err)) ||
        !(a->diag = ss_calloc(H * V * N, sizeof(double), "diagonal sums", err)) ||
        !(a->score_sum = ss_calloc(S * V * N, sizeof(double), "slash sums", err)) ||
        !(a->score_cnt = ss_calloc(N, sizeof(int64_t), "slash counts", err)) ||
        !(a->inp = ss_calloc(S * ((size_t)o->row + 1) * F, sizeof(double), "InP rows", err)) ||
        !(a->inp_abs = ss_calloc(S * F, sizeof(double), "InP sums", err)) ||
        !(a->inp_abs_n = ss_calloc(S, sizeof(int64_t), "InP counts", err)) ||
        !(a->cs_sum = ss_calloc(S * D, sizeof(double), "alignment sums", err)) ||
        !(a->cs_min = ss_calloc(S * D, sizeof(double), "alignment minima", err)) ||
        !(a->cs_max = ss_calloc(S * D, sizeof(double), "alignment maxima", err)) ||
        !(a->cs_logit = ss_calloc(S * D, sizeof(double), "alignment sums", err)) ||
        !(a->cs_bound = ss_calloc(S * D, sizeof(double), "alignment sums", err)) ||
        !(a->cs_n = ss_calloc(S * D, sizeof(int64_t), "alignment counts", err)) ||
        !(a->use_q = ss_calloc(L * H * F, sizeof(double), "frequency usage", err)) ||
        !(a->use_k = ss_calloc(L * (size_t)c->n_kv_head * F, sizeof(double), "frequency usage",
                               err)) ||
        !(a->layer_done = ss_calloc(L, 1, "layer flags", err)) ||
        !(a->layer_slots = ss_calloc(H, sizeof(int), "layer slots", err)) ||
        !(a->abl_table = ss_calloc((size_t)n_abl, sizeof *a->abl_table, "ablation tables", err)) ||
        !(a->abl_table_local = ss_calloc((size_t)n_abl + 1, sizeof *a->abl_table_local,
                                         "ablation tables", err)) ||
        !(a->attn = ss_calloc(L, sizeof *a->attn, "layer attention", err)) ||
        !(a->local = ss_calloc(L, 1, "layer schedules", err)) ||
        !(a->nope_abs = ss_calloc(S, sizeof(double), "NoPE sums", err)))
        rc = SS_ERR_NOMEM;
    for (int l = 0; !rc && l < c->n_layer; l++) {
        a->attn[l] = ss_attn_layer_of(c, l);
        a->local[l] = ss_layer_is_local_rope(c, l);
    }
    if (!rc)
        rc = ss_inp_table_init(&a->table, rope, n, err);
    for (int v = 0; !rc && v < n_abl; v++)
        rc = ss_rope_table_build(&a->abl_table[v], &abl[v].rope, n, err);
    if (rc) {
        ss_freq_acc_free(a);
        return rc;
    }
    for (size_t i = 0; i < L * H; i++)
        a->slot_of[i] = -1;
    for (int s = 0; s < n_sel; s++) {
        if (sel[s].layer < 0 || sel[s].layer >= c->n_layer || sel[s].head < 0 ||
            sel[s].head >= c->n_head) {
            ss_freq_acc_free(a);
            return ss_fail(err, SS_ERR_USAGE, "freq: head L%dH%d is not in the model (%d layers "
                           "x %d heads)", sel[s].layer, sel[s].head, c->n_layer, c->n_head);
        }
        a->sel[s] = sel[s];
        a->slot_of[sel[s].layer * c->n_head + sel[s].head] = s;
    }
    for (size_t i = 0; i < S * D; i++) {
        a->cs_min[i] = INFINITY;
        a->cs_max[i] = -INFINITY;
    }
    pick_rows(a);
    return SS_OK;
}

ss_code ss_freq_acc_set_local(ss_freq_acc *a, const ss_rope *local, ss_error *err)
{
    if (local->n_freq != a->n_freq)
        return ss_fail(err, SS_ERR_USAGE, "freq: the local schedule has %d frequencies, the "
                       "global one %d", local->n_freq, a->n_freq);
    a->rope_local = *local;
    a->has_local = 1;
    ss_code rc = ss_inp_table_init(&a->table_local, local, a->n, err);
    for (int v = 0; !rc && v < a->n_abl; v++) {
        ss_rope r = *local;
        memcpy(r.active, a->abl[v].rope.active, sizeof r.active);
        a->abl[v].rope_local = r;
        rc = ss_rope_table_build(&a->abl_table_local[v], &a->abl[v].rope_local, a->n, err);
    }
    return rc;
}

const ss_rope *ss_freq_acc_layer_rope(const ss_freq_acc *a, int layer)
{
    return a->has_local && a->local[layer] ? &a->rope_local : &a->rope;
}

double ss_freq_acc_nope_mean_abs(const ss_freq_acc *a, int slot)
{
    int64_t cnt = a->inp_abs_n[slot];
    return cnt > 0 ? a->nope_abs[slot] / (double)cnt : NAN;
}

void ss_freq_acc_free(ss_freq_acc *a)
{
    free(a->sel); free(a->slot_of); free(a->rows); free(a->diag); free(a->score_sum);
    free(a->score_cnt); free(a->inp); free(a->inp_abs); free(a->inp_abs_n); free(a->cs_sum);
    free(a->cs_min); free(a->cs_max); free(a->cs_logit); free(a->cs_bound); free(a->cs_n);
    free(a->use_q); free(a->use_k); free(a->layer_done); free(a->layer_slots);
    ss_inp_table_free(&a->table);
    for (int v = 0; a->abl_table && v < a->n_abl; v++)
        ss_rope_table_free(&a->abl_table[v]);
    for (int v = 0; a->abl_table_local && v < a->n_abl; v++)
        ss_rope_table_free(&a->abl_table_local[v]);
    free(a->abl_table);
    free(a->abl_table_local);
    free(a->attn);
    free(a->local);
    free(a->nope_abs);
    free(a->work);
    free(a->key_norms);
    ss_inp_table_free(&a->table_local);
    memset(a, 0, sizeof *a);
}

/* Per-diagonal sums of head `head` of the layer under way and variant v,
 * reversed (ss_slash_add_rows_rev) until the layer ends: one layer's heads
 * at a time, not every chosen head's. */
static double *diag_of(const ss_freq_acc *a, int head, int v)
{
    return a->diag + ((size_t)head * a->n_var + v) * a->n;
}

/* Whether ablation v removes anything: an empty one is re-scored on its
 * own, by the kernel of the pass itself, so that it reproduces the
 * unablated scores bit for bit. */
static int shared_variant(const ss_freq_acc *a, int v)
{
    return a->abl[v].n_removed > 0;
}

static int n_shared(const ss_freq_acc *a)
{
    int k = 0;
    for (int v = 0; v < a->n_abl; v++)
        k += shared_variant(a, v);
    /* one alone shares nothing; more than the kernel takes: each on its own */
    return k < 2 || k > SS_RESCORE_MAX_VAR ? 0 : k;
}

/* The idx-th ablation re-scored on its own. */
static int solo_variant(const ss_freq_acc *a, int shared, int idx)
{
    for (int v = 0; v < a->n_abl; v++)
        if ((!shared || !shared_variant(a, v)) && idx-- == 0)
            return v;
    return -1;
}

/* The tables of the ablations re-scored together (global or local
 * schedule) into tabs, their indices into var; returns how many. */
static int shared_tables(const ss_freq_acc *a, int local, const ss_rope_table **tabs, int *var)
{
    int k = 0, any = n_shared(a);
    const ss_rope_table *all = local ? a->abl_table_local : a->abl_table;
    for (int v = 0; any && v < a->n_abl; v++)
        if (shared_variant(a, v)) {
            tabs[k] = &all[v];
            var[k++] = v;
        }
    return k;
}

/* A thread's re-scoring buffer: the single kernel's need if any ablation is
 * re-scored on its own, the shared kernel's for the schedules it runs
 * (sized by the dims they really rotate differently). */
static int64_t work_floats(const ss_freq_acc *a)
{
    int64_t need = 0;
    if (n_shared(a) < a->n_abl)
        need = ss_rescore_floats(a->n, a->d_head, a->o.block_rows);
    for (int local = 0; local <= a->has_local; local++) {
        const ss_rope_table *tabs[SS_RESCORE_MAX_VAR];
        int var[SS_RESCORE_MAX_VAR], k = shared_tables(a, local, tabs, var);
        int64_t shared = k > 0 ? ss_rescore_shared_floats(a->n, a->d_head, a->o.block_rows, tabs,
                                                          k) : 0;
        need = shared > need ? shared : need;
    }
    return need;
}

/* *buf: `per` elements of `size` bytes for each thread, made once per run
 * (not per head) and again only when more threads come; *have: the
 * threads it holds. */
static ss_code ensure_per_thread(void **buf, int *have, size_t per, size_t size,
                                 const char *what, ss_error *err)
{
    int threads = omp_get_max_threads();
    if (*buf && *have >= threads)
        return SS_OK;
    free(*buf);
    *have = 0;
    if (!(*buf = ss_aligned_calloc((size_t)threads * per, size, what, err)))
        return SS_ERR_NOMEM;
    *have = threads;
    return SS_OK;
}

/* One re-scoring buffer per thread. */
static ss_code ensure_work(ss_freq_acc *a, ss_error *err)
{
    void *buf = a->work;
    a->work_per = work_floats(a);
    ss_code rc = ensure_per_thread(&buf, &a->work_threads, (size_t)a->work_per, sizeof(float),
                                   "freq re-scoring buffers", err);
    a->work = buf;
    return rc;
}

/* One key-norm buffer per thread (n doubles: cs_work). */
static ss_code ensure_key_norms(ss_freq_acc *a, ss_error *err)
{
    void *buf = a->key_norms;
    ss_code rc = ensure_per_thread(&buf, &a->norm_threads, (size_t)a->n, sizeof(double),
                                   "freq key norms", err);
    a->key_norms = buf;
    return rc;
}

/* Offsets of one Cauchy-Schwarz call (ss_cs_row), on the stack. */
#define CS_CHUNK 64

/* Cauchy-Schwarz ratios of one chosen head at every (i, i - d), i - d >=
 * skip, d <= max_delta: each key's norm once (kn [n], the thread's), each
 * query's once per row. Each (head, d) sum still adds its rows in order. */
static void cs_work(ss_freq_acc *a, const ss_inp_table *tab, int slot, const float *qh,
                    int64_t ldq, const float *kh, int64_t ldk, double *kn)
{
    int D = a->o.max_delta + 1, skip = a->o.skip;
    for (int j = skip; j < a->n; j++)
        kn[j] = ss_inp_sqnorm(kh + (int64_t)j * ldk, a->n_freq);
    double ratio[CS_CHUNK], lg[CS_CHUNK], bound[CS_CHUNK];
    for (int i = skip; i < a->n; i++)
        for (int d0 = 0; d0 < D; d0 += CS_CHUNK) {
            int nd = ss_cs_row(tab, qh + (int64_t)i * ldq, kh, ldk, kn, i, skip, d0,
                               D - d0 < CS_CHUNK ? D - d0 : CS_CHUNK, a->scale, ratio, lg, bound);
            if (nd == 0)
                break;
            for (int x = 0; x < nd; x++) {
                size_t c = (size_t)slot * D + d0 + x;
                if (isnan(ratio[x]))
                    continue;
                a->cs_sum[c] += ratio[x];
                a->cs_logit[c] += lg[x];
                a->cs_bound[c] += bound[x];
                a->cs_min[c] = fmin(a->cs_min[c], ratio[x]);
                a->cs_max[c] = fmax(a->cs_max[c], ratio[x]);
                a->cs_n[c]++;
            }
        }
}

/* InP row, mean-|InP| sums and Cauchy-Schwarz ratios of one chosen head. */
static void inp_work(ss_freq_acc *a, const ss_inp_table *tab, int slot, const float *qh,
                     int64_t ldq, const float *kh, int64_t ldk, double *kn)
{
    int F = a->n_freq;
    if (!a->inp_filled)
        ss_inp_row(tab, qh + (int64_t)a->o.row * ldq, kh, ldk, a->o.row, a->scale,
                   a->inp + (size_t)slot * ((size_t)a->o.row + 1) * F);
    for (int r = 0; r < a->n_rows; r++) {
        int i = a->rows[r];
        a->inp_abs_n[slot] += ss_inp_row_abs_add(tab, qh + (int64_t)i * ldq, kh, ldk, i,
                                                 a->o.skip, a->scale,
                                                 a->inp_abs + (size_t)slot * F);
        for (int j = a->o.skip; 2 * F < a->d_head && j <= i; j++)
            a->nope_abs[slot] += fabs(ss_nope_logit(qh + (int64_t)i * ldq, kh + (int64_t)j * ldk,
                                                    2 * F, a->d_head, a->scale));
    }
    cs_work(a, tab, slot, qh, ldq, kh, ldk, kn);
}

ss_code ss_freq_acc_on_layer(void *ctx, int layer, int n, const float *h, const float *q,
                             const float *k, ss_error *err)
{
    (void)h;
    ss_freq_acc *a = ctx;
    if (n != a->n || layer < 0 || layer >= a->n_layer)
        return ss_fail(err, SS_ERR_USAGE, "freq: layer %d with %d tokens; expected a layer "
                       "below %d and %d tokens", layer, n, a->n_layer, a->n);
    int H = a->n_head, K = a->n_kv_head, dh = a->d_head, F = a->n_freq;
    int64_t qd = (int64_t)H * dh, kd = (int64_t)K * dh;
    /* frequency usage of every head (threads only when it pays) */
    #pragma omp parallel for schedule(static) if ((double)(H + K) * n * dh > USAGE_PARALLEL_MIN)
    for (int x = 0; x < H + K; x++) {
        int key = x >= H, idx = key ? x - H : x;
        const float *src = (key ? k : q) + (int64_t)idx * dh;
        int64_t ld = key ? kd : qd;
        double *acc = (key ? a->use_k : a->use_q) + ((size_t)layer * (key ? K : H) + idx) * F;
        for (int i = 0; i < n; i++)
            ss_chunk_norms_add(src + (int64_t)i * ld, F, acc);
    }
    /* the chosen heads of this layer. Tasks, the heaviest first so that the
     * light ones fill the gaps at the end: every head's ablations that
     * remove something, together (they share most of each score); each
     * empty ablation; then the InP work (the unablated probabilities come
     * from on_probs) */
    int *slots = a->layer_slots, ns = 0;
    for (int x = 0; x < H; x++)
        if (a->slot_of[layer * H + x] >= 0)
            slots[ns++] = a->slot_of[layer * H + x];
    int shared = n_shared(a), n_solo = 0;
    for (int v = 0; v < a->n_abl; v++)
        n_solo += !shared || !shared_variant(a, v);
    int phases = (shared > 0) + n_solo + 1, tasks = ns * phases;
    int local = a->local[layer];
    if (local && !a->has_local)
        return ss_fail(err, SS_ERR_USAGE, "freq: layer %d runs the local RoPE schedule, "
                       "which was not given (ss_freq_acc_set_local)", layer);
    const ss_inp_table *tab = local ? &a->table_local : &a->table;
    const ss_rope_table *abl_tabs = local ? a->abl_table_local : a->abl_table;
    const ss_rope_table *sh_tabs[SS_RESCORE_MAX_VAR];
    int sh_var[SS_RESCORE_MAX_VAR];
    shared_tables(a, local, sh_tabs, sh_var);
    ss_code rc = a->n_abl > 0 && tasks > 0 ? ensure_work(a, err) : SS_OK;
    if (!rc && tasks > 0)
        rc = ensure_key_norms(a, err);
    if (rc)
        return rc;
    int64_t per = a->work_per;
    /* always a parallel region: the kernels inside then run single-threaded
     * per task instead of joining threads per call */
    #pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < tasks; t++) {
        int slot = slots[t % ns], phase = t / ns, head = a->sel[slot].head;
        int kv = head / (H / K);
        const float *qh = q + (int64_t)head * dh, *kh = k + (int64_t)kv * dh;
        int me = omp_get_thread_num();
        float *work = a->work + (size_t)me * per;
        if (phase == phases - 1) {
            inp_work(a, tab, slot, qh, qd, kh, kd, a->key_norms + (size_t)me * a->n);
        } else if (shared && phase == 0) {
            double *sums[SS_RESCORE_MAX_VAR];
            for (int x = 0; x < shared; x++)
                sums[x] = diag_of(a, head, sh_var[x] + 1);
            ss_head_slash_shared(qh, qd, kh, kd, dh, sh_tabs, shared, &a->attn[layer],
                                 a->o.block_rows, work, sums, a->o.skip);
        } else {
            /* the ablated probabilities straight into the variant's sums */
            int v = solo_variant(a, shared, phase - (shared > 0));
            ss_head_slash_table(qh, qd, kh, kd, dh, &abl_tabs[v], &a->attn[layer],
                                a->o.block_rows, work, diag_of(a, head, v + 1), a->o.skip);
        }
    }
    return SS_OK;
}

ss_code ss_freq_acc_on_probs(void *ctx, int layer, int head, int row0, int nrows, const float *p,
                             int64_t ld)
{
    ss_freq_acc *a = ctx;
    if (layer < 0 || layer >= a->n_layer || head < 0 || head >= a->n_head)
        return SS_ERR_USAGE;
    int slot = a->slot_of[layer * a->n_head + head];
    if (slot >= 0)
        ss_slash_add_rows_rev(diag_of(a, head, 0), a->n, p, ld, row0, nrows, a->o.skip);
    return SS_OK;
}

ss_code ss_freq_acc_on_layer_done(void *ctx, int layer, ss_error *err)
{
    ss_freq_acc *a = ctx;
    if (layer < 0 || layer >= a->n_layer)
        return ss_fail(err, SS_ERR_USAGE, "freq: layer %d outside 0..%d", layer, a->n_layer - 1);
    for (int x = 0; x < a->n_head; x++) {
        int slot = a->slot_of[layer * a->n_head + x];
        if (slot < 0)
            continue;
        for (int v = 0; v < a->n_var; v++) {
            size_t off = ((size_t)slot * a->n_var + v) * a->n;
            double *dg = diag_of(a, x, v);
            ss_slash_reverse(dg, a->n);
            ss_slash_finish_prompt(dg, a->n, a->o.skip, a->score_sum + off, NULL, NULL);
            memset(dg, 0, (size_t)a->n * sizeof *dg);
        }
    }
    a->layer_done[layer] = 1;
    return SS_OK;
}

static ss_code freq_begin(void *self, const int32_t *ids, int n, ss_error *err)
{
    (void)ids;
    const ss_freq_acc *a = self;
    if (n != a->n)
        return ss_fail(err, SS_ERR_VALUE, "freq: a prompt of %d tokens; this run counts "
                       "prompts of exactly %d", n, a->n);
    return SS_OK;
}

static ss_code freq_end_prompt(void *self, ss_error *err)
{
    return ss_freq_acc_end_prompt(self, err);
}

static ss_code freq_finish(void *self, void *result, ss_error *err)
{
    const ss_freq_acc *a = self;
    return ss_freq_result_make(a, a->o.active_frac, result, err);
}

ss_code ss_freq_acc_merge(ss_freq_acc *a, const ss_freq_acc *b, ss_error *err)
{
    int same = a->n_layer == b->n_layer && a->n_head == b->n_head && a->n == b->n &&
               a->n_freq == b->n_freq && a->n_sel == b->n_sel && a->n_var == b->n_var &&
               a->o.row == b->o.row && a->o.inp_rows == b->o.inp_rows &&
               a->o.skip == b->o.skip && a->o.max_delta == b->o.max_delta;
    for (int s = 0; same && s < a->n_sel; s++)
        same = a->sel[s].layer == b->sel[s].layer && a->sel[s].head == b->sel[s].head;
    for (int v = 0; same && v < a->n_abl; v++)
        same = a->abl[v].n_removed == b->abl[v].n_removed &&
               memcmp(a->abl[v].removed, b->abl[v].removed,
                      (size_t)a->abl[v].n_removed * sizeof(int)) == 0;
    if (!same)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "freq merge: the two runs differ in heads, "
                       "ablations, prompt length or settings");
    size_t S = (size_t)a->n_sel, V = (size_t)a->n_var, N = (size_t)a->n, F = (size_t)a->n_freq;
    size_t D = (size_t)a->o.max_delta + 1, L = (size_t)a->n_layer;
    for (size_t i = 0; i < S * V * N; i++)
        a->score_sum[i] += b->score_sum[i];
    for (size_t i = 0; i < N; i++)
        a->score_cnt[i] += b->score_cnt[i];
    for (size_t i = 0; i < S * F; i++)
        a->inp_abs[i] += b->inp_abs[i];
    for (size_t s = 0; s < S; s++)
        a->inp_abs_n[s] += b->inp_abs_n[s];
    for (size_t i = 0; i < S * D; i++) {
        a->cs_sum[i] += b->cs_sum[i];
        a->cs_logit[i] += b->cs_logit[i];
        a->cs_bound[i] += b->cs_bound[i];
        a->cs_min[i] = fmin(a->cs_min[i], b->cs_min[i]);
        a->cs_max[i] = fmax(a->cs_max[i], b->cs_max[i]);
        a->cs_n[i] += b->cs_n[i];
    }
    for (size_t i = 0; i < L * (size_t)a->n_head * F; i++)
        a->use_q[i] += b->use_q[i];
    for (size_t i = 0; i < L * (size_t)a->n_kv_head * F; i++)
        a->use_k[i] += b->use_k[i];
    a->use_rows += b->use_rows;
    /* Figure 15's InP row is the first prompt's: b's only when a has none */
    if (!a->inp_filled && b->inp_filled) {
        memcpy(a->inp, b->inp, S * ((size_t)a->o.row + 1) * F * sizeof(double));
        a->inp_filled = 1;
    }
    a->prompts += b->prompts;
    return SS_OK;
}

static ss_code freq_merge(void *self, const void *other, ss_error *err)
{
    return ss_freq_acc_merge(self, other, err);
}

static void freq_free(void *self)
{
    if (self)
        ss_freq_acc_free(self);
    free(self);
}

static int freq_fields(void *self, ss_state_field *out)
{
    ss_freq_acc *a = self;
    size_t S = (size_t)a->n_sel, F = (size_t)a->n_freq, L = (size_t)a->n_layer;
    size_t svn = S * a->n_var * a->n, D = (size_t)a->o.max_delta + 1;
    int k = 0;
    SS_STATE_FIELD(out, k, a->score_sum, svn);
    SS_STATE_FIELD(out, k, a->score_cnt, a->n);
    SS_STATE_FIELD(out, k, a->inp, S * ((size_t)a->o.row + 1) * F);
    SS_STATE_FIELD(out, k, &a->inp_filled, 1);
    SS_STATE_FIELD(out, k, a->inp_abs, S * F);
    SS_STATE_FIELD(out, k, a->inp_abs_n, S);
    SS_STATE_FIELD(out, k, a->cs_sum, S * D);
    SS_STATE_FIELD(out, k, a->cs_min, S * D);
    SS_STATE_FIELD(out, k, a->cs_max, S * D);
    SS_STATE_FIELD(out, k, a->cs_logit, S * D);
    SS_STATE_FIELD(out, k, a->cs_bound, S * D);
    SS_STATE_FIELD(out, k, a->cs_n, S * D);
    SS_STATE_FIELD(out, k, a->use_q, L * a->n_head * F);
    SS_STATE_FIELD(out, k, a->use_k, L * a->n_kv_head * F);
    SS_STATE_FIELD(out, k, &a->use_rows, 1);
    SS_STATE_FIELD(out, k, &a->prompts, 1);
    return k;
}

static ss_code freq_fresh(void *self, ss_analysis *out, ss_error *err)
{
    const ss_freq_acc *a = self;
    if (!a->model)
        return ss_fail(err, SS_ERR_USAGE, "freq: no model to make a fresh state with");
    return ss_freq_analysis_new(out, a->model, &a->rope, a->n, a->sel, a->n_sel, a->abl,
                                a->n_abl, &a->o, err);
}

static const ss_analysis_vtable freq_vt = {
    .fields = freq_fields,
    .fresh = freq_fresh,
    .name = "freq",
    .begin = freq_begin,
    .on_layer = ss_freq_acc_on_layer,
    .on_probs = ss_freq_acc_on_probs,
    .on_layer_done = ss_freq_acc_on_layer_done,
    .end_prompt = freq_end_prompt,
    .finish = freq_finish,
    .merge = freq_merge,
    .free = freq_free,
};

/* The local layers' angles (Gemma 3) with the run's active flags: every
 * local layer shares one schedule, so the first one found is set. */
static ss_code set_local_schedule(ss_freq_acc *a, const ss_model *m, const ss_rope *rope,
                                  ss_error *err)
{
    for (int l = 0; l < m->cfg.n_layer; l++)
        if (ss_layer_is_local_rope(&m->cfg, l)) {
            ss_rope scratch;
            return ss_freq_acc_set_local(a, ss_layer_rope_override(m, l, rope, &scratch), err);
        }
    return SS_OK;
}

ss_code ss_freq_analysis_new(ss_analysis *an, const ss_model *m, const ss_rope *rope, int n,
                             const ss_head_ref *sel, int n_sel, ss_ablation *abl, int n_abl,
                             const ss_freq_opts *o, ss_error *err)
{
    an->vt = &freq_vt;
    an->self = ss_calloc(1, sizeof(ss_freq_acc), "freq", err);
    if (!an->self)
        return SS_ERR_NOMEM;
    ss_code rc = ss_freq_acc_init(an->self, &m->cfg, rope, n, sel, n_sel, abl, n_abl, o, err);
    if (!rc)
        ((ss_freq_acc *)an->self)->model = m;
    if (!rc && (rc = set_local_schedule(an->self, m, rope, err)))
        ss_freq_acc_free(an->self);
    if (rc) {
        free(an->self);
        an->self = NULL;
    }
    return rc;
}

ss_freq_acc *ss_freq_analysis_acc(const ss_analysis *an)
{
    return an->vt == &freq_vt ? an->self : NULL;
}

ss_code ss_freq_acc_end_prompt(ss_freq_acc *a, ss_error *err)
{
    for (int l = 0; l < a->n_layer; l++)
        if (!a->layer_done[l])
            return ss_fail(err, SS_ERR_USAGE, "freq: the prompt ended before layer %d was done",
                           l);
    memset(a->layer_done, 0, (size_t)a->n_layer);
    /* the offsets every head's and variant's sums just gained a prompt at
     * (ss_slash_finish_prompt's count, kept once) */
    for (int d = 0; d < a->n; d++)
        a->score_cnt[d] += ss_slash_rows_at(a->n, d, a->o.skip) > 0;
    a->inp_filled = 1;
    a->use_rows += a->n;
    a->prompts++;
    return SS_OK;
}

void ss_freq_acc_scores(const ss_freq_acc *a, int slot, int v, double *out)
{
    size_t off = ((size_t)slot * a->n_var + v) * a->n;
    ss_slash_average(a->score_sum + off, a->score_cnt, a->n, out);
}

void ss_freq_acc_inp_mean_abs(const ss_freq_acc *a, int slot, double *out)
{
    int64_t cnt = a->inp_abs_n[slot];
    for (int f = 0; f < a->n_freq; f++)
        out[f] = cnt > 0 ? a->inp_abs[(size_t)slot * a->n_freq + f] / (double)cnt : NAN;
}
