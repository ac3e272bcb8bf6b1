/* Conversion of stored weights to float32, one row (or a range of rows) at a
 * time, so that no more than a scratch buffer is ever expanded. */
#ifndef SS_IO_DEQUANT_H
#define SS_IO_DEQUANT_H

#include <stdint.h>

#include "io/tensor.h"

/* Converts n elements starting at element `first` (a multiple of the block
 * size) of data in dtype t into dst. */
void ss_dequant(ss_dtype t, const void *data, int64_t first, int64_t n, float *dst);
/* Rows [row0, row0 + nrows) of a 2-D tensor into dst [nrows, cols]. */
void ss_tensor_rows_f32(const ss_tensor *t, int64_t row0, int64_t nrows, float *dst);

float ss_f16_to_f32(uint16_t h);
uint16_t ss_f32_to_f16(float f);
float ss_bf16_to_f32(uint16_t h);

#endif
