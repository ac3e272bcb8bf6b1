/* llama2.c checkpoints: the legacy header (7 int32: dim, hidden_dim,
 * n_layers, n_heads, n_kv_heads, vocab_size (negative = separate
 * classifier), seq_len; then fp32 weights) and the versioned "ak42" format
 * (magic 0x616b3432, int32 version 1 (fp32) or 2 (Q8_0 group-quantized),
 * 256-byte header). Weights are exposed per layer under GGUF-style names
 * (token_embd.weight, blk.N.attn_norm.weight, blk.N.attn_q.weight, ...,
 * output_norm.weight, output.weight when not shared), shapes row-major
 * [out, in]. Q/K rows are in llama2.c's interleaved rotary order. */
#ifndef SS_IO_LLAMA2C_H
#define SS_IO_LLAMA2C_H

#include "io/tensor.h"

typedef struct {
    int version; /* 0 legacy, 1 or 2 ak42 */
    int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    int shared_classifier;
    ss_tensor_list tensors;
} ss_llama2c;

ss_code ss_llama2c_load(const char *path, ss_llama2c *m, ss_error *err);
ss_code ss_llama2c_parse(const char *path, const void *bytes, size_t n, ss_llama2c *m,
                         ss_error *err);
void ss_llama2c_free(ss_llama2c *m);
/* Reads and checks only the header (the first 28 bytes, or 40 of an ak42
 * file) into m's fields, with the limits the loader applies; no tensors.
 * For telling a llama2.c checkpoint from other files (tokenizer_open.c). */
ss_code ss_llama2c_header(const char *path, const void *bytes, size_t n, ss_llama2c *m,
                          ss_error *err);

#endif
