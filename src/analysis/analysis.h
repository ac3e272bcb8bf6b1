/* One shape for every analysis (scan, rank, freq, ...) and one driver that
 * runs any set of them over any prompt source, one forward pass per prompt.
 *
 * An analysis is a vtable over its own state. Per prompt the driver calls
 *   begin(ids, n) -> the forward pass with on_layer / on_probs /
 *   on_layer_done (engine/observer.h, same threading contract) ->
 *   on_logits (only analyses that have it; the logits are then computed) ->
 *   end_prompt.
 * After the last prompt the caller takes the result with finish (a plain
 * struct the analysis's header names: ss_scan_result, ss_rank_result, ...),
 * may first fold another analysis of the same kind and settings into this
 * one with merge (exact: sums and counts add), and releases the state with
 * free. Any hook may be NULL.
 *
 * Codes: every hook returns an ss_code. SS_STOP is not an error:
 *  - from a forward-pass hook it ends that prompt's pass early (the layers
 *    after it do not run) and the driver goes on with end_prompt;
 *  - from begin or end_prompt it ends the run after this prompt, and
 *    ss_analysis_run returns SS_OK as if the source had ended.
 * Any other non-OK code ends the run with that error (err filled). */
#ifndef SS_ANALYSIS_ANALYSIS_H
#define SS_ANALYSIS_ANALYSIS_H

#include <stdint.h>

#include "analysis/source.h"
#include "common/error.h"
#include "common/progress.h"
#include "io/npy.h"
#include "model/model.h"

/* One array of an analysis's mergeable state (sums, counts, moments, the
 * prompt count), as raw bytes of the running machine: what a distributed
 * run sends to rank 0 and a per-rank checkpoint keeps. Unpacked into a
 * fresh analysis of the same kind and settings, then folded in with merge,
 * so merge stays the one place that knows how states combine. */
typedef struct {
    const char *name;
    void *data;
    size_t bytes;
    int type; /* ss_npy_type of each element, or SS_STATE_RAW (a struct: ss_moments) */
} ss_state_field;

#define SS_STATE_MAX_FIELDS 24
/* out[k++] = the array p of count elements, named by its expression */
#define SS_STATE_FIELD(out, k, p, count) \
    ((out)[(k)++] = (ss_state_field){#p, (void *)(p), (size_t)(count) * sizeof *(p), \
                                     SS_STATE_TYPE(*(p))})
/* The element type of a field: a checkpoint keeps a typed field as an array
 * of that type, whose values it can check (finite sums, counts >= 0); a
 * struct field is kept as its raw 8-byte words, covered by the checksum only. */
#define SS_STATE_RAW (-1)
#define SS_STATE_TYPE(x)                                                              \
    _Generic((x), float: SS_NPY_F32, double: SS_NPY_F64, int32_t: SS_NPY_I32,           \
             int64_t: SS_NPY_I64, default: SS_STATE_RAW)

struct ss_analysis;

typedef struct {
    const char *name; /* "scan", "rank", ... : names the analysis in messages */
    ss_code (*begin)(void *self, const int32_t *ids, int n, ss_error *err);
    ss_code (*on_layer)(void *self, int layer, int n, const float *h, const float *q,
                        const float *k, ss_error *err);
    ss_code (*on_probs)(void *self, int layer, int head, int row0, int nrows, const float *p,
                        int64_t ld);
    ss_code (*on_layer_done)(void *self, int layer, ss_error *err);
    ss_code (*end_prompt)(void *self, ss_error *err);
    /* Fills *(T *)result for the analysis's result type T (owned by the
     * caller, freed with T's own free function). */
    ss_code (*finish)(void *self, void *result, ss_error *err);
    /* Adds other's sums and counts into self (SS_ERR_INCOMPATIBLE when their
     * settings differ); other is left as it was. */
    ss_code (*merge)(void *self, const void *other, ss_error *err);
    void (*free)(void *self);
    /* After the pass, before end_prompt: the prompt's logits [n, vocab]
     * (row p predicts token p + 1). Only when some analysis has this hook
     * does the driver ask the forward pass for logits (last in the struct so
     * positional initializers of older analyses stay valid); a pass an
     * analysis stopped early has none, and then it is not called. */
    ss_code (*on_logits)(void *self, const float *logits, int n, int vocab, ss_error *err);
    /* Lists the state merge reads (at most SS_STATE_MAX_FIELDS) into out;
     * returns how many. */
    int (*fields)(void *self, ss_state_field *out);
    /* A new analysis of the same kind and settings with no prompts yet
     * (what another process's fields are unpacked into). */
    ss_code (*fresh)(void *self, struct ss_analysis *out, ss_error *err);
} ss_analysis_vtable;

