/* A low-rank plan given as the program's --lowrank takes it,
 * "PLAN[@THRE,RANK_THRE]" (a compress result folder and the pair to apply;
 * a plan with one pair needs none), applied to a model: in place for the
 * program (cli/model_run.c), or as a NEW model for the API, which shares
 * every tensor of the model it is made from and owns only its replaced
 * W_Q / W_K (the API's models are const and shared between threads, so a
 * plan cannot be applied to one in place). Both go through
 * ss_lowrank_apply (analysis/compress_apply.h): the same matrices, so the
 * same numbers bit for bit. */
#ifndef SS_ANALYSIS_LOWRANK_MODEL_H
#define SS_ANALYSIS_LOWRANK_MODEL_H

#include <cjson/cJSON.h>

#include "analysis/compress_apply.h"

/* spec applied to m in place; *plan gets the plan folder's provenance
 * record ({"path", "digest_of", "sha256"}, store/provenance.h) that results
 * keep as "lowrank_plan". Messages begin with `label` (the program's
 * "--lowrank"). The plan's shares are freed once applied (out->r is NULL:
 * ss_lowrank_matrix cannot be called on *out). Undo with
 * ss_lowrank_restore; cJSON_Delete(*plan). */
ss_code ss_lowrank_apply_spec(ss_model *m, const char *spec, const char *label,
                              ss_lowrank_applied *out, cJSON **plan, ss_error *err);

/* A new model: base with spec's W_Q / W_K. It shares base's tensors,
 * tokenizer files and path, so base must stay open while it is; closing it
 * (ss_model_close) frees only its layer table and replaced matrices. Its
 * weights fingerprint is base's stored tensors' (as the program's scan.json
 * records under --lowrank), asked of base (its `source`): hashed once for
 * base and every model made from it. The plan is told by
 * ss_model_lowrank_spec. A base that carries a plan itself is refused. */
ss_code ss_model_open_lowrank(const ss_model *base, const char *spec, ss_model **out,
                              ss_error *err);

/* The spec a model of ss_model_open_lowrank was made with, and (plan not
 * NULL) its plan record, both owned by the model; NULL for any other model. */
const char *ss_model_lowrank_spec(const ss_model *m, const cJSON **plan);
/* Matrices (heads' W_Q / W_K) the plan replaced in such a model; 0 otherwise. */
int ss_model_lowrank_compressed(const ss_model *m);

#endif
