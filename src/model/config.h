/* Reading a model's hyper-parameters from each format's own metadata into
 * one ss_config (model/model.h). Validation of the numbers themselves is in
 * ss_config_validate, shared by all three. */
#ifndef SS_MODEL_CONFIG_H
#define SS_MODEL_CONFIG_H

#include <cjson/cJSON.h>

#include "io/gguf.h"
#include "io/llama2c.h"
#include "model/model.h"

/* config.json of a Hugging Face folder (already parsed; `file` names it in
 * errors). Fills cfg and the RoPE base. */
ss_code ss_config_from_hf(const cJSON *json, const char *file, ss_config *cfg, double *rope_base,
                          ss_error *err);
ss_code ss_config_from_gguf(const ss_gguf *g, ss_config *cfg, double *rope_base, ss_error *err);
void ss_config_from_llama2c(const ss_llama2c *m, ss_config *cfg, double *rope_base);

/* Dimensions positive, heads divide, d_head even, etc. `source` names the
 * file. */
ss_code ss_config_validate(const ss_config *cfg, const char *source, ss_error *err);

#endif
