#include "cli/eval_pass.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/ppl.h"
#include "analysis/scan_analysis.h"
#include "analysis/scan_result.h"
#include "analysis/source.h"
#include "cli/prompt_flags.h"
#include "common/mem.h"
#include "common/path.h"

static ss_code from_flags(ss_eval_src *s, const ss_args *a, const ss_model *m, int len,
                          ss_error *err)
{
    const char *path = ss_args_get(a, "--eval-prompts");
    long long n, count;
    ss_code rc;
    if ((rc = ss_args_int(a, "--eval-len", len, 2, 1 << 24, &n, err)) ||
        (rc = ss_args_int(a, "--eval-count", 0, 0, (long long)1 << 40, &count, err)))
        return rc;
    if (n < 2)
        return ss_fail(err, SS_ERR_USAGE, "--eval-prompts needs --eval-len N (N >= 2) when "
                       "the main prompts have no --len");
    if (n > m->cfg.ctx_len && !ss_args_has(a, "--allow-long"))
        return ss_fail(err, SS_ERR_USAGE, "--eval-len %lld is beyond the model's context of %d "
                       "(add --allow-long)", n, m->cfg.ctx_len);
    ss_prompt_opts *o = &s->popts;
    o->path = path;
    o->len = (int)n;
    o->count = count;
    o->vocab = m->cfg.vocab;
    o->bos = -1;
    s->skip = n > 8 ? 4 : 0;
    if (ss_ends_with(path, ".ids")) {
        o->kind = SS_SRC_IDS;
        return ss_eval_src_load(s, err);
    }
    o->kind = ss_text_source_kind(path, NULL);
    if ((rc = ss_cli_tokenizer_open(a, &s->tok, err)))
        return rc;
    o->tok = s->tok;
    o->tok_path = ss_args_get(a, "--tokenizer") ? ss_args_get(a, "--tokenizer") : a->positional[0];
    o->add_bos = ss_tokenizer_adds_bos(s->tok);
    return ss_eval_src_load(s, err);
}

ss_code ss_eval_src_from_flags(ss_eval_src *s, const ss_args *a, const ss_model *m, int len,
                               ss_error *err)
{
    memset(s, 0, sizeof *s);
    ss_code rc = from_flags(s, a, m, len, err);
    if (rc) /* the ids read before a bad prompt, the tokenizer: the caller frees nothing */
        ss_eval_src_free(s);
    return rc;
}

ss_code ss_eval_src_load(ss_eval_src *s, ss_error *err)
{
    int len = s->popts.len;
    ss_prompts *p = NULL;
    int64_t cap = 0;
    ss_code rc = ss_prompts_open(&s->popts, &p, err);
    if (!rc)
        memcpy(s->sha, ss_prompts_sha256(p), sizeof s->sha);
    while (!rc) {
        if (s->n_prompts == cap) {
            int64_t more = cap ? 2 * cap : 16;
            int32_t *grown = ss_realloc_array(s->ids, (size_t)more * (size_t)len,
                                              sizeof *grown, "evaluation prompts", err);
            if (!grown) {
                rc = SS_ERR_NOMEM;
                break;
            }
            s->ids = grown;
            cap = more;
        }
        int got = 0;
        if ((rc = ss_prompts_next(p, s->ids + s->n_prompts * len, &got, err)) || !got)
            break;
        s->n_prompts++;
    }
    ss_prompts_close(p);
    if (!rc && s->n_prompts == 0)
        rc = ss_fail(err, SS_ERR_VALUE, "%s: no prompt of %d tokens",
                     s->popts.path ? s->popts.path : ss_source_kind_name(s->popts.kind), len);
    return rc;
}

void ss_eval_src_free(ss_eval_src *s)
{
    free(s->ids);
    ss_tokenizer_free(s->tok);
    memset(s, 0, sizeof *s);
}

void ss_eval_out_free(ss_eval_out *o)
{
    free(o->slash);
    memset(o, 0, sizeof *o);
}

double ss_eval_slash(const ss_eval_out *o, const ss_config *c, int len, int layer, int head,
                     int d)
{
    if (!o->slash || d < 0 || d >= len)
        return NAN;
    return o->slash[((size_t)layer * c->n_head + head) * len + d];
}

ss_code ss_eval_pass(const ss_model *m, const ss_eval_src *s, const ss_analysis_opts *opts,
                     int want_slash, ss_eval_out *out, ss_error *err)
{
    memset(out, 0, sizeof *out);
    const ss_config *c = &m->cfg;
    int len = s->popts.len;
    ss_prompt_source src;
    ss_analysis an[2] = {{0}, {0}};
    int n_an = 0;
    ss_ppl_result pr = {0};
    ss_scan_result sr = {0};
    int64_t done = 0;
    ss_prompt_source_held(&src, s->ids, s->n_prompts, len);
    ss_code rc = s->ids ? SS_OK : ss_fail(err, SS_ERR_USAGE, "evaluation prompts not loaded");
    if (!rc && !(rc = ss_ppl_analysis_new(&an[0], err)))
        n_an = 1;
    if (!rc && want_slash &&
        !(rc = ss_scan_analysis_new(&an[1], c->n_layer, c->n_head, len, s->skip, 0, NULL, err)))
        n_an = 2;
    ss_analysis *list[2] = {&an[0], &an[1]};
    if (!rc)
        rc = ss_analysis_run(m, &src, list, n_an, NULL, opts, &done, err);
    if (!rc && done == 0)
        rc = ss_fail(err, SS_ERR_VALUE, "%s: no prompt of %d tokens", s->popts.path, len);
    if (!rc && !(rc = ss_analysis_finish(&an[0], &pr, err))) {
        out->loss = pr.loss;
        out->perplexity = pr.perplexity;
        out->tokens = pr.tokens;
        out->prompts = pr.prompts;
    }
    if (!rc && want_slash && !(rc = ss_analysis_finish(&an[1], &sr, err)) &&
        !(out->slash = ss_scan_result_average(&sr, err)))
        rc = err->code;
    ss_ppl_result_free(&pr);
    ss_scan_result_free(&sr);
    for (int i = 0; i < n_an; i++)
        ss_analysis_free(&an[i]);
    ss_prompt_source_free(&src);
    if (rc)
        ss_eval_out_free(out);
    return rc;
}
