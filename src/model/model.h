/* A loaded model: its hyper-parameters (ss_config), the RoPE schedule it
 * uses, and the weights as typed views into memory-mapped files. Opening
 * detects the format from the path: a folder with config.json (Hugging
 * Face), a GGUF file, or a llama2.c checkpoint. */
#ifndef SS_MODEL_MODEL_H
#define SS_MODEL_MODEL_H

#include <stdint.h>

#include "common/error.h"
#include "io/gguf.h"
#include "io/tensor.h"
#include "model/rope.h"

typedef enum { SS_FMT_HF, SS_FMT_GGUF, SS_FMT_LLAMA2C } ss_format;
typedef enum { SS_ARCH_LLAMA, SS_ARCH_MISTRAL, SS_ARCH_QWEN2, SS_ARCH_GEMMA } ss_arch;
typedef enum { SS_ACT_SILU, SS_ACT_GELU_TANH } ss_activation;

typedef struct {
    ss_arch arch;
    int n_layer, d_model, n_head, n_kv_head, d_head, d_ff, vocab, ctx_len;
    double norm_eps;
    int norm_add_one;    /* RMSNorm multiplies by (1 + w): Gemma's HF weights */
    double embed_scale;  /* 1, or sqrt(d_model) for Gemma (rounded to fp32) */
    ss_activation act;
    double attn_scale;   /* logit scale s: 1/sqrt(d_head) or query_pre_attn_scalar^-1/2 */
    int sliding_window;  /* > 0: each query sees only its last W keys (Mistral v0.1); 0: all */
    int has_qkv_bias;
    int tied_output;     /* logits use the token embedding */
    ss_rope_pairing pairing; /* of the checkpoint's q/k rows */
    ss_rope_scaling scaling;
    int bos_id, eos_id;  /* -1 if unknown */
} ss_config;

typedef struct {
    const ss_tensor *attn_norm, *wq, *wk, *wv, *wo, *bq, *bk, *bv;
    const ss_tensor *ffn_norm, *w_gate, *w_up, *w_down;
} ss_layer_weights;

typedef struct ss_model {
    char *path;
    ss_format format;
    ss_config cfg;
    ss_rope rope; /* the model's own schedule, every frequency active */
    ss_layer_weights *layers;
    const ss_tensor *tok_embd, *out_norm, *output;
    ss_dtype dtype; /* dtype of the largest matrices, for `info` */
    ss_tensor_list tensors;
    ss_gguf gguf;   /* kept open for GGUF models (vocabulary lives there) */
    int has_gguf;
} ss_model;

ss_code ss_model_open(const char *path, ss_model **out, ss_error *err);
void ss_model_close(ss_model *m);

const char *ss_arch_name(ss_arch a);
const char *ss_format_name(ss_format f);

/* Scans a weight for NaN/Inf; the first one found is an SS_ERR_VALUE naming
 * the tensor and the element. The engine calls it only after non-finite
 * activations, to say which weight is to blame. */
ss_code ss_tensor_check_finite(const ss_tensor *t, ss_error *err);

/* A weight's values as f32 whatever its stored dtype, for the analyses that
 * read weights (rank's SVDs, cone): rows [row0, row0 + nrows) of a matrix,
 * or elements [first, first + n) of a vector such as a bias. */
void ss_weight_rows_f32(const ss_tensor *t, int64_t row0, int64_t nrows, float *dst);
void ss_weight_elems_f32(const ss_tensor *t, int64_t first, int64_t n, float *dst);

#endif
