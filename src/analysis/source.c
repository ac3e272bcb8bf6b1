#include "analysis/source.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

static ss_code next_from_prompts(void *ctx, const int32_t **ids, int *n, ss_error *err)
{
    ss_prompt_source *s = ctx;
    int got = 0;
    ss_code rc = ss_prompts_next(s->prompts, s->buf, &got, err);
    *ids = s->buf;
    *n = rc || !got ? 0 : s->len;
    return rc;
}

static ss_code next_held(void *ctx, const int32_t **ids, int *n, ss_error *err)
{
    (void)err;
    ss_prompt_source *s = ctx;
    int more = s->next_held < s->held;
    *ids = more ? s->single + s->next_held * (int64_t)s->len : NULL;
    *n = more ? s->len : 0;
    s->next_held += more;
    return SS_OK;
}

ss_code ss_prompt_source_prompts(ss_prompt_source *s, ss_prompts *p, int len, int64_t total,
                                 ss_error *err)
{
    memset(s, 0, sizeof *s);
    if (len < 1)
        return ss_fail(err, SS_ERR_USAGE, "prompt length %d: must be at least 1", len);
    s->buf = ss_calloc((size_t)len, sizeof *s->buf, "prompt ids", err);
    if (!s->buf)
        return SS_ERR_NOMEM;
    s->ctx = s;
    s->next = next_from_prompts;
    s->total = total;
    s->prompts = p;
    s->len = len;
    return SS_OK;
}

void ss_prompt_source_ids(ss_prompt_source *s, const int32_t *ids, int n)
{
    ss_prompt_source_held(s, ids, 1, n); /* one prompt held: the same walk */
}

void ss_prompt_source_held(ss_prompt_source *s, const int32_t *ids, int64_t n_prompts, int len)
{
    memset(s, 0, sizeof *s);
    s->ctx = s;
    s->next = next_held;
    s->total = n_prompts;
    s->single = ids;
    s->len = len;
    s->held = n_prompts;
}

void ss_prompt_source_free(ss_prompt_source *s)
{
    free(s->buf);
    s->buf = NULL;
}
