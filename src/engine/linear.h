/* Y = X W^T (+ b) for a weight in any stored dtype: float32 weights go to
 * BLAS straight from the mapping; others are expanded a chunk of rows at a
 * time into a bounded scratch buffer, so memory never holds a whole
 * converted matrix. */
#ifndef SS_ENGINE_LINEAR_H
#define SS_ENGINE_LINEAR_H

#include <stdint.h>

#include "io/tensor.h"

typedef struct {
    float *buf;
    int64_t cap; /* floats */
} ss_scratch;

/* X [n, in] (row stride ldx), W [out, in], bias [out] or NULL, Y [n, out]
 * (row stride ldy). */
ss_code ss_linear(const float *X, int64_t ldx, int n, const ss_tensor *W, const ss_tensor *bias,
                  float *Y, int64_t ldy, ss_scratch *s, ss_error *err);

/* A 1-D tensor (norm weight, bias) as float32: a direct pointer when stored
 * as aligned F32, else converted into dst (which must hold numel floats). */
const float *ss_vector_f32(const ss_tensor *t, float *dst);

#endif
