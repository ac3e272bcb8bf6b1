/* Writes a safetensors file (the format io/safetensors.c reads): an 8-byte
 * little-endian header length, the JSON header (names, dtype, shape,
 * data_offsets, and "__metadata__": {"format": "pt"} as transformers'
 * save_pretrained writes it; padded with spaces to a multiple of 8) and
 * the raw bytes of every tensor in the given order. Atomic
 * (io/atomic_file.h).
 *
 * Header first, data after: the header needs only each tensor's name,
 * dtype, shape and nbytes, so a caller that converts tensors one at a time
 * (model/hf_write.c) opens the file with their descriptions and appends
 * each tensor's bytes as it makes them, holding one tensor (or one row) at
 * a time instead of the whole model. */
#ifndef SS_IO_SAFETENSORS_WRITE_H
#define SS_IO_SAFETENSORS_WRITE_H

#include "io/atomic_file.h"
#include "io/tensor.h"

/* A file being written: the header is out, `left` data bytes are due. */
typedef struct {
    ss_atomic_file f;
    uint64_t total; /* the data bytes the header promises */
    uint64_t left;  /* of those, not written yet */
} ss_safetensors_out;

/* t[0..n): F32, F16 or BF16 tensor descriptions (data unused). Creates the
 * file (its temporary name) and writes the header. */
ss_code ss_safetensors_open(ss_safetensors_out *o, const char *path, const ss_tensor *const *t,
                            int n, ss_error *err);
/* Appends n bytes of tensor data, in the header's order; a write error
 * (disk full, file size limit) is reported at once, naming the file. Never
 * more than the header promises. */
ss_code ss_safetensors_put(ss_safetensors_out *o, const void *data, uint64_t n, ss_error *err);
/* Checks every promised byte was written, then commits (fsync, rename). */
ss_code ss_safetensors_close(ss_safetensors_out *o, ss_error *err);
/* After a failure: removes the temporary file (no-op when closed). */
void ss_safetensors_abort(ss_safetensors_out *o);

#endif
