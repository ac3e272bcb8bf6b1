/* Writes a safetensors file (the format io/safetensors.c reads): an 8-byte
 * little-endian header length, the JSON header (names, dtype, shape,
 * data_offsets, and "__metadata__": {"format": "pt"} as transformers'
 * save_pretrained writes it; padded with spaces to a multiple of 8) and
 * the raw bytes of every tensor in the given order. Atomic
 * (io/atomic_file.h). */
#ifndef SS_IO_SAFETENSORS_WRITE_H
#define SS_IO_SAFETENSORS_WRITE_H

#include "io/tensor.h"

/* t[0..n): F32, F16 or BF16 tensors whose data holds nbytes bytes. */
ss_code ss_safetensors_write(const char *path, const ss_tensor *const *t, int n,
                             ss_error *err);

#endif
