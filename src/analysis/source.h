/* What the analysis driver reads prompts from: anything with a `next`.
 * Three are built in: an opened prompt source (analysis/prompts.h), one
 * sequence of ids held in memory, and many prompts of one length held in
 * memory (read once, run many times). */
#ifndef SS_ANALYSIS_SOURCE_H
#define SS_ANALYSIS_SOURCE_H

#include <stdint.h>

#include "analysis/prompts.h"
#include "common/error.h"

typedef struct ss_prompt_source {
    void *ctx;
    /* The next prompt: *ids [*n] valid until the next call; *n = 0 at the end. */
    ss_code (*next)(void *ctx, const int32_t **ids, int *n, ss_error *err);
    int64_t total; /* prompts (or records) expected, for progress; 0: unknown */
    /* private state of the built-in sources */
    ss_prompts *prompts;
    int32_t *buf;
    const int32_t *single; /* the held prompts, [held, len] */
    int len;
    int64_t held, next_held;
} ss_prompt_source;

/* Reads p (not owned: close it yourself after ss_prompt_source_free) in
 * prompts of len tokens. */
ss_code ss_prompt_source_prompts(ss_prompt_source *s, ss_prompts *p, int len, int64_t total,
                                 ss_error *err);
/* One prompt ids[0..n) (borrowed). */
void ss_prompt_source_ids(ss_prompt_source *s, const int32_t *ids, int n);
/* n_prompts prompts of len tokens, prompt i at ids + i * len (borrowed). */
void ss_prompt_source_held(ss_prompt_source *s, const int32_t *ids, int64_t n_prompts, int len);
void ss_prompt_source_free(ss_prompt_source *s);

#endif
