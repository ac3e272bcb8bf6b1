#include "engine/attention.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

#ifdef __AVX2__
#include <immintrin.h>

#include "engine/softmax_exp.h"

static float row_max(const float *row, int count)
{
    __m256 m8 = _mm256_set1_ps(-INFINITY);
    int j = 0;
    for (; j + 8 <= count; j += 8)
        m8 = _mm256_max_ps(m8, _mm256_loadu_ps(row + j));
    float lanes[8];
    _mm256_storeu_ps(lanes, m8);
    float mx = lanes[0];
    for (int i = 1; i < 8; i++)
        mx = lanes[i] > mx ? lanes[i] : mx;
    for (; j < count; j++)
        mx = row[j] > mx ? row[j] : mx;
    return mx;
}

/* e = exp(row[j..j+8) - shift) into the row, its lanes added to the two
 * double accumulators; only the `live` first lanes read, written, added. */
static inline __attribute__((always_inline)) void
exp_lanes(float *row, int j, int live, __m256 shift, __m256d *lo, __m256d *hi)
{
    __m256 e;
    if (live == 8) {
        e = ss_exp_nonpos8(_mm256_sub_ps(_mm256_loadu_ps(row + j), shift));
        _mm256_storeu_ps(row + j, e);
    } else {
        __m256i m = ss_lanes8(live);
        e = ss_exp_nonpos8(_mm256_sub_ps(_mm256_maskload_ps(row + j, m), shift));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(m));
        _mm256_maskstore_ps(row + j, m, e);
    }
    *lo = _mm256_add_pd(*lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    *hi = _mm256_add_pd(*hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
}

/* row[j] = exp(row[j] - mx) for j < count (engine/softmax_exp.h, the tail
 * too, so every key's exponential is the same function of its score);
 * returns the sum, in double. */
static double exp_and_sum(float *row, int count, float mx)
{
    __m256 shift = _mm256_set1_ps(mx);
    __m256d acc_lo = _mm256_setzero_pd(), acc_hi = _mm256_setzero_pd();
    int j = 0;
    for (; j + 8 <= count; j += 8)
        exp_lanes(row, j, 8, shift, &acc_lo, &acc_hi);
    if (j < count)
        exp_lanes(row, j, count - j, shift, &acc_lo, &acc_hi);
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(acc_lo, acc_hi));
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

/* row[j] *= inv: the same products as the scalar loop (which -O2 leaves
 * unvectorised), 8 at a time. */
static void scale_row(float *row, int count, float inv)
{
    __m256 f = _mm256_set1_ps(inv);
    int j = 0;
    for (; j + 8 <= count; j += 8)
        _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), f));
    for (; j < count; j++)
        row[j] *= inv;
}
/* base[j] += (double)(row[j] * inv) for j in [lo, hi]: the softmax's
 * scaling fused into the reversed per-diagonal sums, the same float
 * products and double additions as scale_row followed by the sums. */
static void add_scaled(double *base, const float *row, int lo, int hi, float inv)
{
    __m256 f = _mm256_set1_ps(inv);
    int j = lo;
    for (; j + 8 <= hi + 1; j += 8) {
        __m256 p = _mm256_mul_ps(_mm256_loadu_ps(row + j), f);
        _mm256_storeu_pd(base + j, _mm256_add_pd(_mm256_loadu_pd(base + j),
                                                 _mm256_cvtps_pd(_mm256_castps256_ps128(p))));
        _mm256_storeu_pd(base + j + 4, _mm256_add_pd(_mm256_loadu_pd(base + j + 4),
                                                     _mm256_cvtps_pd(_mm256_extractf128_ps(p, 1))));
    }
    for (; j <= hi; j++)
        base[j] += (double)(row[j] * inv);
}
#else
static float row_max(const float *row, int count)
{
    float mx = row[0];
    for (int j = 1; j < count; j++)
        mx = row[j] > mx ? row[j] : mx;
    return mx;
}

static double exp_and_sum(float *row, int count, float mx)
{
    double sum = 0.0;
    for (int j = 0; j < count; j++) {
        row[j] = expf(row[j] - mx);
        sum += row[j];
    }
    return sum;
}

static void scale_row(float *row, int count, float inv)
{
    for (int j = 0; j < count; j++)
        row[j] *= inv;
}

