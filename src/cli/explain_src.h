/* The prompts an explain command (rank, freq) runs, one at a time:
 *  - a single sequence from --ids "1 2 3" or the first line of --ids-file F
 *    when no --len is given (any length up to the context, or beyond with
 *    --allow-long), as `logits` and `attn` read it; or
 *  - a prompt source with the flags and meaning of `scan` (--prompts,
 *    --ids-file, --ood, --repeat; analysis/prompts.h), every prompt exactly
 *    --len tokens.
 * Also opens the model and applies --threads, --rope-remove and --p-rope
 * (cli/model_run.h), so the forward pass runs the ablated schedule when asked. */
#ifndef SS_CLI_EXPLAIN_SRC_H
#define SS_CLI_EXPLAIN_SRC_H

#include <cjson/cJSON.h>

#include "analysis/analysis.h"
#include "analysis/prompts.h"
#include "cli/model_run.h"
#include "cli/prompt_flags.h"
#include "tokenizer/tokenizer.h"

/* --ids-file is in both lists: declared once is enough for the parser */
#define SS_EXPLAIN_SRC_FLAGS {"--ids", 1}, {"--allow-long", 0}, {"--rope-remove", 1}, \
    {"--p-rope", 1}, SS_INTERVENTION_FLAGS, SS_PROMPT_FLAGS

/* The usage lines for those flags. */
#define SS_EXPLAIN_SRC_USAGE \
    "prompts: one sequence: --ids \"1 2 3\" or --ids-file F (its first line), any length;\n" \
    "  or a source exactly as for `scan`, with --len N: --prompts F (text lines, JSONL with\n" \
    "  --field, or a folder of .txt) [--chunk] [--tokenizer T], --ids-file F (every line),\n" \
    "  --ood COUNT [--seed S] [--vocab V] [--bos], --repeat SEG --count P [--seed S];\n" \
    "  --count P caps a file source. --allow-long runs past the model's context.\n" \
    "  --rope-remove L1,L2,... / --p-rope P run the whole pass under that RoPE ablation.\n" \
    "  --ablate L1H3,L2H0[:zero|:mean] replaces those heads' outputs (before W_O) by zero\n" \
    "  or by their mean over the prompt's positions. --head-rope-remove L1H3:1,2,5-8\n" \
    "  (repeatable) leaves those frequencies unrotated for that query head only.\n" \
    "  --lowrank PLAN[@THRE,RANK_THRE] runs with a compress plan's low-rank W_Q/W_K.\n"

typedef struct {
    ss_model_run run;        /* model, rope, the single --ids prompt */
    ss_prompts *prompts;     /* a source, or NULL for the single prompt */
    ss_prompt_opts popts;
    ss_tokenizer *tok;
    int len;                 /* tokens per prompt */
    int32_t *buf;            /* [len] */
    int single_done;
    int64_t emitted;
    cJSON *interventions;    /* --ablate / --head-rope-remove / --lowrank as given, or NULL */
} ss_explain_src;

ss_code ss_explain_src_open(ss_explain_src *s, const ss_args *a, ss_error *err);
/* The next prompt: *ids valid until the next call, *got = 0 at the end. */
ss_code ss_explain_src_next(ss_explain_src *s, const int32_t **ids, int *got, ss_error *err);
void ss_explain_src_close(ss_explain_src *s);
/* Runs every prompt through the n analyses (analysis/analysis.h) with a
 * progress line labelled `what`; refuses a source that gave no prompt. */
ss_code ss_explain_src_run(ss_explain_src *s, ss_analysis *const *an, int n, const char *what,
                           int quiet, ss_error *err);
/* For the record in the output JSON. */
cJSON *ss_explain_src_json(const ss_explain_src *s);
/* A copy of the run's interventions for a result record, or NULL if none. */
cJSON *ss_explain_src_interventions(const ss_explain_src *s);
/* The head every result JSON of a command over s starts with: command,
 * version, model, provenance, prompts and (when the pass changed the model,
 * cli/model_run.h) interventions. NULL on error (in err). */
cJSON *ss_explain_src_result(const ss_explain_src *s, const char *command, ss_error *err);

#endif
