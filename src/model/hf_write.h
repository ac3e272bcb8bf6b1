/* A model written back as a Hugging Face folder (compress --write-model):
 * the source folder's files (config.json, tokenizer files, ...) copied as
 * they are, and every tensor of the model in one model.safetensors, its
 * bytes verbatim except the replaced ones. So any HF reader loads it with
 * the same config. Only models opened from an HF folder can be written
 * (the names and layout are the checkpoint's own). The caller makes the
 * folder a transaction (store/folder.h). */
#ifndef SS_MODEL_HF_WRITE_H
#define SS_MODEL_HF_WRITE_H

#include "model/model.h"

/* dir: an existing, empty folder.
 * from[i] (a tensor of m's list) is written with to[i]'s dtype and bytes
 * under from[i]'s name. */
ss_code ss_hf_model_write(const ss_model *m, const ss_tensor *const *from, const ss_tensor *to,
                          int n, const char *dir, ss_error *err);

#endif
