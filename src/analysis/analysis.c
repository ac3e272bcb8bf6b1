#include "analysis/analysis.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/mem.h"
#include "engine/forward.h"

/* The caller's interrupt flag as one more observer, last in line, so every
 * analysis has seen the layer when the pass stops. */
typedef struct {
    int (*interrupted)(void);
    int fired;
} interrupt_watch;

static ss_code watch_layer_done(void *ctx, int layer, ss_error *err)
{
    (void)layer;
    (void)err;
    interrupt_watch *w = ctx;
    if (w->interrupted && w->interrupted()) {
        w->fired = 1;
        return SS_STOP;
    }
    return SS_OK;
}

static ss_code interrupted(int64_t done, ss_error *err)
{
    ss_fail(err, SS_STOP, "interrupted after %lld complete prompts", (long long)done);
    return SS_STOP;
}

/* Every analysis's hook `which` on one prompt; SS_STOP from any of them is
 * remembered in *stop and the others still run. */
static ss_code each_prompt_hook(ss_analysis *const *an, int n, int end, const int32_t *ids,
                                int len, int *stop, ss_error *err)
{
    for (int i = 0; i < n; i++) {
        const ss_analysis_vtable *vt = an[i]->vt;
        ss_code rc = end ? (vt->end_prompt ? vt->end_prompt(an[i]->self, err) : SS_OK)
                         : (vt->begin ? vt->begin(an[i]->self, ids, len, err) : SS_OK);
        if (rc == SS_STOP)
            *stop = 1;
        else if (rc) {
            if (!err->code)
                ss_fail(err, rc, "%s: failed (%s) %s a prompt", vt->name, ss_code_name(rc),
                        end ? "ending" : "beginning");
            return rc;
        }
    }
    return SS_OK;
}

/* The logits buffer for a prompt of len tokens when some analysis wants
 * them (grown, never shrunk); NULL logits otherwise. */
static ss_code logits_for(ss_analysis *const *an, int n, const ss_model *m, int len,
                          float **buf, int64_t *cap, float **logits, ss_error *err)
{
    *logits = NULL;
    int want = 0;
    for (int i = 0; i < n; i++)
        want |= an[i]->vt->on_logits != NULL;
    if (!want)
        return SS_OK;
    int64_t need = (int64_t)len * m->cfg.vocab;
    if (need > *cap) {
        free(*buf);
        *cap = 0;
        if (!(*buf = ss_calloc((size_t)need, sizeof **buf, "logits", err)))
            return SS_ERR_NOMEM;
        *cap = need;
    }
    *logits = *buf;
    return SS_OK;
}

static ss_code each_logits_hook(ss_analysis *const *an, int n, const float *logits, int len,
                                int vocab, int *stop, ss_error *err)
{
    for (int i = 0; i < n; i++) {
        const ss_analysis_vtable *vt = an[i]->vt;
        ss_code rc = vt->on_logits ? vt->on_logits(an[i]->self, logits, len, vocab, err) : SS_OK;
        if (rc == SS_STOP)
            *stop = 1;
        else if (rc) {
            if (!err->code)
                ss_fail(err, rc, "%s: failed (%s) on a prompt's logits", vt->name,
                        ss_code_name(rc));
            return rc;
        }
    }
    return SS_OK;
}

