/* A model's tensors split over several safetensors files, as transformers'
 * save_pretrained splits them (huggingface_hub's split_torch_state_dict_into_
 * shards): model-00001-of-0000N.safetensors ... plus
 * model.safetensors.index.json, {"metadata": {"total_size": bytes},
 * "weight_map": {tensor: file}}, which transformers and slashscope's HF
 * loader (model/model.c) read. One shard is plain model.safetensors, no
 * index. */
#ifndef SS_IO_SAFETENSORS_SHARDS_H
#define SS_IO_SAFETENSORS_SHARDS_H

#include <stddef.h>

#include "io/tensor.h"

/* save_pretrained's default max_shard_size "5GB" (decimal, as
 * huggingface_hub parses it). */
#define SS_SHARD_DEFAULT_BYTES 5000000000ULL

/* shard_of[i] for t[0..n) by nbytes, huggingface_hub's rule: in order, a
 * new shard when the next tensor would take the current one past max; a
 * tensor larger than max alone in a shard of its own (numbered before the
 * one being filled). Returns the number of shards (1 for n = 0). */
int ss_shard_plan(const ss_tensor *const *t, int n, uint64_t max, int *shard_of);

/* File name of shard k (0-based) of count. */
void ss_shard_name(int k, int count, char *buf, size_t cap);

/* The index (count > 1) at path, atomically. */
ss_code ss_shard_index_write(const char *path, const ss_tensor *const *t, int n,
                             const int *shard_of, int count, ss_error *err);

#endif
