/* slashscope cone MODEL --out DIR: layer-0 analysis over the whole
 * vocabulary (analysis/cone_vocab.h; SPEC.md section 4). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cone_vocab.h"
#include "analysis/scan_result.h"
#include "cli/commands.h"
#include "cli/out_folder.h"
#include "cli/summary.h"
#include "cli/headsel.h"
#include "common/mem.h"
#include "engine/forward.h"
#include "model/describe.h"
#include "report/cone_out.h"

static const char usage[] =
    "usage: slashscope cone MODEL --out DIR [--heads L0H1,... | --sdh SCAN_DIR [--regime R]]\n"
    "                       [--tau 0.95] [--max-delta 4] [--seed 0] [--chunk 2048]\n\n"
    "Layer-0 analysis over the whole vocabulary (token t at position t, h = the layer-0\n"
    "attention input RMSN(x)), for every layer-0 head (paper section 4.3):\n"
    "  r~_1, R~_tau of W_Q and W_K (Table 2, Figure 11) next to r_1, R_tau of Q and K;\n"
    "  the dominant singular direction of W_Q / W_K, its energy share and relative\n"
    "  variation RV against a seeded Gaussian direction (Table 11, Figure 12);\n"
    "  the mean ||W^T h|| against the bias norm ||b|| (Table 12, Figure 13);\n"
    "and, for the named layer-0 heads (default: all of them), the Cauchy-Schwarz\n"
    "alignment logit / (s ||q_t|| ||k_{t-delta}||) at offsets 0..max-delta (Barbero et al.).\n"
    "Named heads in other layers are listed as ignored (this is a layer-0 analysis).\n\n"
    "Writes DIR/cone.csv (one row per layer-0 query head, K columns from its KV head),\n"
    "DIR/alignment.csv (head, delta, ratio statistics) and DIR/cone.json (settings, the\n"
    "same numbers, averages over the named heads and over all layer-0 heads).\n"
    "See docs/explain.md for every column.\n";

int cmd_cone(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_HEADSEL_FLAGS, SS_OUT_FOLDER_FLAGS, {"--tau", 1},
                                    {"--max-delta", 1}, {"--seed", 1}, {"--chunk", 1},
                                    {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "cone", usage, flags, argc, argv, &err))
        return ss_cli_fail("cone", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    const char *out;
    double tau;
    long long max_delta, seed, chunk;
    if (a.n_positional != 1)
        ss_fail(&err, SS_ERR_USAGE, "expected one MODEL argument (see --help)");
    if (err.code || ss_args_out(&a, 1, &out, &err) ||
        ss_args_double(&a, "--tau", 0.95, 0, 1, &tau, &err) ||
        ss_args_int(&a, "--max-delta", 4, 0, 1 << 20, &max_delta, &err) ||
        ss_args_int(&a, "--seed", 0, 0, INT64_MAX, &seed, &err) ||
        ss_args_int(&a, "--chunk", 2048, 1, 1 << 20, &chunk, &err))
        return ss_cli_fail("cone", &err);
    ss_set_threads(a.threads);
    ss_model *m = NULL;
    if (ss_model_open(a.positional[0], &m, &err))
        return ss_cli_fail("cone", &err);
    ss_folder folder;
    if (ss_out_folder_begin(&folder, &a, "cone.json", &out, &err)) {
        ss_model_close(m);
        return ss_cli_fail("cone", &err);
    }
    const ss_config *c = &m->cfg;
    ss_headsel sel = {0};
    ss_cone_report rep = {0};
    unsigned char *listed = NULL;
    int *cs = NULL, n_cs = 0;
    cJSON *ignored = cJSON_CreateArray();
    if (ss_headsel_from_args(&a, m, &sel, &err))
        goto done;
    listed = ss_calloc((size_t)c->n_head, 1, "head flags", &err);
    cs = ss_calloc((size_t)c->n_head, sizeof *cs, "head list", &err);
    if (!listed || !cs)
        goto done;
    for (int l = 0; l < c->n_layer; l++)
        for (int h = 0; h < c->n_head; h++) {
            if (!sel.flags[l * c->n_head + h])
                continue;
            if (l == 0) {
                listed[h] = 1;
                cs[n_cs++] = h;
            } else if (strcmp(sel.source, "all") != 0) {
                char name[32];
                ss_head_name(l, h, name, sizeof name);
                cJSON_AddItemToArray(ignored, cJSON_CreateString(name));
            }
        }
    if (cJSON_GetArraySize(ignored) > 0 && !a.quiet)
        fprintf(stderr, "slashscope cone: %d named heads are outside layer 0 and are ignored "
                "(listed in cone.json)\n", cJSON_GetArraySize(ignored));
    ss_cone_opts o = {.tau = tau, .max_delta = (int)max_delta, .seed = (uint64_t)seed,
                      .chunk = (int)chunk, .cs_heads = cs, .n_cs = n_cs};
    if (ss_cone_vocab(m, &o, &rep, &err))
        goto done;
    ss_cone_write(out, &o, &rep, listed, ignored,
                  &(ss_explain_record){.model = ss_model_describe(m, NULL),
                                       .provenance = ss_out_provenance(m, 0, &err),
                                       .selection = ss_headsel_json(&sel)},
                  &err);
    ignored = NULL; /* taken over by the writer */
done:
    if (!ss_out_folder_end(&folder, &err))
        ss_summary_cone(stdout, ss_args_get(&a, "--out"));
    cJSON_Delete(ignored);
    ss_cone_report_free(&rep);
    ss_headsel_free(&sel);
    free(listed);
    free(cs);
    ss_model_close(m);
    return err.code ? ss_cli_fail("cone", &err) : 0;
}
