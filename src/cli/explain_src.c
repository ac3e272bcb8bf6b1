#include "cli/explain_src.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/mem.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The same flags and meaning as `scan` (cli/cmd_scan.c), so a scan's prompt
 * set can be explained by pasting its source flags. */
static ss_code open_source(ss_explain_src *s, const ss_args *a, ss_error *err)
{
    const ss_model *m = s->run.model;
    ss_prompt_opts *o = &s->popts;
    memset(o, 0, sizeof *o);
    long long len, count, vocab, seg;
    ss_code rc;
    if (!ss_args_has(a, "--len"))
        return ss_fail(err, SS_ERR_USAGE, "a prompt source needs --len N (tokens per prompt)");
    const char *seed = ss_args_get(a, "--seed");
    char *end = NULL;
    o->seed = seed ? strtoull(seed, &end, 10) : 0;
    if (seed && (!*seed || *end || *seed == '-'))
        return ss_fail(err, SS_ERR_USAGE, "--seed wants a whole number from 0 to 2^64-1, got "
                       "'%s'", seed);
    if ((rc = ss_args_int(a, "--len", 0, 1, 1 << 24, &len, err)) ||
        (rc = ss_args_int(a, "--count", 0, 1, INT64_MAX, &count, err)) ||
        (rc = ss_args_int(a, "--vocab", m->cfg.vocab, 1, m->cfg.vocab, &vocab, err)))
        return rc;
    if (len > m->cfg.ctx_len && !s->run.allow_long)
        return ss_fail(err, SS_ERR_VALUE, "--len %lld is more than the model's context of %d "
                       "(pass --allow-long to run it anyway)", len, m->cfg.ctx_len);
    o->len = (int)len;
    o->count = count;
    o->vocab = (int)vocab;
    o->bos = -1;
    o->field = ss_args_get(a, "--field");
    o->chunk = ss_args_has(a, "--chunk");
    int synthetic = ss_args_has(a, "--ood") || ss_args_has(a, "--repeat");
    if (synthetic && (o->field || o->chunk))
        return ss_fail(err, SS_ERR_USAGE, "--field and --chunk apply to --prompts/--ids-file only");
    if (!synthetic && (ss_args_has(a, "--bos") || ss_args_has(a, "--vocab")))
        return ss_fail(err, SS_ERR_USAGE, "--bos and --vocab apply to --ood/--repeat only");
    if (ss_args_has(a, "--bos")) {
        if (m->cfg.bos_id < 0)
            return ss_fail(err, SS_ERR_MISSING, "--bos: the model does not say which id is BOS");
        o->bos = m->cfg.bos_id;
    }
    if (ss_args_has(a, "--ood")) {
        if (ss_args_has(a, "--count"))
            return ss_fail(err, SS_ERR_USAGE, "--ood takes the count itself: --ood COUNT");
        o->kind = SS_SRC_OOD;
        if ((rc = ss_args_int(a, "--ood", 0, 1, INT64_MAX, &count, err)))
            return rc;
        o->count = count;
    } else if (ss_args_has(a, "--repeat")) {
        o->kind = SS_SRC_REPEAT;
        if (!ss_args_has(a, "--count"))
            return ss_fail(err, SS_ERR_USAGE, "--repeat SEG needs --count P (number of prompts)");
        if ((rc = ss_args_int(a, "--repeat", 0, 1, 1 << 24, &seg, err)))
            return rc;
        o->segment = (int)seg;
    } else if (ss_args_has(a, "--ids-file")) {
        o->kind = SS_SRC_IDS;
        o->path = ss_args_get(a, "--ids-file");
        if (o->field)
            return ss_fail(err, SS_ERR_USAGE, "--field applies to JSONL prompts only");
    } else {
        o->path = ss_args_get(a, "--prompts");
        if (is_dir(o->path))
            o->kind = SS_SRC_TXT_DIR;
        else if (o->field || ends_with(o->path, ".jsonl") || ends_with(o->path, ".json"))
            o->kind = SS_SRC_JSONL;
        else
            o->kind = SS_SRC_LINES;
        if (o->field && o->kind != SS_SRC_JSONL)
            return ss_fail(err, SS_ERR_USAGE, "--field applies to JSONL prompts only");
        const char *tp = ss_args_get(a, "--tokenizer");
        if ((rc = ss_tokenizer_open(tp ? tp : a->positional[0], &s->tok, err)))
            return rc;
        o->tok = s->tok;
        o->add_bos = ss_tokenizer_adds_bos(s->tok);
    }
    s->len = o->len;
    if (!(s->buf = ss_calloc((size_t)s->len, sizeof *s->buf, "prompt", err)))
        return SS_ERR_NOMEM;
    return ss_prompts_open(o, &s->prompts, err);
}

