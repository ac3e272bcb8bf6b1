/* slashscope attn MODEL (--ids ... | --ids-file F) --layer L --head H --out X.npy */
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "cli/model_run.h"
#include "common/mem.h"
#include "engine/head_map.h"
#include "io/npy.h"

static const char usage[] =
    "usage: slashscope attn MODEL (--ids \"1 2 3\" | --ids-file F) --layer L --head H --out X.npy\n"
    "                       [--allow-long] [--rope-remove L1,L2,...] [--p-rope P]\n"
    "                       [--ablate L1H3,...[:zero|:mean]]\n"
    "                         [--head-rope-remove L1H3:l1,l2,... (repeatable)]\n"
    "                         [--lowrank PLAN[@THRE,RANK_THRE]]\n\n"
    "Writes one query head's post-softmax attention probabilities as float32 [T, T] (query\n"
    "position, key position; zero above the diagonal). Layers and heads are 0-based; with\n"
    "grouped-query attention head H reads key/value head H / (heads / kv_heads).\n"
    "The model runs only up to layer L and only that head's map is kept in memory.\n";

int cmd_attn(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_MODEL_RUN_FLAGS, {"--out", 1}, {"--layer", 1},
                                    {"--head", 1}, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "attn", usage, flags, argc, argv, &err))
        return ss_cli_fail("attn", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    const char *out;
    long long layer, head;
    ss_model_run r;
    if (ss_args_out(&a, 0, &out, &err) ||
        ss_args_require(&a, "--layer", &(const char *){NULL}, &err) ||
        ss_args_require(&a, "--head", &(const char *){NULL}, &err) ||
        ss_model_run_open(&r, &a, 1, &err))
        return ss_cli_fail("attn", &err);
    const ss_config *cfg = &r.model->cfg;
    if (ss_args_int(&a, "--layer", 0, 0, cfg->n_layer - 1, &layer, &err) ||
        ss_args_int(&a, "--head", 0, 0, cfg->n_head - 1, &head, &err)) {
        ss_model_run_close(&r);
        return ss_cli_fail("attn", &err);
    }
    float *map = ss_calloc((size_t)r.n * r.n, sizeof(float), "attention map", &err);
    ss_progress progress;
    ss_progress_start(&progress, a.quiet, "attn", layer + 1, "layers");
    ss_forward_opts fo = {.rope = &r.rope, .allow_long = r.allow_long, .progress = &progress};
    ss_model_run_edits(&r, &fo);
    if (map && !ss_head_map_opts(r.model, r.ids, r.n, (int)layer, (int)head, &fo, map, &err)) {
        int64_t shape[2] = {r.n, r.n};
        ss_npy_write(out, SS_NPY_F32, 2, shape, map, &err);
    }
    ss_progress_end(&progress);
    free(map);
    ss_model_run_close(&r);
    return err.code ? ss_cli_fail("attn", &err) : 0;
}
