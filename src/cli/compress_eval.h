/* compress --eval-prompts F: the paper's Table 1 with perplexity in place of
 * LongBench. The eval prompts run through the original model and through
 * every (thre, rank_thre) plan applied in memory (analysis/compress_apply.h):
 * loss, perplexity and saved share per plan (eval.csv), and the slash score
 * of every SDH at its offset before and after (eval_sdh.csv; the SDHs of
 * --sdh DIR, else those the original pass over the eval prompts finds in
 * the small regime). eval.json holds both. */
#ifndef SS_CLI_COMPRESS_EVAL_H
#define SS_CLI_COMPRESS_EVAL_H

#include <cjson/cJSON.h>

#include "analysis/compress.h"
#include "cli/eval_pass.h"
#include "cli/explain_src.h"

#define SS_COMPRESS_EVAL_FLAGS {"--eval-prompts", 1}, {"--eval-len", 1}, {"--eval-count", 1}, \
    {"--sdh", 1}, {"--regime", 1}

/* Runs the eval prompts es (loaded by ss_eval_src_from_flags right after
 * the source opens, so that a bad --eval-prompts / --eval-len fails before
 * the compress analysis and any folder) through the original model and
 * every plan of r, and writes eval.csv, eval_sdh.csv and eval.json into dir. */
ss_code ss_compress_eval(const ss_args *a, ss_explain_src *src, const ss_eval_src *es,
                         const ss_compress_result *r, const double *thre, int nt,
                         const double *rank_thre, int nr, const char *dir, ss_error *err);

#endif
