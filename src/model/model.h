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
#include "model/fingerprint.h"
#include "model/rope.h"

typedef enum { SS_FMT_HF, SS_FMT_GGUF, SS_FMT_LLAMA2C } ss_format;
typedef enum {
    SS_ARCH_LLAMA, SS_ARCH_MISTRAL, SS_ARCH_QWEN2, SS_ARCH_GEMMA,
    SS_ARCH_QWEN3, SS_ARCH_GEMMA2, SS_ARCH_GEMMA3, SS_ARCH_OLMO2, SS_ARCH_GPTNEOX, SS_ARCH_PHI3
} ss_arch;
typedef enum { SS_ACT_SILU, SS_ACT_GELU_TANH, SS_ACT_GELU_ERF } ss_activation;
typedef enum { SS_NORM_RMS, SS_NORM_LAYER } ss_norm_type;      /* LayerNorm: GPT-NeoX, with bias */
typedef enum { SS_QKNORM_NONE, SS_QKNORM_HEAD, SS_QKNORM_PROJ } ss_qk_norm;
/* q/k/v rows of a fused projection: all q, then all k, then all v (Phi-3,
 * GGUF attn_qkv), or per head [n_head, 3, d_head] (GPT-NeoX in HF). */
typedef enum { SS_QKV_SEPARATE, SS_QKV_BLOCKED, SS_QKV_PER_HEAD } ss_qkv_layout;

/* Per-layer attention patterns are kept for up to this many layers. */
#define SS_MAX_LAYERS 1024

typedef struct {
    ss_arch arch;
    int n_layer, d_model, n_head, n_kv_head, d_head, d_ff, vocab, ctx_len;
    double norm_eps;
    int norm_add_one;    /* RMSNorm multiplies by (1 + w): Gemma's HF weights */
    double embed_scale;  /* 1, or sqrt(d_model) for Gemma (rounded to fp32) */
    ss_activation act;
    ss_norm_type norm_type;
    int gated_mlp;       /* down(act(gate) * up); 0: down(act(up)) (GPT-NeoX) */
    int parallel_residual; /* x + attn(LN1(x)) + mlp(LN2(x)) (GPT-NeoX) */
    ss_qk_norm qk_norm;  /* RMSNorm on q and k before RoPE (Qwen3, Gemma 3, OLMo 2) */
    ss_qkv_layout qkv_layout;
    double attn_scale;   /* logit scale s: 1/sqrt(d_head) or query_pre_attn_scalar^-1/2 */
    double attn_softcap; /* > 0: scores become cap tanh(s / cap) before the mask (Gemma 2) */
    double final_softcap;/* > 0: the same on the logits */
    int rotary_dim;      /* dims of each head RoPE rotates (d_head unless partial rotary) */
    int sliding_window;  /* > 0: a windowed layer's query sees only its last W keys; 0: none */
    /* which layers are local (sliding window; and local RoPE where
     * rope_local_base > 0); per_layer = 0: every layer is, if W > 0 */
    int per_layer;
    unsigned char layer_local[SS_MAX_LAYERS];
    double rope_local_base; /* > 0: local layers use this base, unscaled (Gemma 3) */
    int has_qkv_bias;
    int tied_output;     /* logits use the token embedding */
    ss_rope_pairing pairing; /* of the checkpoint's q/k rows */
    ss_rope_scaling scaling;
    int bos_id, eos_id;  /* -1 if unknown */
} ss_config;

/* One layer's tensors; NULL where the architecture has none. Fused
 * projections (qkv_proj, gate_up_proj) are bound as row views, so wq/wk/wv
 * and w_gate/w_up always exist for the engine and the analyses. */