static void add_scaled(double *base, const float *row, int lo, int hi, float inv)
{
    for (int j = lo; j <= hi; j++)
        base[j] += (double)(row[j] * inv);
}
#endif

/* Softmax of row entries first..last in place (the sum in double), zeroing
 * the rest of 0..width-1 so the block can be multiplied with V as a whole. */
static void softmax_causal_row(float *row, int first, int last, int width)
{
    float *live = row + first;
    int count = last - first + 1;
    float mx = row_max(live, count);
    float inv = (float)(1.0 / exp_and_sum(live, count, mx));
    scale_row(live, count, inv);
    if (first > 0)
        memset(row, 0, (size_t)first * sizeof *row);
    if (width > last + 1)
        memset(row + last + 1, 0, (size_t)(width - last - 1) * sizeof *row);
}

/* Gemma 2's attention-logit soft-capping, on the visible keys of one row
 * (HF applies it before adding the mask, which only matters for those). */
static void softcap_row(float *row, int first, int last, float cap)
{
    for (int j = first; j <= last; j++)
        row[j] = cap * tanhf(row[j] / cap);
}

/* Score tiles are TILE_R query rows by TILE_C keys; a row block is computed
 * one key panel of PANEL_C keys at a time, so the panel of K^T (d_head x
 * PANEL_C floats, 60 KiB at d_head 64) stays in L2 while every row of the
 * block passes over it. */
#define TILE_R 4
#define TILE_C 24
#define SS_TILED_MAX_D 256
#define PANEL_C (10 * TILE_C)
#define GROUP_TILES 16 /* row tiles per pass over a key panel */

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/* Row stride of the score block: whole tiles fit in every row. */
static int64_t score_ld(int n) { return round_up(n, TILE_C); }

int64_t ss_attend_scratch_floats(int n, int d_head, int block_rows)
{
    int64_t ld = score_ld(n);
    /* scores [block_rows, ld], then K^T [d_head, ld] */
    return ld * ((int64_t)round_up(block_rows, TILE_R) + d_head);
}

/* The first key row i may see: i - W + 1 under a sliding window of W. */
static int first_key(const ss_head_attn *a, int i)
{
    return a->window > 0 && i - a->window + 1 > 0 ? i - a->window + 1 : 0;
}

#if defined(__AVX2__) && !defined(SS_NO_TILED_SCORES) /* the latter: A/B against BLAS */
/* Keys j0..j1-1 transposed into kt [d_head][ld], zero from n on: a tile
 * then loads TILE_C consecutive keys of one dimension as three vectors.
 * TILE_C keys at a time, so the rows being read stay in L1. */
static void transpose_keys(const ss_head_attn *a, float *kt, int64_t ld, int j0, int j1)
{
    for (int jb = j0; jb < j1; jb += TILE_C)
        for (int x = 0; x < a->d_head; x++) {
            float *dst = kt + (int64_t)x * ld;
            for (int j = jb; j < jb + TILE_C && j < j1; j++)
                dst[j] = j < a->n ? a->k[(int64_t)j * a->ldk + x] : 0.0f;
        }
}

/* s[r][0..TILE_C) = qs_r . k_j for a tile of TILE_R rows: qs is the tile's
 * queries, already scaled, [TILE_R][d] contiguous. Twelve accumulators
 * cover the FMA latency; d is the only loop. */
