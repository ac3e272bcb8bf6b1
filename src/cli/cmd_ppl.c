/* slashscope ppl MODEL (prompts) --out DIR: loss and perplexity of a prompt
 * set (analysis/ppl.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/ppl.h"
#include "cli/commands.h"
#include "cli/explain_src.h"
#include "cli/out_folder.h"
#include "model/describe.h"
#include "report/ppl_out.h"

static const char usage[] =
    "usage: slashscope ppl MODEL (prompts) --out DIR\n\n"
    "Mean negative log-likelihood (nats per token) of every prompt under the model, the\n"
    "per-position loss averaged over the prompts, the overall loss and perplexity.\n"
    "Token p (p >= 1) is scored by the logits after tokens 0..p-1; the first token of each\n"
    "prompt is not scored. The overall loss is the mean over every scored token.\n\n"
    SS_EXPLAIN_SRC_USAGE "\n"
    "Writes DIR/ppl.json (settings, loss, perplexity, tokens, per-prompt NLL),\n"
    "DIR/ppl.csv (prompt, tokens, nll, ppl: one row per prompt, in source order) and\n"
    "DIR/loss_by_pos.npy (float64 [len]: entry p the mean NLL of token p over the prompts;\n"
    "entry 0 is NaN, never scored).\n";

int cmd_ppl(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_EXPLAIN_SRC_FLAGS, SS_OUT_FOLDER_FLAGS, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "ppl", usage, flags, argc, argv, &err))
        return ss_cli_fail("ppl", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    const char *out;
    ss_explain_src src;
    if (ss_args_out(&a, 1, &out, &err) || ss_explain_src_open(&src, &a, &err))
        return ss_cli_fail("ppl", &err);
    ss_folder folder;
    if (ss_out_folder_begin(&folder, &a, "ppl.json", &out, &err)) {
        ss_explain_src_close(&src);
        return ss_cli_fail("ppl", &err);
    }
    ss_analysis an = {0};
    ss_ppl_result res = {0};
    if (!ss_ppl_analysis_new(&an, &err) &&
        !ss_explain_src_run(&src, (ss_analysis *[]){&an}, 1, "ppl", a.quiet, &err) &&
        !ss_analysis_finish(&an, &res, &err))
        ss_ppl_write(out, &res,
                     &(ss_explain_record){
                         .model = ss_model_describe(src.run.model, &src.run.rope),
                         .provenance = ss_out_provenance(src.run.model, 0, &err),
                         .prompts = ss_explain_src_json(&src),
                         .interventions = ss_explain_src_interventions(&src)},
                     &err);
    if (!ss_out_folder_end(&folder, &err)) /* --quiet silences the progress line only */
        printf("loss %.6f nats/token, perplexity %.4f over %lld tokens of %lld prompts\n",
               res.loss, res.perplexity, (long long)res.tokens, (long long)res.prompts);
    ss_ppl_result_free(&res);
    if (an.vt)
        ss_analysis_free(&an);
    ss_explain_src_close(&src);
    return err.code ? ss_cli_fail("ppl", &err) : 0;
}
