/* safetensors: 8-byte little-endian header length, a JSON header mapping
 * tensor names to {dtype, shape, data_offsets}, then the data. Adds every
 * tensor of the file (F32, F16, BF16) to a list; anything malformed is an
 * error naming the file and the tensor. */
#ifndef SS_IO_SAFETENSORS_H
#define SS_IO_SAFETENSORS_H

#include "io/tensor.h"

ss_code ss_safetensors_load(const char *path, ss_tensor_list *list, ss_error *err);
/* The same checks on a header held in memory (for the fuzzer): `bytes` is
 * the whole file content. Tensors are added with data pointing into bytes. */
ss_code ss_safetensors_parse(const char *path, const void *bytes, size_t n, int map_index,
                             ss_tensor_list *list, ss_error *err);

#endif
