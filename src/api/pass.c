/* One pass of analyses over a prompt source through the library's driver
 * (analysis/analysis.h), with the public API's progress callback and stop
 * request. */
#include "analysis/source.h"
#include "api/handles.h"
#include "engine/forward.h"

typedef struct {
    const ss_pass_params *p;
    int64_t total;
    int stopped;
} between_ctx;

static ss_code between(void *ctx, int64_t done, ss_error *err)
{
    (void)err;
    between_ctx *b = ctx;
    if (b->p->progress && b->p->progress(b->p->progress_user, done, b->total)) {
        b->stopped = 1;
        return SS_STOP;
    }
    return SS_OK;
}

ss_code ss_api_pass_begin(const ss_model *m, ss_source *src, const ss_run_opts *o, int threads,
                          ss_rope *rope, ss_error *err)
{
    if (src->used)
        return ss_fail(err, SS_ERR_USAGE, "this prompt source was read to its end by an earlier "
                       "run: open it again");
    ss_code rc = ss_api_rope(m, o, rope, err);
    if (rc)
        return rc;
    if (threads > 0)
        ss_set_threads(threads);
    src->used = 1;
    return SS_OK;
}

ss_code ss_api_pass(const ss_model *m, ss_source *src, ss_analysis *const *an, int n,
                    const ss_pass_params *p, const char *what, ss_error *err)
{
    ss_rope rope;
    ss_code rc = ss_api_pass_begin(m, src, &p->run, p->threads, &rope, err);
    if (rc)
        return rc;
    between_ctx b = {.p = p, .total = src->opts.count > 0 ? src->opts.count
                                                         : ss_prompts_total_records(src->prompts)};
    ss_prompt_source ps = {0};
    if ((rc = ss_prompt_source_prompts(&ps, src->prompts, src->opts.len, b.total, err)))
        return rc;
    ss_head_edits e;
    if ((rc = ss_api_edits(m, &p->run, &e, err))) {
        ss_prompt_source_free(&ps);
        return rc;
    }
    ss_forward_opts fo = {0};
    ss_head_edits_forward(&e, &fo);
    ss_analysis_opts o = {.rope = &rope, .allow_long = p->run.allow_long,
                          .interrupted = ss_interrupted, .between_prompts = between,
                          .between_ctx = &b, .edit_heads = fo.edit_heads,
                          .edit_ctx = fo.edit_ctx, .head_rope = fo.head_rope};
    int64_t done = 0;
    ss_interrupt_clear();
    rc = ss_analysis_run(m, &ps, an, n, NULL, &o, &done, err);
    ss_prompt_source_free(&ps);
    ss_head_edits_free(&e);
    if (!rc && b.stopped)
        rc = ss_fail(err, SS_STOP, "%s stopped on request after %lld prompts", what,
                     (long long)done);
    if (!rc && done == 0)
        rc = ss_fail(err, SS_ERR_VALUE, "%s: no prompt of %d tokens came from the source", what,
                     src->opts.len);
    return rc;
}
