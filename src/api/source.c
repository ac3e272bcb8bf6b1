/* Prompt sources of the public API: an ss_prompt_spec checked (messages
 * name the spec's fields) and turned into the library's ss_prompt_opts, the
 * same options the program builds from its flags (cli/prompt_flags.c). */
#include <stdlib.h>
#include <string.h>

#include "api/handles.h"
#include "common/mem.h"

static ss_code check_common(const ss_model *m, const ss_prompt_spec *s, ss_error *err)
{
    int synthetic = s->kind == SS_PROMPTS_OOD || s->kind == SS_PROMPTS_REPEAT;
    if (s->kind < SS_PROMPTS_TEXT || s->kind > SS_PROMPTS_REPEAT)
        return ss_fail(err, SS_ERR_USAGE, "prompt source kind %d is not one of TEXT, IDS, OOD, "
                       "REPEAT", (int)s->kind);
    if (s->len < 1)
        return ss_fail(err, SS_ERR_USAGE, "len (tokens per prompt) must be at least 1, got %d",
                       s->len);
    if (s->len > m->cfg.ctx_len && !s->allow_long)
        return ss_fail(err, SS_ERR_VALUE, "len %d is longer than the model's context of %d "
                       "(set allow_long to run it anyway)", s->len, m->cfg.ctx_len);
    if (s->count < 0)
        return ss_fail(err, SS_ERR_USAGE, "count must be 0 or more, got %lld",
                       (long long)s->count);
    if (synthetic && (s->field || s->chunk || s->path || s->tokenizer))
        return ss_fail(err, SS_ERR_USAGE, "path, field, chunk and tokenizer apply to text and "
                       "ids sources, not to %s prompts", s->kind == SS_PROMPTS_OOD ? "OOD"
                                                                                  : "repeat");
    if (!synthetic && (s->bos || s->vocab || s->segment))
        return ss_fail(err, SS_ERR_USAGE, "bos, vocab and segment apply to OOD and repeat "
                       "prompts only");
    if (!synthetic && (!s->path || !*s->path))
        return ss_fail(err, SS_ERR_USAGE, "a %s source needs a path",
                       s->kind == SS_PROMPTS_IDS ? "token-ids" : "text");
    if (s->vocab < 0 || s->vocab > m->cfg.vocab)
        return ss_fail(err, SS_ERR_USAGE, "vocab %d must be from 1 to the model's %d (0: all)",
                       s->vocab, m->cfg.vocab);
    if (synthetic && s->count < 1)
        return ss_fail(err, SS_ERR_USAGE, "count (number of %s prompts) must be at least 1",
                       s->kind == SS_PROMPTS_OOD ? "OOD" : "repeat");
    if (s->kind == SS_PROMPTS_REPEAT && s->segment < 1)
        return ss_fail(err, SS_ERR_USAGE, "segment (repeated ids) must be at least 1, got %d",
                       s->segment);
    if (s->bos && m->cfg.bos_id < 0)
        return ss_fail(err, SS_ERR_MISSING, "bos: the model does not say which id is BOS");
    return SS_OK;
}

/* The library's options; text sources open their tokenizer into src. */
static ss_code to_opts(const ss_model *m, const ss_prompt_spec *s, ss_source *src,
                       ss_error *err)
{
    ss_prompt_opts *o = &src->opts;
    memset(o, 0, sizeof *o);
    o->len = s->len;
    o->chunk = s->chunk;
    o->count = s->count;
    o->seed = s->seed;
    o->segment = s->segment;
    o->vocab = s->vocab > 0 ? s->vocab : m->cfg.vocab;
    o->bos = s->bos ? m->cfg.bos_id : -1;
    if ((s->path && !(src->path = ss_strdup(s->path, err))) ||
        (s->field && !(src->field = ss_strdup(s->field, err))))
        return SS_ERR_NOMEM;
    o->path = src->path;
    o->field = src->field;
    switch (s->kind) {
    case SS_PROMPTS_OOD: o->kind = SS_SRC_OOD; return SS_OK;
    case SS_PROMPTS_REPEAT: o->kind = SS_SRC_REPEAT; return SS_OK;
    case SS_PROMPTS_IDS:
        o->kind = SS_SRC_IDS;
        return s->field ? ss_fail(err, SS_ERR_USAGE, "field applies to JSONL prompts only")
                        : SS_OK;
    case SS_PROMPTS_TEXT: break;
    }
    o->kind = ss_text_source_kind(o->path, o->field);
    if (o->field && o->kind != SS_SRC_JSONL)
        return ss_fail(err, SS_ERR_USAGE, "field applies to JSONL prompts only");
    ss_code rc = ss_tokenizer_open(s->tokenizer ? s->tokenizer : m->path, &src->tok, err);
    if (rc)
        return rc;
    o->tok = src->tok;
    o->add_bos = ss_tokenizer_adds_bos(src->tok);
    return SS_OK;
}

ss_code ss_source_open(const ss_model *m, const ss_prompt_spec *spec, ss_source **out,
                       ss_error *err)
{
    *out = NULL;
    if (!m || !spec)
        return ss_fail(err, SS_ERR_USAGE, "ss_source_open: %s is NULL", m ? "spec" : "model");
    ss_code rc = check_common(m, spec, err);
    if (rc)
        return rc;
    ss_source *s = ss_calloc(1, sizeof *s, "prompt source", err);
    if (!s)
        return SS_ERR_NOMEM;
    if ((rc = to_opts(m, spec, s, err)) || (rc = ss_prompts_open(&s->opts, &s->prompts, err))) {
        ss_source_close(s);
        return rc;
    }
    *out = s;
    return SS_OK;
}

void ss_source_close(ss_source *s)
{
    if (!s)
        return;
    ss_prompts_close(s->prompts);
    ss_tokenizer_free(s->tok);
    free(s->path);
    free(s->field);
    free(s);
}

int64_t ss_source_records(const ss_source *s)
{
    return ss_prompts_total_records(s->prompts);
}

const char *ss_source_sha256(const ss_source *s)
{
    return ss_prompts_sha256(s->prompts);
}
