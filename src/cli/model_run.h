/* What `logits`, `attn` and the analyses share on the command line: open
 * the model, read the token ids, set threads, build the RoPE schedule from
 * --rope-remove / --p-rope. */
#ifndef SS_CLI_MODEL_RUN_H
#define SS_CLI_MODEL_RUN_H

#include <cjson/cJSON.h>

#include "analysis/compress_apply.h"
#include "analysis/head_edits.h"
#include "cli/args.h"
#include "engine/head_ablate.h"
#include "engine/head_rope.h"
#include "engine/forward.h"
#include "model/model.h"

/* The flags every model-running command accepts (append to your own). */
#define SS_MODEL_RUN_FLAGS {"--ids", 1}, {"--ids-file", 1}, {"--allow-long", 0}, \
    {"--rope-remove", 1}, {"--p-rope", 1}, SS_INTERVENTION_FLAGS

/* The head interventions (issue 14), also on commands with their own
 * model flags (scan). */
#define SS_INTERVENTION_FLAGS {"--ablate", 1}, {"--head-rope-remove", 2}, {"--lowrank", 1}

typedef struct {
    ss_model *model;
    int32_t *ids;
    int n;
    ss_rope rope; /* the model's schedule with the ablation flags applied */
    int allow_long;
    /* --ablate HEADS[:zero|:mean], --head-rope-remove HEAD:l1,l2,...
     * (repeatable); no head when absent */
    ss_head_edits edits;
    ss_lowrank_applied lowrank; /* --lowrank PLAN[@THRE,RANK]: W_Q/W_K replaced in memory */
    /* the plan folder's digest (ss_prov_folder_digest: of its SHA256SUMS,
     * else of plan.json), or NULL: a folder rewritten in place under the
     * same path is another plan */
    cJSON *lowrank_plan;
} ss_model_run;

/* Opens positional[0] as the model, reads --ids/--ids-file when want_ids,
 * applies --threads and the RoPE flags. */
ss_code ss_model_run_open(ss_model_run *r, const ss_args *a, int want_ids, ss_error *err);
void ss_model_run_close(ss_model_run *r);

/* The forward options' intervention fields for r (none without --ablate /
 * --head-rope-remove). */
void ss_model_run_edits(const ss_model_run *r, ss_forward_opts *o);
/* --lowrank DIR[@THRE,RANK_THRE]: applies the plan of compress result DIR
 * (the pair given, or the plan's only one) to m in memory; *digest: the
 * folder's digest (ss_prov_folder_digest), the caller's to free. */
ss_code ss_lowrank_from_flags(const ss_args *a, ss_model *m, ss_lowrank_applied *out,
                              cJSON **digest, ss_error *err);
/* What r changes in the model's computation, for a result's record:
 * {"ablate": spec, "head_rope_remove": [specs], "lowrank": spec,
 * "lowrank_plan": {"path", "digest_of", "sha256"}}; NULL when nothing. */
cJSON *ss_model_run_edits_json(const ss_model_run *r, const ss_args *a);
/* The --lowrank plan's SHA-256 (hex), or NULL without --lowrank. */
const char *ss_model_run_plan_sha256(const ss_model_run *r);

/* Applies --rope-remove L,... and --p-rope P (either or both) to rope. */
ss_code ss_rope_from_flags(const ss_args *a, ss_rope *rope, ss_error *err);

#endif