ss_code ss_explain_src_open(ss_explain_src *s, const ss_args *a, ss_error *err)
{
    memset(s, 0, sizeof *s);
    /* --ids, or --ids-file without --len: one sequence, as `logits` reads it */
    int single = ss_args_has(a, "--ids") || (ss_args_has(a, "--ids-file") && !ss_args_has(a, "--len"));
    const char *names[4] = {"--prompts", "--ids-file", "--ood", "--repeat"};
    int sources = 0;
    for (int k = 0; k < 4; k++)
        sources += ss_args_has(a, names[k]);
    if (ss_args_has(a, "--ids") ? sources != 0 : sources != 1)
        return ss_fail(err, SS_ERR_USAGE, "give the prompts: --ids \"1 2 3\" or --ids-file F for "
                       "one sequence, or one source (--prompts, --ids-file, --ood, --repeat) "
                       "with --len N");
    ss_code rc = ss_model_run_open(&s->run, a, single, err);
    if (!rc && single) {
        s->len = s->run.n;
        if (s->run.n > s->run.model->cfg.ctx_len && !s->run.allow_long)
            rc = ss_fail(err, SS_ERR_VALUE, "the sequence has %d tokens, more than the model's "
                         "context of %d (pass --allow-long to run it anyway)", s->run.n,
                         s->run.model->cfg.ctx_len);
    } else if (!rc) {
        rc = open_source(s, a, err);
    }
    if (rc)
        ss_explain_src_close(s);
    return rc;
}

ss_code ss_explain_src_next(ss_explain_src *s, const int32_t **ids, int *got, ss_error *err)
{
    *got = 0;
    if (!s->prompts) {
        if (!s->single_done) {
            s->single_done = 1;
            *ids = s->run.ids;
            *got = 1;
            s->emitted++;
        }
        return SS_OK;
    }
    ss_code rc = ss_prompts_next(s->prompts, s->buf, got, err);
    if (!rc && *got) {
        *ids = s->buf;
        s->emitted++;
    }
    return rc;
}

void ss_explain_src_close(ss_explain_src *s)
{
    if (s->prompts)
        ss_prompts_close(s->prompts);
    if (s->tok)
        ss_tokenizer_free(s->tok);
    free(s->buf);
    ss_model_run_close(&s->run);
    memset(s, 0, sizeof *s);
}

cJSON *ss_explain_src_json(const ss_explain_src *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "len", s->len);
    cJSON_AddNumberToObject(j, "prompts", (double)s->emitted);
    if (!s->prompts) {
        cJSON_AddStringToObject(j, "kind", "ids");
        return j;
    }
    const ss_prompt_opts *o = &s->popts;
    cJSON_AddStringToObject(j, "kind", ss_source_kind_name(o->kind));
    if (o->path)
        cJSON_AddStringToObject(j, "path", o->path);
    if (o->kind == SS_SRC_OOD || o->kind == SS_SRC_REPEAT) {
        cJSON_AddNumberToObject(j, "seed", (double)o->seed);
        cJSON_AddNumberToObject(j, "count", (double)o->count);
    }
    if (o->kind == SS_SRC_REPEAT)
        cJSON_AddNumberToObject(j, "segment", o->segment);
    cJSON_AddStringToObject(j, "sha256", ss_prompts_sha256(s->prompts));
    cJSON_AddNumberToObject(j, "skipped", (double)ss_prompts_skipped(s->prompts));
    return j;
}