typedef struct ss_analysis {
    const ss_analysis_vtable *vt;
    void *self;
} ss_analysis;

/* Between two prompts: after prompt number `done` (counted from 1 over this
 * call) was ended in every analysis. Checkpoints live here; SS_STOP ends the
 * run cleanly (SS_OK), any other code fails it. */
typedef ss_code (*ss_between_prompts_fn)(void *ctx, int64_t done, ss_error *err);

typedef struct {
    const ss_rope *rope;      /* NULL: the model's own schedule */
    int block_rows;           /* attention rows per block (0: 64) */
    int allow_long;           /* permit prompts longer than the model's context */
    /* Polled before each prompt and after each layer (NULL: never); non-zero
     * stops the run with SS_STOP, err naming how far it got. Reads a flag a
     * signal handler or another thread sets (the public API's ss_interrupted
     * fits as it is). The prompt under way is then incomplete in the
     * analyses: checkpoints are still those of the last between_prompts
     * call, but finish is not meaningful. */
    int (*interrupted)(void);
    ss_between_prompts_fn between_prompts;
    void *between_ctx;
    int64_t progress_base;    /* added to the prompt count shown (a resumed run) */
    /* the forward pass's head intervention (engine/forward.h), or NULL */
    ss_code (*edit_heads)(void *ctx, int layer, int n, float *att, ss_error *err);
    void *edit_ctx;
    const struct ss_analysis_share *share; /* NULL: this process runs every prompt */
} ss_analysis_opts;

/* A run shared with other processes (dist/dist.h: an MPI job's ranks and
 * their checkpoints). Any hook may be NULL.
 *  take: which prompts this process counts, called with each prompt's
 *        0-based index in the source in order; the others are read and
 *        passed over (its share of the deal, a resume's remainder);
 *  start: once, before the first prompt (a resume loads saved state); its
 *        non-OK code, SS_STOP included, is the run's;
 *  after_prompt: after every prompt counted (checkpoints);
 *  finish: called by the driver's caller after a complete run (the
 *        reduction to one process; SS_STOP on the processes whose part
 *        is then done). */
typedef struct ss_analysis_share {
    void *ctx;
    int (*take)(void *ctx, int64_t index);
    ss_code (*start)(void *ctx, ss_analysis *const *an, int n, ss_error *err);
    ss_code (*after_prompt)(void *ctx, ss_analysis *const *an, int n, ss_error *err);
    ss_code (*finish)(void *ctx, ss_analysis *const *an, int n, ss_error *err);
} ss_analysis_share;

/* Runs every prompt of src through the model once, with all n analyses
 * observing the same pass. progress (started by the caller, or NULL) is
 * updated after every prompt with the prompt count and tokens per second.
 * *prompts_run (may be NULL) receives the prompts completed in this call.
 * Returns SS_OK at the end of the source, SS_STOP when interrupted. */
ss_code ss_analysis_run(const ss_model *m, ss_prompt_source *src, ss_analysis *const *an, int n,
                        ss_progress *progress, const ss_analysis_opts *opts, int64_t *prompts_run,
                        ss_error *err);

/* The analysis's finish / merge / free through its vtable (errors when the
 * analysis has no such hook). */
ss_code ss_analysis_finish(ss_analysis *a, void *result, ss_error *err);
ss_code ss_analysis_merge(ss_analysis *a, const ss_analysis *other, ss_error *err);
void ss_analysis_free(ss_analysis *a);
/* The analysis's state arrays (0 when it has no fields hook). */
int ss_analysis_fields(const ss_analysis *a, ss_state_field *out);

#endif
