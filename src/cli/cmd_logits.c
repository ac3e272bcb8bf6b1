/* slashscope logits MODEL (--ids "1 2 3" | --ids-file F) --out X.npy */
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "cli/model_run.h"
#include "common/mem.h"
#include "io/npy.h"

static const char usage[] =
    "usage: slashscope logits MODEL (--ids \"1 2 3\" | --ids-file F) --out X.npy\n"
    "                         [--allow-long] [--rope-remove L1,L2,...] [--p-rope P]\n"
    "                         [--ablate L1H3,...[:zero|:mean]]\n"
    "                         [--head-rope-remove L1H3:l1,l2,... (repeatable)]\n"
    "                         [--lowrank PLAN[@THRE,RANK_THRE]]\n\n"
    "Runs the sequence through the model and writes float32 [T, vocab]: row p is the output\n"
    "after tokens 0..p (it predicts token p+1). --ids-file reads the first line of F.\n"
    "--rope-remove leaves the listed frequencies unrotated (1-based, 1 = highest);\n"
    "--p-rope P keeps only the int(P F) highest frequencies (0 = NoPE).\n"
    "--ablate replaces the listed heads' outputs (before W_O) by zero or their mean over\n"
    "the positions. --head-rope-remove L1H3:1,2 leaves frequencies 1 and 2 unrotated\n"
    "for query head L1H3 only (its query and its own copy of its key head's keys).\n"
    "--lowrank PLAN replaces W_Q/W_K by the low-rank matrices of a `compress` result\n"
    "folder (its only (thre, rank_thre) pair, or the one given after @).\n"
    "A sequence longer than the model's context is refused unless --allow-long is given.\n";

int cmd_logits(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_MODEL_RUN_FLAGS, {"--out", 1}, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "logits", usage, flags, argc, argv, &err))
        return ss_cli_fail("logits", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    const char *out;
    ss_model_run r;
    if (ss_args_out(&a, 0, &out, &err) || ss_model_run_open(&r, &a, 1, &err))
        return ss_cli_fail("logits", &err);
    int vocab = r.model->cfg.vocab;
    float *logits = ss_calloc((size_t)r.n * vocab, sizeof *logits, "logits", &err);
    ss_progress progress;
    ss_progress_start(&progress, a.quiet, "logits", r.model->cfg.n_layer, "layers");
    ss_forward_opts o = {.rope = &r.rope, .allow_long = r.allow_long, .progress = &progress};
    ss_model_run_edits(&r, &o);
    if (logits && !ss_forward(r.model, r.ids, r.n, &o, logits, &err)) {
        int64_t shape[2] = {r.n, vocab};
        ss_npy_write(out, SS_NPY_F32, 2, shape, logits, &err);
    }
    ss_progress_end(&progress);
    free(logits);
    ss_model_run_close(&r);
    return err.code ? ss_cli_fail("logits", &err) : 0;
}