static inline __attribute__((always_inline)) void
score_tile_from(const float *init, const float *qs, const float *kt, int64_t ldk, int d, float *s,
                int64_t lds)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    if (init) { /* go on from partial sums: a tile of TILE_R x TILE_C at stride TILE_C */
        c00 = _mm256_loadu_ps(init), c01 = _mm256_loadu_ps(init + 8);
        c02 = _mm256_loadu_ps(init + 16), c10 = _mm256_loadu_ps(init + 24);
        c11 = _mm256_loadu_ps(init + 32), c12 = _mm256_loadu_ps(init + 40);
        c20 = _mm256_loadu_ps(init + 48), c21 = _mm256_loadu_ps(init + 56);
        c22 = _mm256_loadu_ps(init + 64), c30 = _mm256_loadu_ps(init + 72);
        c31 = _mm256_loadu_ps(init + 80), c32 = _mm256_loadu_ps(init + 88);
    }
    for (int x = 0; x < d; x++) {
        const float *kr = kt + (int64_t)x * ldk;
        __m256 b0 = _mm256_loadu_ps(kr), b1 = _mm256_loadu_ps(kr + 8), b2 = _mm256_loadu_ps(kr + 16);
        __m256 q0 = _mm256_broadcast_ss(qs + x), q1 = _mm256_broadcast_ss(qs + d + x);
        c00 = _mm256_fmadd_ps(q0, b0, c00); c01 = _mm256_fmadd_ps(q0, b1, c01);
        c02 = _mm256_fmadd_ps(q0, b2, c02);
        c10 = _mm256_fmadd_ps(q1, b0, c10); c11 = _mm256_fmadd_ps(q1, b1, c11);
        c12 = _mm256_fmadd_ps(q1, b2, c12);
        __m256 q2 = _mm256_broadcast_ss(qs + 2 * d + x), q3 = _mm256_broadcast_ss(qs + 3 * d + x);
        c20 = _mm256_fmadd_ps(q2, b0, c20); c21 = _mm256_fmadd_ps(q2, b1, c21);
        c22 = _mm256_fmadd_ps(q2, b2, c22);
        c30 = _mm256_fmadd_ps(q3, b0, c30); c31 = _mm256_fmadd_ps(q3, b1, c31);
        c32 = _mm256_fmadd_ps(q3, b2, c32);
    }
    _mm256_storeu_ps(s, c00); _mm256_storeu_ps(s + 8, c01); _mm256_storeu_ps(s + 16, c02);
    s += lds;
    _mm256_storeu_ps(s, c10); _mm256_storeu_ps(s + 8, c11); _mm256_storeu_ps(s + 16, c12);
    s += lds;
    _mm256_storeu_ps(s, c20); _mm256_storeu_ps(s + 8, c21); _mm256_storeu_ps(s + 16, c22);
    s += lds;
    _mm256_storeu_ps(s, c30); _mm256_storeu_ps(s + 8, c31); _mm256_storeu_ps(s + 16, c32);
}

static void score_tile(const float *qs, const float *kt, int64_t ldk, int d, float *s, int64_t lds)
{
    score_tile_from(NULL, qs, kt, ldk, d, s, lds);
}

/* A tile's scores into out (row stride ld): whole, or its first `rows`
 * rows only (the last rows of the sequence). */
static inline __attribute__((always_inline)) void
tile_to(const float *init, const float *qs, const float *kt, int64_t ldk, int d, int rows,
        float *out, int64_t ld)
{
    if (rows == TILE_R) {
        score_tile_from(init, qs, kt, ldk, d, out, ld);
        return;
    }
    float tmp[TILE_R * TILE_C];
    score_tile_from(init, qs, kt, ldk, d, tmp, TILE_C);
    for (int r = 0; r < rows; r++)
        memcpy(out + r * ld, tmp + r * TILE_C, TILE_C * sizeof *tmp);
}

/* Every tile of rows r0..r0+nr-1 that holds a visible key (none wholly
 * above the diagonal or left of a window), one key panel at a time so the
 * panel of K^T stays in L2 while every row tile passes over it: fn(ctx, t,
 * rows, j) for row tile t (its first `rows` rows live), keys j..j+TILE_C-1. */
typedef void (*tile_fn)(void *ctx, int t, int rows, int j);

static inline __attribute__((always_inline)) void
for_each_tile(const ss_head_attn *a, int r0, int nr, tile_fn fn, void *ctx)
{
    int tiles = (nr + TILE_R - 1) / TILE_R;
    int lo = (int)(first_key(a, r0) / TILE_C * TILE_C), width = r0 + nr;
    for (int c0 = lo; c0 < width; c0 += PANEL_C) {
        int c1 = c0 + PANEL_C < width ? c0 + PANEL_C : width;
        for (int t = 0; t < tiles; t++) {
            int i0 = r0 + t * TILE_R, rows = r0 + nr - i0 < TILE_R ? r0 + nr - i0 : TILE_R;
            int j0 = (int)(first_key(a, i0) / TILE_C * TILE_C), j1 = i0 + rows;
            j0 = j0 > c0 ? j0 : c0;
            j1 = j1 < c1 ? j1 : c1;
            for (int j = j0; j < j1; j += TILE_C)
                fn(ctx, t, rows, j);
        }
    }
}

