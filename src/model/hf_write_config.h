/* config.json for a llama2.c / GGUF model written as a Hugging Face folder
 * (model/hf_write.h): LlamaForCausalLM's fields from the model. */
#ifndef SS_MODEL_HF_WRITE_CONFIG_H
#define SS_MODEL_HF_WRITE_CONFIG_H

#include "model/model.h"

/* Can m be described by a LlamaConfig? An SS_ERR_UNSUPPORTED naming what
 * cannot (another architecture, partial rotary, uneven biases, a RoPE
 * scaling other than linear / yarn). */
ss_code ss_hf_config_check(const ss_model *m, ss_error *err);
/* Writes the config (atomically) to path. */
ss_code ss_hf_config_write(const ss_model *m, const char *path, ss_error *err);

#endif
