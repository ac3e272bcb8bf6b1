/* A model written as a Hugging Face folder (compress --write-model), from
 * any input format, loadable by slashscope and by transformers.
 *
 * - From an HF folder: its files (config.json, tokenizer files, ...) copied
 *   as they are and every tensor in model.safetensors, byte for byte,
 *   except the tensors holding replaced W_Q / W_K rows, which become F32
 *   (a fused qkv_proj / query_key_value: the whole fused tensor, its v rows
 *   the source's values).
 * - From a llama2.c checkpoint or a GGUF (llama, qwen2, phi3, olmo2, gemma,
 *   gemma2, gptneox): config.json written for the architecture's
 *   transformers class from the model's hyper-parameters
 *   (hf_write_config.h), every tensor under its HF name, in HF's layout:
 *   q/k rows permuted from the interleaved (GPT-J pair) order to HF's
 *   half-split order (llama), GPT-NeoX's blocked attn_qkv regrouped per
 *   head, Gemma's stored 1 + w norms back to w; quantized tensors
 *   dequantized to F32 (F32 / F16 / BF16 keep their bytes). No tokenizer
 *   files: slashscope cannot write them (docs/compress.md).
 * Tensors are written one at a time, converted row by row: every output
 * tensor's name, dtype and shape are known before any data, so the
 * safetensors header goes first and memory holds no more than a row
 * buffer, the source's mapping and the one or two replaced W_Q / W_K
 * matrices of the tensor being written. Above max_shard bytes of tensor
 * data the tensors are split over shards as save_pretrained splits them,
 * with model.safetensors.index.json (io/safetensors_shards.h).
 * The caller makes the folder a transaction (store/folder.h). */
#ifndef SS_MODEL_HF_WRITE_H
#define SS_MODEL_HF_WRITE_H

#include "model/model.h"

/* Can m be written (before any work is done)? An SS_ERR_UNSUPPORTED
 * saying why not (a GGUF of another architecture than llama, ...). */
ss_code ss_hf_model_check(const ss_model *m, ss_error *err);
/* The W_Q / W_K matrices that replace the source's, made one at a time
 * when the writer reaches their tensor and freed after it. */
typedef struct {
    void *ctx;
    /* whether layer l's W_Q (key 0) / W_K is replaced: asked before any is
     * made (the header needs every dtype) */
    int (*has)(void *ctx, int layer, int key);
    /* its rows, F32 [heads * d_head, d_model] in the checkpoint's own row
     * order (as the bound m->layers[l].wq rows are), malloc'ed: the writer
     * frees them */
    ss_code (*make)(void *ctx, int layer, int key, float **rows, ss_error *err);
} ss_hf_repl;

typedef struct {
    uint64_t max_shard; /* the most tensor bytes in one safetensors file (0:
                           SS_SHARD_DEFAULT_BYTES, HF's 5 GB) */
    int quiet;          /* no progress line (else shown on a terminal's stderr) */
} ss_hf_write_opts;

/* dir: an existing, empty folder. repl: NULL (nothing replaced) or the
 * replacements. */
ss_code ss_hf_model_write(const ss_model *m, const ss_hf_repl *repl, const char *dir,
                          const ss_hf_write_opts *o, ss_error *err);

#endif