typedef struct {
    const float *qs, *kt; /* the group's scaled queries [tiles][TILE_R][d]; K^T */
    int64_t ld;
    int d;
    float *s;
} plain_tiles;

static void plain_tile(void *ctx, int t, int rows, int j)
{
    const plain_tiles *p = ctx;
    tile_to(NULL, p->qs + (int64_t)t * TILE_R * p->d, p->kt + j, p->ld, p->d, rows,
            p->s + (int64_t)(t * TILE_R) * p->ld + j, p->ld);
}

/* Scaled scores of rows r0..r0+nr-1 (at most GROUP_TILES row tiles) into s
 * (row stride ld). */
static void block_scores(const ss_head_attn *a, const float *kt, int64_t ld, int r0, int nr,
                         float *s)
{
    int d = a->d_head;
    int tiles = (nr + TILE_R - 1) / TILE_R;
    float qs[GROUP_TILES * TILE_R * SS_TILED_MAX_D];
    /* scaled queries of every tile (tile t at t * TILE_R * d), zero past the last row */
    for (int t = 0; t < tiles; t++)
        for (int r = 0; r < TILE_R; r++) {
            int i = r0 + t * TILE_R + r;
            for (int x = 0; x < d; x++)
                qs[(t * TILE_R + r) * d + x] =
                    i < r0 + nr ? a->q[(int64_t)i * a->ldq + x] * a->scale : 0.0f;
        }
    plain_tiles p = {qs, kt, ld, d, s};
    for_each_tile(a, r0, nr, plain_tile, &p);
}
#define SS_TILED_SCORES 1
#endif

#ifdef SS_TILED_SCORES
/* Whether the score tiles serve this head (the queries of a tile sit in a
 * stack buffer of SS_TILED_MAX_D dimensions); else one SGEMM per block. */
static int tiled(const ss_head_attn *a)
{
    return a->d_head <= SS_TILED_MAX_D;
}
#endif

/* Where ss_attend_head_slash sends the probabilities: reversed sums. */
typedef struct {
    double *rdiag;
    int skip;
} slash_sink;

/* Row i's scores to probabilities: softcap (if any) on its visible keys,
 * then the causal (windowed) softmax, zeros elsewhere up to width. With a
 * sink, the probabilities of keys skip..i go into its sums instead (no
 * zeros, nothing stored but the exponentials). */
static void finish_row(const ss_head_attn *a, float *row, int i, int width, const slash_sink *sink)
{
    int first = first_key(a, i);
    if (a->softcap > 0)
        softcap_row(row, first, i, a->softcap);
    if (!sink) {
        softmax_causal_row(row, first, i, width);
        return;
    }
    float *live = row + first;
    int count = i - first + 1;
    float inv = (float)(1.0 / exp_and_sum(live, count, row_max(live, count)));
    /* keys left of a window have probability 0: adding nothing is the same */
    int lo = first > sink->skip ? first : sink->skip;
    if (lo <= i)
        add_scaled(sink->rdiag + (a->n - 1 - i), row, lo, i, inv);
}

/* Scores of rows r0..r0+nr-1, softmax, zeros elsewhere up to the block's
 * width: the rows are in cache from the score tiles to the softmax. */
static void block_probs(const ss_head_attn *a, const float *kt, int64_t ld, int r0, int nr,
                        int width, float *s, const slash_sink *sink)
{
#ifdef SS_TILED_SCORES
    if (tiled(a)) {
        /* GROUP_TILES row tiles share each key panel while it is in L2 */
        int group = GROUP_TILES * TILE_R;
        for (int g = 0; g < nr; g += group) {
            int rows = nr - g < group ? nr - g : group;
            block_scores(a, kt, ld, r0 + g, rows, s + (int64_t)g * ld);
            for (int r = g; r < g + rows; r++)
                finish_row(a, s + r * ld, r0 + r, width, sink);
        }
        return;
    }
#endif
    (void)kt;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, width, a->d_head, a->scale,
                a->q + (int64_t)r0 * a->ldq, (int)a->ldq, a->k, (int)a->ldk, 0.0f, s, (int)ld);
    for (int r = 0; r < nr; r++)
        finish_row(a, s + r * ld, r0 + r, width, sink);
}

