#include "engine/attention.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

/* Softmax of row entries 0..last in place (reduction in double), zeroing
 * last+1..width-1 so the block can be multiplied with V as a whole. */
static void softmax_causal_row(float *row, int last, int width)
{
    float mx = row[0];
    for (int j = 1; j <= last; j++)
        mx = row[j] > mx ? row[j] : mx;
    double sum = 0.0;
    for (int j = 0; j <= last; j++) {
        float e = expf(row[j] - mx);
        row[j] = e;
        sum += e;
    }
    float inv = (float)(1.0 / sum);
    for (int j = 0; j <= last; j++)
        row[j] *= inv;
    if (width > last + 1)
        memset(row + last + 1, 0, (size_t)(width - last - 1) * sizeof *row);
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
        for (int r = 0; r < nr; r++)
            softmax_causal_row(scores + r * ld, r0 + r, width);
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
    t->cos_sin = ss_calloc((size_t)n * rope->n_freq * 2, sizeof(double), "RoPE table", err);
    if (!t->cos_sin)
        return SS_ERR_NOMEM;
    for (int i = 0; i < n; i++)
        for (int f = 0; f < rope->n_freq; f++) {
            double angle = (double)i * rope->theta[f];
            double *cs = t->cos_sin + ((size_t)i * rope->n_freq + f) * 2;
            cs[0] = cos(angle);
            cs[1] = sin(angle);
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
    int half = d_head / 2;
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < t->n; i++) {
        const double *cs = t->cos_sin + (size_t)i * t->n_freq * 2;
        for (int h = 0; h < heads; h++) {
            float *v = x + (int64_t)i * ld + (int64_t)h * d_head;
            for (int f = 0; f < half; f++) {
                if (!t->rope->active[f])
                    continue;
                double a = v[f], b = v[f + half], c = cs[2 * f], s = cs[2 * f + 1];
                v[f] = (float)(a * c - b * s);
                v[f + half] = (float)(a * s + b * c);
            }
        }
    }
}