ss_code ss_analysis_run(const ss_model *m, ss_prompt_source *src, ss_analysis *const *an, int n,
                        ss_progress *progress, const ss_analysis_opts *opts, int64_t *prompts_run,
                        ss_error *err)
{
    static const ss_analysis_opts defaults = {0};
    const ss_analysis_opts *o = opts ? opts : &defaults;
    if (prompts_run)
        *prompts_run = 0;
    if (n < 0 || (n > 0 && !an) || !src || !src->next)
        return ss_fail(err, SS_ERR_USAGE, "ss_analysis_run: no analyses or no prompt source");
    ss_observer *obs = ss_calloc((size_t)n + 1, sizeof *obs, "observers", err);
    if (!obs)
        return SS_ERR_NOMEM;
    interrupt_watch watch = {o->interrupted, 0};
    for (int i = 0; i < n; i++)
        obs[i] = (ss_observer){an[i]->self, an[i]->vt->on_layer, an[i]->vt->on_probs,
                               an[i]->vt->on_layer_done};
    obs[n] = (ss_observer){.ctx = &watch, .on_layer_done = watch_layer_done};
    ss_forward_opts fo = {.rope = o->rope, .block_rows = o->block_rows,
                          .allow_long = o->allow_long, .observers = obs,
                          .n_observers = n + (o->interrupted != NULL),
                          .edit_heads = o->edit_heads, .edit_ctx = o->edit_ctx,
                          .head_rope = o->head_rope};
    const ss_analysis_share *sh = o->share;
    double start = ss_now_seconds();
    int64_t done = 0, tokens = 0, index = -1;
    ss_code rc = SS_OK;
    int stop = 0;
    float *logits_buf = NULL, *logits;
    int64_t logits_cap = 0;
    if (sh && sh->start) /* SS_STOP from it is returned: this process has nothing to do */
        rc = sh->start(sh->ctx, an, n, err);
    while (!rc && !stop) {
        if (o->interrupted && o->interrupted()) {
            rc = interrupted(done, err);
            break;
        }
        const int32_t *ids;
        int len;
        if ((rc = src->next(src->ctx, &ids, &len, err)) || len == 0)
            break;
        if (sh && sh->take && !sh->take(sh->ctx, ++index))
            continue;
        if ((rc = each_prompt_hook(an, n, 0, ids, len, &stop, err)))
            break;
        if ((rc = logits_for(an, n, m, len, &logits_buf, &logits_cap, &logits, err)))
            break;
        rc = ss_forward(m, ids, len, &fo, logits, err);
        if (watch.fired) {
            rc = interrupted(done, err);
            break;
        }
        if (rc == SS_STOP) /* an analysis had all it needed of this prompt: no logits */
            rc = SS_OK;
        else if (!rc && logits)
            rc = each_logits_hook(an, n, logits, len, m->cfg.vocab, &stop, err);
        if (rc || (rc = each_prompt_hook(an, n, 1, ids, len, &stop, err)))
            break;
        done++;
        tokens += len;
        if (progress) {
            char rate[64];
            snprintf(rate, sizeof rate, "%.0f tok/s", tokens / (ss_now_seconds() - start + 1e-9));
            ss_progress_update(progress, o->progress_base + done, rate);
        }
        if (sh && sh->after_prompt && (rc = sh->after_prompt(sh->ctx, an, n, err)))
            break;
        if (o->between_prompts) {
            rc = o->between_prompts(o->between_ctx, done, err);
            if (rc == SS_STOP) {
                stop = 1;
                rc = SS_OK;
            }
        }
    }
    free(obs);
    free(logits_buf);
    if (prompts_run)
        *prompts_run = done;
    return rc;
}

ss_code ss_analysis_finish(ss_analysis *a, void *result, ss_error *err)
{
    if (!a->vt->finish)
        return ss_fail(err, SS_ERR_USAGE, "%s: this analysis has no result", a->vt->name);
    return a->vt->finish(a->self, result, err);
}

ss_code ss_analysis_merge(ss_analysis *a, const ss_analysis *other, ss_error *err)
{
    if (a->vt != other->vt)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "cannot merge a %s analysis into a %s analysis",
                       other->vt->name, a->vt->name);
    if (!a->vt->merge)
        return ss_fail(err, SS_ERR_USAGE, "%s: this analysis cannot be merged", a->vt->name);
    return a->vt->merge(a->self, other->self, err);
}

void ss_analysis_free(ss_analysis *a)
{
    if (a && a->vt && a->vt->free)
        a->vt->free(a->self);
}

int ss_analysis_fields(const ss_analysis *a, ss_state_field *out)
{
    return a->vt->fields ? a->vt->fields(a->self, out) : 0;
}