/* out rows r0..r0+nr-1 = P V over the keys any of them sees. */
static void block_output(const ss_head_attn *a, const float *p, int64_t ld, int r0, int nr, int width)
{
    int lo = first_key(a, r0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, a->d_head, width - lo, 1.0f, p + lo,
                (int)ld, a->v + (int64_t)lo * a->ldv, (int)a->ldv, 0.0f, a->out + (int64_t)r0 * a->ldo,
                (int)a->ldo);
}

/* One head block by block: probabilities to the observer and the output,
 * or (with a sink) into its sums only. */
static void attend(const ss_head_attn *a, float *scratch, ss_probs_cb cb, void *ctx, int tag,
                   const slash_sink *sink)
{
    int B = (int)round_up(a->block_rows, TILE_R);
    int64_t ld = score_ld(a->n);
    float *kt = scratch + ld * B;
#ifdef SS_TILED_SCORES
    if (tiled(a))
        transpose_keys(a, kt, ld, 0, (int)ld);
#endif
    for (int r0 = 0; r0 < a->n; r0 += B) {
        int nr = a->n - r0 < B ? a->n - r0 : B;
        block_probs(a, kt, ld, r0, nr, r0 + nr, scratch, sink);
        if (sink)
            continue;
        if (cb)
            cb(ctx, tag, r0, nr, scratch, ld);
        if (a->v)
            block_output(a, scratch, ld, r0, nr, r0 + nr);
    }
}

void ss_attend_head(const ss_head_attn *a, float *scratch, ss_probs_cb cb, void *ctx, int tag)
{
    attend(a, scratch, cb, ctx, tag, NULL);
}

void ss_attend_head_slash(const ss_head_attn *a, float *scratch, double *rdiag, int skip)
{
    slash_sink sink = {rdiag, skip};
    attend(a, scratch, NULL, NULL, 0, &sink);
}

/* ---- several schedules of one head at once (freq's band ablations) ---- */

int ss_attend_shared_fits(int d_head, int n_var, int n_u)
{
#ifdef SS_TILED_SCORES
    return d_head >= 1 && d_head <= SS_TILED_MAX_D && n_var >= 1 && n_var <= SS_RESCORE_MAX_VAR &&
           n_u >= 0 && n_u <= d_head;
#else
    (void)d_head;
    (void)n_var;
    (void)n_u;
    return 0;
#endif
}

/* Rows scored together: one group of row tiles (each key panel stays in L2
 * while they pass over it), fewer if the caller's blocks are smaller. With
 * the probabilities going into sums nothing needs a whole block at once, so
 * the scores of one group are all that is kept. */
static int64_t shared_rows(int block_rows)
{
    int64_t b = round_up(block_rows > 0 ? block_rows : 64, TILE_R);
    return b < GROUP_TILES * TILE_R ? b : GROUP_TILES * TILE_R;
}

int64_t ss_attend_shared_floats(int n, int d_head, int block_rows, int n_var, int n_u)
{
    int64_t ld = score_ld(n), G = shared_rows(block_rows);
    int64_t dims = (int64_t)(d_head - n_u) + (int64_t)n_var * n_u;
    /* scores of one row group of every variant [n_var][G][ld]; K^T of the
     * shared dims and of each variant's own [dims][ld]; the group's queries
     * [G][dims] */
    return (int64_t)n_var * G * ld + dims * ld + G * dims;
}

#ifdef SS_TILED_SCORES
/* Dim x of the row at v (position i) rotated by t: what ss_rope_table_apply
 * leaves there, by the same float and double operations. */
static inline float rope_dim(const ss_rope_table *t, const float *v, int i, int x)
{
    int half = t->n_freq;
    if (x >= 2 * half) /* partial rotary: left alone */
        return v[x];
    int f = x < half ? x : x - half;
    if (!t->rope->active[f]) {
        float factor = (float)t->factor;
        return factor != 1.0f ? v[x] * factor : v[x];
    }
    const double *cs = t->cos_sin + ((size_t)i * half + f) * 2;
    double a = v[f], b = v[f + half], c = cs[0], s = cs[1];
    return x < half ? (float)(a * c - b * s) : (float)(a * s + b * c);
}

