/* slashscope rank MODEL (prompts) --out DIR: low rank of pre-PE Q, K, the
 * hidden states H and the weights W_Q, W_K per head (analysis/rank_obs.h;
 * SPEC.md section 3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/rank_result.h"
#include "cli/commands.h"
#include "cli/out_folder.h"
#include "cli/summary.h"
#include "cli/dist_cli.h"
#include "cli/explain_src.h"
#include "cli/headsel.h"
#include "common/mem.h"
#include "model/describe.h"
#include "report/rank_out.h"

static const char usage[] =
    "usage: slashscope rank MODEL (prompts) --out DIR [--heads L0H1,...|all | --sdh SCAN_DIR\n"
    "                       [--regime small|large|all]] [--tau T1,T2,...]\n\n"
    "Per head, r_1 and R_tau (SPEC.md section 3, no centering) of the pre-PE queries Q\n"
    "[N, d_head], the keys K of its KV head, the layer's hidden states H [N, d] (the\n"
    "attention input after RMSNorm), and the weights W_Q, W_K of the head (paper Tables 3\n"
    "and 4); the relative variation std/mean of ||q_i|| and ||k_j|| over every token\n"
    "(Figure 14); and the averages over the listed heads (e.g. the SDHs of a scan, --sdh)\n"
    "next to the averages over all heads (Figures 9 and 10). tau 0.95 always, plus --tau.\n"
    "Each prompt's matrices are its own N rows; values are means over the prompts.\n\n"
    SS_EXPLAIN_SRC_USAGE SS_DIST_USAGE "\n"
    "Writes DIR/rank.csv (every query head; listed = 1 for the chosen ones),\n"
    "DIR/rank_summary.csv (means over listed and over all heads), DIR/rank.json (settings,\n"
    "the same numbers) and the mean spectra r_l as float64 .npy: spectra_q.npy [L,H,d_head],\n"
    "spectra_k.npy [L,H_kv,d_head], spectra_h.npy [L,d], spectra_wq.npy [L,H,d_head],\n"
    "spectra_wk.npy [L,H_kv,d_head], and spectra.svg (cumulative energy of Q, K and H).\n"
    "See docs/explain.md for every column.\n";

static ss_code parse_taus(const ss_args *a, double *tau, int *n_tau, ss_error *err)
{
    tau[0] = 0.95;
    *n_tau = 1;
    const char *s = ss_args_get(a, "--tau");
    if (!s)
        return SS_OK;
    const char *p = s;
    while (*p) {
        char *end;
        double t = strtod(p, &end);
        if (end == p || !(t >= 0 && t <= 1) || (*end && *end != ','))
            return ss_fail(err, SS_ERR_USAGE, "--tau '%s': expected fractions in [0, 1] "
                           "separated by commas", s);
        int dup = 0;
        for (int i = 0; i < *n_tau; i++)
            dup |= tau[i] == t;
        if (!dup) {
            if (*n_tau == SS_RANK_MAX_TAU)
                return ss_fail(err, SS_ERR_USAGE, "--tau: at most %d thresholds",
                               SS_RANK_MAX_TAU - 1);
            tau[(*n_tau)++] = t;
        }
        p = *end ? end + 1 : end;
    }
    return SS_OK;
}

int cmd_rank(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_EXPLAIN_SRC_FLAGS, SS_HEADSEL_FLAGS, SS_DIST_FLAGS,
                                    SS_OUT_FOLDER_FLAGS,
                                    {"--tau", 1}, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "rank", usage, flags, argc, argv, &err))
        return ss_cli_fail("rank", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    const char *out;
    double tau[SS_RANK_MAX_TAU];
    int n_tau;
    if (ss_args_out(&a, 1, &out, &err) || parse_taus(&a, tau, &n_tau, &err))
        return ss_cli_fail("rank", &err);
    ss_explain_src src;
    ss_folder folder;
    /* always on: a plain run is a job of one rank, with its checkpoints */
    if (ss_cli_dist_setup(&folder, &a, argc, argv, "rank.json", 1, NULL, &err))
        return ss_cli_dist_status("rank", &err);
    if (ss_explain_src_open(&src, &a, &err)) {
        ss_cli_dist_end(&folder, &err);
        return ss_cli_dist_status("rank", &err);
    }
    out = folder.work;
    ss_headsel sel = {0};
    ss_analysis an = {0};
    ss_rank_result res = {0};
    if (!ss_headsel_from_args(&a, src.run.model, &sel, &err) &&
        !ss_rank_analysis_new(&an, src.run.model, tau, n_tau, &err) &&
        !ss_explain_src_run(&src, (ss_analysis *[]){&an}, 1, "rank", a.quiet, &err) &&
        !ss_analysis_finish(&an, &res, &err))
        ss_rank_write(out, &res, sel.flags,
                      &(ss_explain_record){
                          .model = ss_model_describe(src.run.model, &src.run.rope),
                          .provenance = ss_out_provenance(src.run.model, 0, &err),
                          .prompts = ss_explain_src_json(&src),
                          .interventions = ss_explain_src_interventions(&src),
                          .selection = ss_headsel_json(&sel)},
                      &err);
    if (!ss_cli_dist_end(&folder, &err))
        ss_summary_rank(stdout, ss_args_get(&a, "--out"));
    ss_rank_result_free(&res);
    if (an.vt)
        ss_analysis_free(&an);
    ss_headsel_free(&sel);
    ss_explain_src_close(&src);
    return ss_cli_dist_status("rank", &err);
}
