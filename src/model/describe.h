/* A model's description as JSON: what `info --json` prints and what every
 * analysis records in its output (scan.json, ...), so the two never drift. */
#ifndef SS_MODEL_DESCRIBE_H
#define SS_MODEL_DESCRIBE_H

#include <cjson/cJSON.h>

#include "model/model.h"

/* rope: the schedule actually used (NULL: the model's own). Returns NULL
 * only when out of memory. Schema in docs/cli.md ("info --json"). */
cJSON *ss_model_describe(const ss_model *m, const ss_rope *rope);

/* The model's identity as a scan records it (scan.json "model": path, format,
 * architecture, n_layer, n_head, n_kv_head, d_model, d_head, d_ff, vocab,
 * ctx_len, attn_scale): the fields two scans must share to be merged or
 * resumed. path (owned from here on) is the JSON value to record. */
cJSON *ss_model_identity_json(const ss_model *m, cJSON *path);

const char *ss_scaling_name(ss_scaling_type t);
const char *ss_pairing_name(ss_rope_pairing p);
const char *ss_activation_name(ss_activation a);
const char *ss_qk_norm_name(ss_qk_norm q);

#endif