typedef struct {
    const ss_head_attn *a;
    const ss_rope_table *const *t; /* [n_var] */
    int n_var, dc, nu;
    const int *dims_c, *dims_u;
    int64_t ld, G;
    const float *ktc, *ktu; /* K^T of the shared dims [dc][ld]; each variant's [nu][ld] */
    float *s, *qsc, *qsu;   /* scores [n_var][G][ld]; the group's queries */
} shared_head;

/* Keys j0..j1-1 rotated by t, of the listed dims, transposed into kt
 * [nd][ld], zero from n on. */
static void transpose_dims(const ss_rope_table *t, const float *k, int64_t ldk, int n,
                           const int *dims, int nd, float *kt, int64_t ld, int j0, int j1)
{
    for (int jb = j0; jb < j1; jb += TILE_C)
        for (int x = 0; x < nd; x++) {
            float *dst = kt + (int64_t)x * ld;
            for (int j = jb; j < jb + TILE_C && j < j1; j++)
                dst[j] = j < n ? rope_dim(t, k + (int64_t)j * ldk, j, dims[x]) : 0.0f;
        }
}

typedef struct {
    const shared_head *h;
    int64_t tq, tu, group_u;
} shared_tiles;

static void shared_tile(void *ctx, int t, int rows, int j)
{
    const shared_tiles *c = ctx;
    const shared_head *h = c->h;
    float part[TILE_R * TILE_C];
    score_tile(h->qsc + t * c->tq, h->ktc + j, h->ld, h->dc, part, TILE_C);
    for (int v = 0; v < h->n_var; v++)
        tile_to(part, h->qsu + v * c->group_u + t * c->tu, h->ktu + (int64_t)v * h->nu * h->ld + j,
                h->ld, h->nu, rows, h->s + (int64_t)v * h->G * h->ld + (int64_t)(t * TILE_R) * h->ld + j,
                h->ld);
}

/* Scaled scores of rows r0..r0+nr-1 (one group) of every variant, each
 * variant's at row 0 of its part of h->s: the shared dims' part of each
 * tile once, then each variant's own dims on top of it, over block_scores's
 * tiles. The queries are rotated here, the group's rows only. */
static void shared_scores(const shared_head *h, int r0, int nr)
{
    const ss_head_attn *a = h->a;
    int tiles = (nr + TILE_R - 1) / TILE_R, dc = h->dc, nu = h->nu;
    shared_tiles c = {h, (int64_t)TILE_R * dc, (int64_t)TILE_R * nu, h->G * nu};
    for (int t = 0; t < tiles; t++)
        for (int r = 0; r < TILE_R; r++) {
            int i = r0 + t * TILE_R + r, live = i < r0 + nr;
            const float *qi = a->q + (int64_t)i * a->ldq;
            for (int x = 0; x < dc; x++)
                h->qsc[t * c.tq + r * dc + x] =
                    live ? rope_dim(h->t[0], qi, i, h->dims_c[x]) * a->scale : 0.0f;
            for (int v = 0; v < h->n_var; v++)
                for (int x = 0; x < nu; x++)
                    h->qsu[v * c.group_u + t * c.tu + r * nu + x] =
                        live ? rope_dim(h->t[v], qi, i, h->dims_u[x]) * a->scale : 0.0f;
        }
    for_each_tile(a, r0, nr, shared_tile, &c);
}
#endif

