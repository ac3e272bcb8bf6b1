#include "engine/linear.h"

#include <cblas.h>
#include <stdlib.h>

#include "common/mem.h"
#include "io/dequant.h"

/* Bounded expansion buffer: 16 Mi floats (64 MiB) at most. */
#define SCRATCH_FLOATS ((int64_t)1 << 24)

static int is_direct_f32(const ss_tensor *t)
{
    return t->dtype == SS_DT_F32 && ((uintptr_t)t->data % sizeof(float)) == 0;
}

const float *ss_vector_f32(const ss_tensor *t, float *dst)
{
    if (is_direct_f32(t))
        return t->data;
    ss_dequant(t->dtype, t->data, 0, ss_tensor_numel(t), dst);
    return dst;
}

static ss_code add_bias(float *Y, int64_t ldy, int n, const ss_tensor *bias, int64_t out,
                        ss_error *err)
{
    float *tmp = NULL;
    const float *b = is_direct_f32(bias) ? bias->data : NULL;
    if (!b) {
        if (!(tmp = ss_calloc((size_t)out, sizeof *tmp, "bias", err)))
            return SS_ERR_NOMEM;
        ss_dequant(bias->dtype, bias->data, 0, out, tmp);
        b = tmp;
    }
    for (int i = 0; i < n; i++)
        for (int64_t j = 0; j < out; j++)
            Y[i * ldy + j] += b[j];
    free(tmp);
    return SS_OK;
}

ss_code ss_linear(const float *X, int64_t ldx, int n, const ss_tensor *W, const ss_tensor *bias,
                  float *Y, int64_t ldy, ss_scratch *s, ss_error *err)
{
    int64_t out = W->shape[0], in = W->shape[1];
    if (is_direct_f32(W)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, (int)out, (int)in, 1.0f, X,
                    (int)ldx, W->data, (int)in, 0.0f, Y, (int)ldy);
    } else {
        int64_t rows = SCRATCH_FLOATS / in;
        if (rows < 1)
            rows = 1;
        if (rows > out)
            rows = out;
        /* quantised rows must start on a block boundary: in is a whole
         * number of blocks, so every row does */
        if (s->cap < rows * in) {
            free(s->buf);
            s->buf = ss_aligned_calloc((size_t)(rows * in), sizeof(float), "weight scratch", err);
            s->cap = s->buf ? rows * in : 0;
            if (!s->buf)
                return SS_ERR_NOMEM;
        }
        for (int64_t r0 = 0; r0 < out; r0 += rows) {
            int64_t nr = out - r0 < rows ? out - r0 : rows;
            int64_t per = (nr + 63) / 64;
            /* expand the chunk in parallel: it is memory-bound work */
            #pragma omp parallel for schedule(static) if (nr * in >= (1 << 16))
            for (int64_t c = 0; c < 64; c++) {
                int64_t a = c * per, b = a + per < nr ? a + per : nr;
                if (a < b)
                    ss_tensor_rows_f32(W, r0 + a, b - a, s->buf + a * in);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, (int)nr, (int)in, 1.0f, X,
                        (int)ldx, s->buf, (int)in, 0.0f, Y + r0, (int)ldy);
        }
    }
    return bias ? add_bias(Y, ldy, n, bias, out, err) : SS_OK;
}
