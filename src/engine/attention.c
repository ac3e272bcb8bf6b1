#include "engine/attention.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

#ifdef __AVX2__
#include <immintrin.h>
/* glibc's vectorised expf (libmvec), the AVX2 variant: 8 lanes at once. */
__m256 _ZGVdN8v_expf(__m256 x);

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

/* row[j] = exp(row[j] - mx) for j < count; returns the sum, in double. */
static double exp_and_sum(float *row, int count, float mx)
{
    __m256 shift = _mm256_set1_ps(mx);
    __m256d acc_lo = _mm256_setzero_pd(), acc_hi = _mm256_setzero_pd();
    int j = 0;
    for (; j + 8 <= count; j += 8) {
        __m256 e = _ZGVdN8v_expf(_mm256_sub_ps(_mm256_loadu_ps(row + j), shift));
        _mm256_storeu_ps(row + j, e);
        acc_lo = _mm256_add_pd(acc_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        acc_hi = _mm256_add_pd(acc_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(acc_lo, acc_hi));
    double sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; j < count; j++) {
        row[j] = expf(row[j] - mx);
        sum += row[j];
    }
    return sum;
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
#endif

/* Softmax of row entries first..last in place (the sum in double), zeroing
 * the rest of 0..width-1 so the block can be multiplied with V as a whole. */
static void softmax_causal_row(float *row, int first, int last, int width)
{
    float *live = row + first;
    int count = last - first + 1;
    float mx = row_max(live, count);
    float inv = (float)(1.0 / exp_and_sum(live, count, mx));
    for (int j = 0; j < count; j++)
        live[j] *= inv;
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

void ss_attend_head(const ss_head_attn *a, float *scores, ss_probs_cb cb, void *ctx, int tag)
{
    int B = a->block_rows;
    int64_t ld = a->n;
    for (int r0 = 0; r0 < a->n; r0 += B) {
        int nr = a->n - r0 < B ? a->n - r0 : B;
        int width = r0 + nr; /* keys 0..r0+nr-1 are visible to some row of the block */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, width, a->d_head, a->scale,
                    a->q + (int64_t)r0 * a->ldq, (int)a->ldq, a->k, (int)a->ldk, 0.0f, scores,
                    (int)ld);
        for (int r = 0; r < nr; r++) {
            int i = r0 + r;
            /* a sliding window of W keys: j in (i - W, i] */
            int first = a->window > 0 && i - a->window + 1 > 0 ? i - a->window + 1 : 0;
            if (a->softcap > 0)
                softcap_row(scores + r * ld, first, i, a->softcap);
            softmax_causal_row(scores + r * ld, first, i, width);
        }
        if (cb)
            cb(ctx, tag, r0, nr, scores, ld);
        if (a->v)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, a->d_head, width, 1.0f,
                        scores, (int)ld, a->v, (int)a->ldv, 0.0f, a->out + (int64_t)r0 * a->ldo,
                        (int)a->ldo);
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

void ss_rope_table_apply(const ss_rope_table *t, float *x, int64_t ld, int heads, int d_head)
{
    int half = t->n_freq;
    float factor = (float)t->factor;
    #pragma omp parallel for schedule(static) if ((int64_t)t->n * heads * d_head >= (1 << 16))
    for (int i = 0; i < t->n; i++) {
        const double *cs = t->cos_sin + (size_t)i * t->n_freq * 2;
        for (int h = 0; h < heads; h++) {
            float *v = x + (int64_t)i * ld + (int64_t)h * d_head;
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
}
