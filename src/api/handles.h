/* The public handles of include/slashscope.h that wrap library structs:
 * a prompt source owns the tokenizer and options it was opened with; a
 * scan owns its result struct. ss_model and ss_tokenizer are the library's
 * own structs (model/model.h, tokenizer/tokenizer.h). */
#ifndef SS_API_HANDLES_H
#define SS_API_HANDLES_H

#include "analysis/prompts.h"
#include "analysis/scan_result.h"
#include "model/model.h"

struct ss_source {
    ss_prompt_opts opts;   /* what ss_prompts_open was given (for scan.json) */
    char *path, *field;    /* owned copies behind opts.path / opts.field */
    ss_tokenizer *tok;     /* text sources */
    ss_prompts *prompts;
    int used;              /* a scan read it to its end */
};

struct ss_scan {
    ss_scan_result r;
    char *name;            /* its folder when loaded, else "scan"; labels messages */
};

/* The model's RoPE schedule with o's ablations applied (p-RoPE first, then
 * the removed frequencies, as the program's flags). o may be NULL. */
ss_code ss_api_rope(const ss_model *m, const ss_run_opts *o, ss_rope *rope, ss_error *err);

/* A new scan handle taking over *r (zeroed afterwards). */
ss_code ss_api_scan_wrap(ss_scan_result *r, const char *name, ss_scan **out, ss_error *err);

#endif