void ss_attend_shared_slash(const ss_head_attn *a, const ss_rope_table *const *t, int n_var,
                            const int *dims_u, int n_u, float *scratch, double *const *rdiag,
                            int skip)
{
    if (!ss_attend_shared_fits(a->d_head, n_var, n_u))
        return;
#ifdef SS_TILED_SCORES
    int d = a->d_head, dims_c[SS_TILED_MAX_D], dc = 0, u = 0;
    for (int x = 0; x < d; x++) {
        if (u < n_u && dims_u[u] == x)
            u++;
        else
            dims_c[dc++] = x;
    }
    /* dims_u ascending, distinct, below d_head (attention.h): else dc would
     * exceed d - n_u and the copies below overrun the caller's scratch */
    assert(u == n_u && dc == d - n_u);
    int64_t ld = score_ld(a->n), G = shared_rows(a->block_rows);
    float *ktc = scratch + (int64_t)n_var * G * ld, *ktu = ktc + (int64_t)dc * ld;
    float *qsc = ktu + (int64_t)n_var * n_u * ld, *qsu = qsc + G * dc;
    shared_head h = {a, t, n_var, dc, n_u, dims_c, dims_u, ld, G, ktc, ktu, scratch, qsc, qsu};
    transpose_dims(t[0], a->k, a->ldk, a->n, dims_c, dc, ktc, ld, 0, (int)ld);
    for (int v = 0; v < n_var; v++)
        transpose_dims(t[v], a->k, a->ldk, a->n, dims_u, n_u, ktu + (int64_t)v * n_u * ld, ld, 0,
                       (int)ld);
    for (int r0 = 0; r0 < a->n; r0 += (int)G) {
        int rows = a->n - r0 < G ? a->n - r0 : (int)G;
        shared_scores(&h, r0, rows);
        for (int v = 0; v < n_var; v++) {
            slash_sink sink = {rdiag[v], skip};
            float *sv = scratch + (int64_t)v * G * ld;
            for (int r = 0; r < rows; r++)
                finish_row(a, sv + r * ld, r0 + r, r0 + rows, &sink);
        }
    }
#else
    (void)t;
    (void)dims_u;
    (void)scratch;
    (void)rdiag;
    (void)skip;
#endif
}

/* A team's block: up to TEAM_GROW blocks of block_rows, as long as its
 * scores stay within TEAM_BYTES (two of them sit in L3 with K^T), at least
 * one block: fewer barriers (each wakes a sleeping thread), and still a
 * function of n and block_rows only. */
#define TEAM_GROW 4
#define TEAM_BYTES ((int64_t)4 << 20)

static int team_rows(int n, int block_rows)
{
    int64_t B = round_up(block_rows, TILE_R), fit = TEAM_BYTES / (score_ld(n) * 4) / TILE_R * TILE_R;
    int64_t rows = fit < TEAM_GROW * B ? fit : TEAM_GROW * B;
    return (int)(rows > B ? rows : B);
}

int64_t ss_attend_team_floats(int n, int d_head, int block_rows)
{
    /* two blocks of scores (one being observed and multiplied with V while
     * the next is computed), then K^T */
    return score_ld(n) * (2 * (int64_t)team_rows(n, block_rows) + d_head);
}

/* A team's tasks are fixed row ranges of a block, whichever thread runs
 * them and however many threads there are: TEAM_PROBS rows of scores and
 * softmax (whole tiles), TEAM_OUT rows of P V (fewer, larger SGEMMs: each
 * call packs V's rows again). */
#define TEAM_PROBS 16
#define TEAM_OUT 32

static int tasks_of(int rows, int per) { return (rows + per - 1) / per; }

/* Task t of a block's probabilities: rows r0 + t * TEAM_PROBS ... */
static void team_probs(const ss_head_attn *a, const float *kt, int64_t ld, int r0, int nr, int t,
                       float *s)
{
    int p0 = t * TEAM_PROBS, rows = nr - p0 < TEAM_PROBS ? nr - p0 : TEAM_PROBS;
    block_probs(a, kt, ld, r0 + p0, rows, r0 + nr, s + (int64_t)p0 * ld, NULL);
}

static void team_output(const ss_head_attn *a, int64_t ld, int r0, int nr, int t, const float *s)
{
    int p0 = t * TEAM_OUT, rows = nr - p0 < TEAM_OUT ? nr - p0 : TEAM_OUT;
    block_output(a, s + (int64_t)p0 * ld, ld, r0 + p0, rows, r0 + nr);
}

