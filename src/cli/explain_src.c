#include "cli/explain_src.h"

#include <stdlib.h>
#include <string.h>

#include "analysis/source_json.h"
#include "cli/dist_cli.h"
#include "cli/out_folder.h"
#include "model/describe.h"
#include "report/explain_out.h"
#include "common/mem.h"
#include "common/terminate.h"

/* The same flags and meaning as `scan` (cli/prompt_flags.h), so a scan's
 * prompt set can be explained by pasting its source flags. */
static ss_code open_source(ss_explain_src *s, const ss_args *a, ss_error *err)
{
    ss_code rc = ss_prompt_opts_from_args(a, s->run.model, s->run.allow_long, &s->popts, &s->tok,
                                          err);
    if (rc)
        return rc;
    s->len = s->popts.len;
    if (!(s->buf = ss_calloc((size_t)s->len, sizeof *s->buf, "prompt", err)))
        return SS_ERR_NOMEM;
    return ss_prompts_open(&s->popts, &s->prompts, err);
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
    if (!rc)
        s->interventions = ss_model_run_edits_json(&s->run, a);
    if (rc)
        ss_explain_src_close(s);
    return rc;
}

cJSON *ss_explain_src_interventions(const ss_explain_src *s)
{
    return s->interventions ? cJSON_Duplicate(s->interventions, 1) : NULL;
}

cJSON *ss_explain_src_result(const ss_explain_src *s, const char *command, ss_error *err)
{
    ss_explain_record rec = {.provenance = ss_out_provenance(s->run.model, 0, err)};
    if (!rec.provenance)
        return NULL;
    rec.model = ss_model_describe(s->run.model, &s->run.rope);
    rec.prompts = ss_explain_src_json(s);
    rec.interventions = ss_explain_src_interventions(s);
    int prov_ok;
    return ss_explain_root(&rec, command, 0, &prov_ok);
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
    cJSON_Delete(s->interventions);
    ss_model_run_close(&s->run);
    memset(s, 0, sizeof *s);
}

cJSON *ss_explain_src_json(const ss_explain_src *s)
{
    if (!s->prompts) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "kind", "ids");
        cJSON_AddNumberToObject(j, "len", s->len);
        cJSON_AddNumberToObject(j, "prompts", (double)s->emitted);
        return j;
    }
    /* the source as scan.json records it, and what this run took from it */
    cJSON *j = ss_prompt_source_json(&s->popts, ss_prompts_sha256(s->prompts));
    cJSON_AddStringToObject(j, "kind", ss_source_kind_name(s->popts.kind));
    cJSON_AddNumberToObject(j, "len", s->len);
    cJSON_AddNumberToObject(j, "prompts", (double)s->emitted);
    cJSON_AddNumberToObject(j, "skipped", (double)ss_prompts_skipped(s->prompts));
    return j;
}

static ss_code next_prompt(void *ctx, const int32_t **ids, int *n, ss_error *err)
{
    ss_explain_src *s = ctx;
    int got = 0;
    ss_code rc = ss_explain_src_next(s, ids, &got, err);
    *n = got ? s->len : 0;
    return rc;
}

ss_code ss_explain_src_run(ss_explain_src *s, ss_analysis *const *an, int n, const char *what,
                           int quiet, ss_error *err)
{
    ss_prompt_source src = {.ctx = s, .next = next_prompt,
                            .total = s->prompts ? ss_prompts_total_records(s->prompts) : 1};
    /* a distributed run (cli/dist_cli.h): this rank's share, checkpoints,
     * the sums reduced to rank 0 */
    ss_dist *d = &ss_cli_dist;
    int on = ss_cli_dist_on();
    ss_analysis_opts ro = {.rope = &s->run.rope, .allow_long = s->run.allow_long,
                           .share = on ? &d->share : NULL,
                           /* SIGTERM: with checkpoints (on) the share saves and stops
                            * after the prompt; without, nothing to save: stop at once */
                           .interrupted = on ? NULL : ss_terminate_requested};
    ss_forward_opts fo = {0};
    ss_model_run_edits(&s->run, &fo);
    ro.edit_heads = fo.edit_heads;
    ro.edit_ctx = fo.edit_ctx;
    ro.head_rope = fo.head_rope;
    if (on && ss_cli_dist_identify(&s->run, s->prompts, &s->popts, err))
        return err->code;
    ss_progress pr;
    ss_progress_start(&pr, quiet || d->rank > 0, what, src.total, "prompts");
    int64_t done = 0;
    ss_code rc = ss_analysis_run(s->run.model, &src, an, n, &pr, &ro, &done, err);
    ss_progress_end(&pr);
    /* rank 0 is dealt the first prompt left: none there means none anywhere */
    if (!rc && done == 0 && d->rank == 0 && (!on || d->n_held == 0))
        rc = ss_fail(err, SS_ERR_VALUE, "no prompt of %d tokens came from the source", s->len);
    if (!rc && on)
        rc = ss_dist_reduce(d, an, n, err);
    return rc;
}
