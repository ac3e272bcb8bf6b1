/* One evaluation pass for the intervention studies (compress --eval-prompts,
 * sdh-effect): a prompt source, read and tokenized once into memory
 * (ss_eval_src_load) so each of the 1 + 3n (sdh-effect) or 1 + plans
 * (compress) variants of the model runs the same token ids without reading
 * and tokenizing them again, run through ppl (and optionally scan's slash
 * scores) in one forward pass per prompt. */
#ifndef SS_CLI_EVAL_PASS_H
#define SS_CLI_EVAL_PASS_H

#include "analysis/analysis.h"
#include "analysis/prompts.h"
#include "cli/args.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    ss_prompt_opts popts; /* the source; popts.len tokens per prompt */
    ss_tokenizer *tok;    /* owned when the source is text (NULL otherwise) */
    int skip;             /* the slash scores' skip (scan's --skip) */
    int32_t *ids;         /* [n_prompts, popts.len] after ss_eval_src_load (owned) */
    int64_t n_prompts;
    char sha[65];         /* the source's SHA-256 (ss_prompts_sha256), for the outputs'
                           * record of it: a pipe, read once, has one too */
} ss_eval_src;

typedef struct {
    double loss, perplexity;
    int64_t tokens, prompts;
    double *slash; /* [L, H, len] mean slash scores (want_slash), malloc'd; else NULL */
} ss_eval_out;

/* --eval-prompts F: token-id lines when F ends in .ids, else a text source
 * (lines, JSONL, folder of .txt) in the model's tokenizer (or --tokenizer);
 * --eval-len N tokens each (default len), at most --eval-count P (0: all).
 * Loaded (ss_eval_src_load) before it returns; on an error s holds nothing
 * (nothing to free). */
ss_code ss_eval_src_from_flags(ss_eval_src *s, const ss_args *a, const ss_model *m, int len,
                               ss_error *err);
/* Reads every prompt of s->popts once into s->ids and its digest into s->sha
 * (a source with no prompt of popts.len tokens is an error naming it).
 * Memory: 4 bytes per token. */
ss_code ss_eval_src_load(ss_eval_src *s, ss_error *err);
void ss_eval_src_free(ss_eval_src *s);

/* Runs every prompt of s (loaded) through m under the interventions in opts
 * (rope, allow_long, edit_heads, head_rope; NULL: none). */
ss_code ss_eval_pass(const ss_model *m, const ss_eval_src *s, const ss_analysis_opts *opts,
                     int want_slash, ss_eval_out *out, ss_error *err);
void ss_eval_out_free(ss_eval_out *o);

/* The SDH slash score of (layer, head) at offset d in out (NaN if none). */
double ss_eval_slash(const ss_eval_out *o, const ss_config *c, int len, int layer, int head,
                     int d);

#endif
