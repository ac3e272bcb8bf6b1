/* The prompt-source flags of `scan`, `rank` and `freq`, read in one place so
 * that a scan's prompt set can be explained by pasting its flags:
 * exactly one of --prompts F, --ids-file F, --ood COUNT, --repeat SEG, with
 * --len N and the options below. Meanings: `slashscope scan --help`. */
#ifndef SS_CLI_PROMPT_FLAGS_H
#define SS_CLI_PROMPT_FLAGS_H

#include "analysis/prompts.h"
#include "cli/args.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

#define SS_PROMPT_FLAGS {"--prompts", 1}, {"--ids-file", 1}, {"--ood", 1}, {"--repeat", 1}, \
    {"--count", 1}, {"--len", 1}, {"--seed", 1}, {"--field", 1}, {"--chunk", 0}, \
    {"--vocab", 1}, {"--bos", 0}, {"--tokenizer", 1}, {"--ood-offset", 1}

/* Fills o from the flags. Text sources open the tokenizer (--tokenizer, or
 * the model's own) into *tok: free it with ss_tokenizer_free after the
 * prompts are closed. A --len beyond the model's context is refused unless
 * allow_long. */
ss_code ss_prompt_opts_from_args(const ss_args *a, const ss_model *m, int allow_long,
                                 ss_prompt_opts *o, ss_tokenizer **tok, ss_error *err);

/* The tokenizer --tokenizer names, else the model's own (a->positional[0]).
 * When the model brings none (an HF folder without tokenizer.json, a
 * llama2.c checkpoint without tokenizer.bin), the error says which flag
 * fixes it. */
ss_code ss_cli_tokenizer_open(const ss_args *a, ss_tokenizer **tok, ss_error *err);

#endif
