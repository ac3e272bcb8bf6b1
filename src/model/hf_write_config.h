/* config.json for a llama2.c / GGUF model written as a Hugging Face folder
 * (model/hf_write.h): the fields of its architecture's transformers config
 * class (LlamaConfig, Qwen2Config, ...) from the model. */
#ifndef SS_MODEL_HF_WRITE_CONFIG_H
#define SS_MODEL_HF_WRITE_CONFIG_H

#include "model/model.h"

/* Can m be described by its class's config? An SS_ERR_UNSUPPORTED naming
 * what cannot (an architecture without a form here, partial rotary outside
 * GPT-NeoX, biases the class does not have, a RoPE scaling other than
 * linear / yarn, such as GGUF rope_freqs divisors). */
ss_code ss_hf_config_check(const ss_model *m, ss_error *err);
/* Writes the config (atomically) to path. */
ss_code ss_hf_config_write(const ss_model *m, const char *path, ss_error *err);

#endif
