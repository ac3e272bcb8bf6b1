/* The head interventions of issue 14 from their text specs, shared by the
 * program's flags (cli/model_run.c: --ablate, --head-rope-remove) and the
 * C API's ss_run_opts (ablate, head_rope_remove):
 *   ablate "L1H3,L2H0[:zero|:mean]" (the mode applies to the whole list);
 *   head_rope_remove "L1H3:1,2,5-8" (1-based frequencies; one head each).
 * Parsed once for a model, they set the forward pass's hooks
 * (engine/head_ablate.h, engine/head_rope.h). */
#ifndef SS_ANALYSIS_HEAD_EDITS_H
#define SS_ANALYSIS_HEAD_EDITS_H

#include <cjson/cJSON.h>

#include "engine/forward.h"
#include "engine/head_ablate.h"
#include "engine/head_rope.h"
#include "model/model.h"

/* Adds spec's heads to abl (initialised for the model). `what` names the
 * setting in messages ("--ablate", "ablate"). */
ss_code ss_head_ablation_parse(const char *spec, const char *what, ss_head_ablation *abl,
                               ss_error *err);
/* Adds one head's removal to hr; n_freq: the schedule's F. */
ss_code ss_head_rope_parse(const char *spec, const char *what, const ss_config *c, int n_freq,
                           ss_head_rope *hr, ss_error *err);

/* Both interventions of one run. */
typedef struct {
    ss_head_ablation ablation;
    ss_head_rope head_rope;
} ss_head_edits;

/* ablate may be NULL; hrr[0..n_hrr) the per-head removals. Free with
 * ss_head_edits_free (also after a failure). */
ss_code ss_head_edits_parse(ss_head_edits *e, const ss_model *m, const char *ablate,
                            const char *const *hrr, int n_hrr, ss_error *err);
/* The same, its messages naming the two inputs as the caller calls them
 * (the program: "--ablate", "--head-rope-remove"). */
ss_code ss_head_edits_parse_as(ss_head_edits *e, const ss_model *m, const char *ablate,
                               const char *ablate_name, const char *const *hrr, int n_hrr,
                               const char *hrr_name, ss_error *err);
void ss_head_edits_free(ss_head_edits *e);
/* Sets o's edit_heads / edit_ctx / head_rope for e (untouched when e has
 * none of them). */
void ss_head_edits_forward(const ss_head_edits *e, ss_forward_opts *o);

/* What a result records of the interventions (scan.json, ppl.json, ...):
 * {"ablate": spec, "head_rope_remove": [specs], "lowrank": spec,
 * "lowrank_plan": a copy of lowrank_plan (the plan folder's provenance
 * record, analysis/lowrank_model.h)}, each only when given; NULL when none
 * is. The program and the API both build their record here. */
cJSON *ss_head_edits_json(const char *ablate, const char *const *hrr, int n_hrr,
                          const char *lowrank, const cJSON *lowrank_plan);

#endif