typedef struct {
    const ss_tensor *attn_norm, *attn_norm_b;  /* no attn_norm: OLMo 2 (no pre-norm) */
    const ss_tensor *wq, *wk, *wv, *bq, *bk, *bv, *wo, *bo;
    const ss_tensor *q_norm, *k_norm;
    const ss_tensor *post_attn_norm;           /* on the attention output (Gemma 2/3, OLMo 2) */
    const ss_tensor *ffn_norm, *ffn_norm_b;
    const ss_tensor *w_gate, *w_up, *w_down, *b_up, *b_down; /* w_gate NULL: plain MLP */
    const ss_tensor *post_ffn_norm;
} ss_layer_weights;

typedef struct ss_model {
    char *path;
    ss_format format;
    ss_config cfg;
    ss_rope rope; /* the model's own schedule, every frequency active (global layers) */
    ss_rope rope_local; /* local layers' schedule where cfg.rope_local_base > 0 */
    ss_layer_weights *layers;
    const ss_tensor *tok_embd, *out_norm, *out_norm_b, *output;
    ss_tensor *views;   /* row views into fused tensors (and regrouped copies) */
    int n_views;
    ss_tensor_list owned; /* regrouped copies of per-head fused weights */
    ss_dtype dtype; /* dtype of the largest matrices, for `info` */
    ss_tensor_list tensors;
    ss_gguf gguf;   /* kept open for GGUF models (vocabulary lives there) */
    int has_gguf;
    /* ss_model_fingerprint's result, computed on the first call: a command
     * needs it for its checkpoints' settings and again for its result's
     * provenance (~0.3 s per GB each); the tensors never change once open.
     * Kept only in a model opened from files (source NULL). */
    ss_weights_fingerprint fingerprint;
    int has_fingerprint;
    /* A model made from another (analysis/lowrank_model.h) shares that
     * one's tensors and owns only what `release` frees: ss_model_close
     * hands it over. NULL for a model opened from files. */
    void (*release)(struct ss_model *m);
    void *derived;
    /* The model opened from files whose tensors this one shares (NULL: this
     * is one): ss_model_fingerprint asks it, so the stored tensors are
     * hashed once however many models are made from them. */
    const struct ss_model *source;
} ss_model;

ss_code ss_model_open(const char *path, ss_model **out, ss_error *err);
void ss_model_close(ss_model *m);

const char *ss_arch_name(ss_arch a);

/* Sliding window of layer l (0: full causal attention). */
int ss_layer_window(const ss_config *c, int l);
/* Does layer l run the local RoPE schedule (Gemma 3's sliding layers)? */
int ss_layer_is_local_rope(const ss_config *c, int l);
/* The RoPE schedule of layer l: m->rope_local for Gemma 3's local layers,
 * else m->rope. */
const ss_rope *ss_layer_rope(const ss_model *m, int l);
/* The schedule layer l runs when a caller edits the global one (ablations,
 * p-RoPE: `override`, derived from m->rope, or NULL): override itself for
 * global layers, the layer's own angles with override's active flags (in
 * *scratch) for local ones. */
const ss_rope *ss_layer_rope_override(const ss_model *m, int l, const ss_rope *override,
                                      ss_rope *scratch);
const char *ss_format_name(ss_format f);

/* What a checkpoint tensor is, for writing the model in Hugging Face's
 * layout (model/hf_write.c): the rows a RoPE permutation or a fused q/k/v
 * reordering moves, and the norm weights Gemma's GGUF stores as 1 + w. */
typedef enum {
    SS_TK_OTHER, SS_TK_Q, SS_TK_K, SS_TK_QKV, SS_TK_BQ, SS_TK_BK, SS_TK_BQKV, SS_TK_NORM
} ss_tensor_kind;
/* Tensor `name` of m's list under its Hugging Face name for m's
 * architecture (written to hf), its layer (-1: outside the layers) and
 * kind. 0 when it is none of the tensors the model binds (GGUF's
 * rope_freqs.weight, an extra tensor of a checkpoint). */
int ss_model_tensor_hf(const ss_model *m, const char *name, char *hf, size_t cap, int *layer,
                       ss_tensor_kind *kind);

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