void ss_attend_head_team(const ss_head_attn *a, float *scratch, ss_probs_cb cb, void *ctx, int tag)
{
    int B = team_rows(a->n, a->block_rows);
    int64_t ld = score_ld(a->n);
    float *buf[2] = {scratch, scratch + ld * B}, *kt = scratch + 2 * ld * B;
#ifdef SS_TILED_SCORES
    if (tiled(a)) {
        #pragma omp for schedule(static)
        for (int jb = 0; jb < (int)ld; jb += TILE_C)
            transpose_keys(a, kt, ld, jb, jb + TILE_C);
    }
#endif
    int blocks = (a->n + B - 1) / B, nr0 = a->n < B ? a->n : B, first = tasks_of(nr0, TEAM_PROBS);
    #pragma omp for schedule(dynamic, 1)
    for (int t = 0; t < first; t++)
        team_probs(a, kt, ld, 0, nr0, t, buf[0]);
    /* Block b's probabilities are complete in buf[b % 2]: the master hands
     * them to the observer while the others start on the shared tasks, P V
     * of block b and the probabilities of block b + 1 into the other buffer
     * (whose last readers, block b - 1's, finished at the previous
     * barrier). The master joins when the observer returns, so its time is
     * taken off the critical path; one barrier per block. */
    for (int b = 0; b < blocks; b++) {
        int r0 = b * B, nr = a->n - r0 < B ? a->n - r0 : B;
        int r1 = r0 + nr, nr1 = a->n - r1 < B ? a->n - r1 : B;
        if (cb) {
            #pragma omp master
            cb(ctx, tag, r0, nr, buf[b % 2], ld);
        }
        int outs = a->v ? tasks_of(nr, TEAM_OUT) : 0, next = nr1 > 0 ? tasks_of(nr1, TEAM_PROBS) : 0;
        int tasks = outs + next;
        #pragma omp for schedule(dynamic, 1)
        for (int t = 0; t < tasks; t++) {
            if (t < outs)
                team_output(a, ld, r0, nr, t, buf[b % 2]);
            else
                team_probs(a, kt, ld, r1, nr1, t - outs, buf[(b + 1) % 2]);
        }
    }
}

ss_code ss_rope_table_build(ss_rope_table *t, const ss_rope *rope, int n, ss_error *err)
{
    t->n = n;
    t->n_freq = rope->n_freq;
    t->rope = rope;
    t->factor = rope->attn_factor > 0 ? rope->attn_factor : 1.0;
    t->cos_sin = ss_calloc((size_t)n * rope->n_freq * 2, sizeof(double), "RoPE table", err);
    if (!t->cos_sin)
        return SS_ERR_NOMEM;
    ss_rope at_n;
    ss_rope_at_length(rope, n, &at_n);
    for (int i = 0; i < n; i++)
        for (int f = 0; f < rope->n_freq; f++) {
            double angle = (double)i * at_n.theta[f];
            double *cs = t->cos_sin + ((size_t)i * rope->n_freq + f) * 2;
            cs[0] = cos(angle) * t->factor;
            cs[1] = sin(angle) * t->factor;
        }
    return SS_OK;
}

void ss_rope_table_free(ss_rope_table *t)
{
    free(t->cos_sin);
    t->cos_sin = NULL;
}

/* Row i of `heads` heads at x rotated by its cos/sin (cs). */
static void rotate_row(const ss_rope_table *t, const double *cs, float *x, int heads, int d_head)
{
    int half = t->n_freq;
    float factor = (float)t->factor;
    for (int h = 0; h < heads; h++) {
        float *v = x + (int64_t)h * d_head;
        for (int f = 0; f < half; f++) {
            if (!t->rope->active[f]) {
                if (factor != 1.0f) { /* unrotated, but scaled like the rest */
                    v[f] *= factor;
                    v[f + half] *= factor;
                }
                continue;
            }
            double a = v[f], b = v[f + half], c = cs[2 * f], s = cs[2 * f + 1];
            v[f] = (float)(a * c - b * s);
            v[f + half] = (float)(a * s + b * c);
        }
    }
}

void ss_rope_table_apply(const ss_rope_table *t, float *x, int64_t ld, int heads, int d_head)
{
    #pragma omp parallel for schedule(static) if ((int64_t)t->n * heads * d_head >= (1 << 16))
    for (int i = 0; i < t->n; i++)
        rotate_row(t, t->cos_sin + (size_t)i * t->n_freq * 2, x + (int64_t)i * ld, heads, d_head);
}

void ss_rope_table_apply_qk(const ss_rope_table *t, float *q, int64_t ldq, int q_heads, float *k,
                            int64_t ldk, int k_heads, int d_head)
{
    #pragma omp parallel for schedule(static) \
        if ((int64_t)t->n * (q_heads + k_heads) * d_head >= (1 << 16))
    for (int i = 0; i < t->n; i++) {
        const double *cs = t->cos_sin + (size_t)i * t->n_freq * 2;
        rotate_row(t, cs, q + (int64_t)i * ldq, q_heads, d_head);
        rotate_row(t, cs, k + (int64_t)i * ldk, k_heads, d_head);
    }
}
