/* Perplexity in the public API: the library's ppl result
 * (analysis/ppl.h) behind a generic result. */
#include <stdlib.h>

#include "analysis/ppl.h"
#include "api/handles.h"

static void release_ppl(void *p)
{
    ss_ppl_result_free(p);
    free(p);
}

static ss_code add_arrays(ss_result *r, void *owned, const ss_analyzer *a, ss_error *err)
{
    (void)a;
    (void)err;
    const ss_ppl_result *x = owned;
    ss_api_result_add(r, "prompt_nll", x->prompt_nll, 1, x->prompts, 0, 0);
    ss_api_result_add_i64(r, "prompt_tokens", x->prompt_len, 1, x->prompts, 0, 0);
    ss_api_result_add(r, "loss_by_pos", x->loss_by_pos, 1, x->max_len, 0, 0);
    cJSON_AddNumberToObject(r->meta, "loss", x->loss);
    cJSON_AddNumberToObject(r->meta, "perplexity", x->perplexity);
    cJSON_AddNumberToObject(r->meta, "tokens_scored", (double)x->tokens);
    cJSON_AddNumberToObject(r->meta, "prompts", (double)x->prompts);
    return SS_OK;
}

static ss_code ppl_result(ss_analyzer *a, ss_result **out, ss_error *err)
{
    return ss_api_analyzer_finish(a, sizeof(ss_ppl_result), release_ppl, add_arrays, out, err);
}

ss_code ss_analyzer_ppl(const ss_model *m, ss_analyzer **out, ss_error *err)
{
    *out = NULL;
    if (!m)
        return ss_fail(err, SS_ERR_USAGE, "ss_analyzer_ppl: the model is NULL");
    ss_analyzer *a = ss_api_analyzer_new("ppl", err);
    if (!a)
        return SS_ERR_NOMEM;
    ss_code rc = ss_ppl_analysis_new(&a->an, err);
    if (rc) {
        ss_analyzer_free(a);
        return rc;
    }
    a->result = ppl_result;
    *out = a;
    return SS_OK;
}

ss_code ss_run_ppl(const ss_model *m, ss_source *src, const ss_pass_params *p, ss_result **out,
                   ss_error *err)
{
    *out = NULL;
    ss_analyzer *a;
    ss_code rc = ss_analyzer_ppl(m, &a, err);
    return rc ? rc : ss_api_run_one(a, m, src, p, out, err);
}
