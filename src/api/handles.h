/* The public handles of include/slashscope.h that wrap library structs:
 * a prompt source owns the tokenizer and options it was opened with; a
 * scan owns its result struct. ss_model and ss_tokenizer are the library's
 * own structs (model/model.h, tokenizer/tokenizer.h). */
#ifndef SS_API_HANDLES_H
#define SS_API_HANDLES_H

#include <cjson/cJSON.h>

#include "analysis/analysis.h"
#include "analysis/head_edits.h"
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

/* The head interventions of o (ablate, head_rope_remove) parsed for m
 * (analysis/head_edits.h); freed with ss_head_edits_free, nothing to free
 * after a failure. */
ss_code ss_api_edits(const ss_model *m, const ss_run_opts *o, ss_head_edits *e, ss_error *err);

/* What the program records as "interventions" for m under run options o
 * (o may be NULL): the ablate and head_rope_remove specs as given and a
 * low-rank model's "lowrank" spec and "lowrank_plan" (its plan folder's
 * digest), analysis/head_edits.h; NULL when there is none. */
cJSON *ss_api_interventions(const ss_model *m, const ss_run_opts *o);

/* A generic result: named arrays into `owned`, released by `release`. */
#define SS_RESULT_MAX_ARRAYS 32
struct ss_result {
    const char *kind;
    int n;
    ss_array arrays[SS_RESULT_MAX_ARRAYS];
    cJSON *meta;
    void *owned;
    void (*release)(void *owned);
};

/* An empty result of `kind` owning `owned` (released with release, also
 * on failure); NULL when out of memory. */
ss_result *ss_api_result_new(const char *kind, void *owned, void (*release)(void *),
                             ss_error *err);
/* Appends an f64 / i64 array (shape of ndim dims) viewing data. */
void ss_api_result_add(ss_result *r, const char *name, const double *data, int ndim,
                       int64_t d0, int64_t d1, int64_t d2);
void ss_api_result_add_i64(ss_result *r, const char *name, const int64_t *data, int ndim,
                           int64_t d0, int64_t d1, int64_t d2);

/* What every run over a source does first: refuse a spent source (and mark
 * this one spent), build the RoPE schedule of o, apply threads. */
ss_code ss_api_pass_begin(const ss_model *m, ss_source *src, const ss_run_opts *o, int threads,
                          ss_rope *rope, ss_error *err);

/* A library analysis as a public handle: `result` turns its finished state
 * into a result; `state` is the kind's own (freed with free_state after the
 * analysis). len / rope: what a freq analysis was made for (len 0: any). */
struct ss_analyzer {
    const char *kind;
    ss_analysis an;
    void *state;
    void (*free_state)(void *state);
    ss_code (*result)(ss_analyzer *a, ss_result **out, ss_error *err);
    int len;
    int has_rope;
    ss_rope rope;
    int ran;
    cJSON *interventions; /* the last pass's ss_api_interventions, into its result's meta */
};

/* A new analyzer of kind (zeroed but for kind); NULL when out of memory. */
ss_analyzer *ss_api_analyzer_new(const char *kind, ss_error *err);
/* The analyzer's result: a zeroed block of `size` bytes whose first member
 * is the analysis's result struct receives its finish, then becomes the
 * result's owned memory (released with release) and lay adds its arrays. */
ss_code ss_api_analyzer_finish(ss_analyzer *a, size_t size, void (*release)(void *),
                               ss_code (*lay)(ss_result *r, void *owned, const ss_analyzer *a,
                                              ss_error *err),
                               ss_result **out, ss_error *err);
/* Runs a (consumed: freed here) alone over src and takes its result. */
ss_code ss_api_run_one(ss_analyzer *a, const ss_model *m, ss_source *src,
                       const ss_pass_params *p, ss_result **out, ss_error *err);

/* One pass of analyses an[0..n) over every prompt of src (read once) with
 * p's RoPE ablation, threads, progress and stop; SS_STOP when stopped,
 * SS_ERR_VALUE when the source gave no prompt. what names the pass. */
ss_code ss_api_pass(const ss_model *m, ss_source *src, ss_analysis *const *an, int n,
                    const ss_pass_params *p, const char *what, ss_error *err);

/* A new scan handle taking over *r (zeroed afterwards). */
ss_code ss_api_scan_wrap(ss_scan_result *r, const char *name, ss_scan **out, ss_error *err);

#endif
