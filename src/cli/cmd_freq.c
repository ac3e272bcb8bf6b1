/* slashscope freq MODEL (prompts) --out DIR: how the RoPE frequencies make
 * the slash (analysis/freq_obs.h, analysis/bands.h, analysis/freqcond.h;
 * SPEC.md section 5). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/bands.h"
#include "analysis/freq_obs.h"
#include "analysis/freq_result.h"
#include "analysis/freqcond.h"
#include "analysis/scan_result.h"
#include "cli/commands.h"
#include "cli/out_folder.h"
#include "cli/summary.h"
#include "cli/dist_cli.h"
#include "cli/explain_src.h"
#include "cli/headsel.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/timing.h"
#include "model/describe.h"
#include "report/freq_out.h"

static const char usage[] =
    "usage: slashscope freq MODEL (prompts) --out DIR [--heads L0H1,...|all | --sdh SCAN_DIR\n"
    "                       [--regime small|large|all]] [--row I] [--skip 4] [--inp-rows 64]\n"
    "                       [--deltas 0-4] [--max-delta 4] [--remove L1,L2,...] [--no-bands]\n"
    "                       [--active-frac 0.1] [--L VALUE]\n\n"
    "For the chosen heads (default all), with frequency index l = 1..F (1 = highest):\n"
    "  InP(i, j, l) for query row i = --row (default 100, or the last position) of the first\n"
    "    prompt, j = 0..i: the per-frequency terms that sum to the logit (Figure 15);\n"
    "  band ablation: the average slash score after leaving m = max(1, round(F/10))\n"
    "    frequencies of the high / medium / low band unrotated (and the --remove set), its\n"
    "    ratio to the unablated score (Figure 16, Table 5), without rerunning the model;\n"
    "  active frequencies (mean |InP| over --inp-rows query rows and keys j >= skip above\n"
    "    --active-frac of the largest) and the slash-dominance frequency condition on them:\n"
    "    C1, C2, eps_FN, L_min, peak gap, pass/fail against --L, and the summed-cosine\n"
    "    curve f(x), x = 0..N (Figure 17);\n"
    "  the Cauchy-Schwarz alignment logit / (s ||q_i|| ||k_{i-delta}||), delta = 0..max-delta;\n"
    "and for every head the frequency usage: mean 2-norm of each frequency's chunk of q and k\n"
    "(Barbero et al. Figures 3-4). Ratios are reported at each SDH's own offset (--sdh) or\n"
    "at every offset of --deltas.\n\n"
    SS_EXPLAIN_SRC_USAGE SS_DIST_USAGE "\n"
    "Writes to DIR: freq.json (settings and every result), bands.csv, ablation.csv,\n"
    "ablation_scores.npy, active.csv, freqcond.csv, freqcond_curve.npy (+ .svg), alignment.csv,\n"
    "usage.csv, usage_layer.csv, usage_q.npy, usage_k.npy, usage_layer_q.png,\n"
    "usage_layer_k.png, inp/LxHy.npy and inp/LxHy.png. See docs/explain.md.\n";

typedef struct {
    ss_explain_src src;
    ss_headsel sel;
    ss_head_ref *refs;
    int n_refs;
    ss_ablation abl[SS_BAND_COUNT + 1];
    int n_abl;
    ss_freq_opts fo;
    ss_analysis an;
    ss_freq_acc *acc;            /* an's state */
    ss_freq_result res;          /* what an finished with */
    int d_lo, d_hi;
    double active_frac, L;
    int has_L;
    const char *out;
} freq_run;

static ss_code parse_range(const char *s, int *lo, int *hi, ss_error *err)
{
    const char *end;
    long long a, b;
    if (!ss_parse_ll(s, &end, 0, INT32_MAX, &a) &&
        (!*end || (*end == '-' && !ss_parse_ll_all(end + 1, a, INT32_MAX, &b)))) {
        *lo = (int)a;
        *hi = *end ? (int)b : (int)a;
        return SS_OK;
    }
    return ss_fail(err, SS_ERR_USAGE, "--deltas '%s': expected an offset or a range like 0-4 "
                   "(0 <= first <= last < 2^31)", s);
}

static ss_code make_ablations(freq_run *r, const ss_args *a, ss_error *err)
{
    const ss_rope *base = &r->src.run.rope;
    int F = base->n_freq, l[SS_ROPE_MAX_FREQ];
    ss_code rc;
    if (!ss_args_has(a, "--no-bands"))
        for (int b = 0; b < SS_BAND_COUNT; b++) {
            int m = ss_band_removed(F, (ss_band)b, l);
            if (m == 0)
                continue; /* F too small for this band to exist */
            if ((rc = ss_ablation_make(&r->abl[r->n_abl++], ss_band_name((ss_band)b), base, l,
                                       m, err)))
                return rc;
        }
    const char *custom = ss_args_get(a, "--remove");
    if (custom) {
        int *list, n;
        if ((rc = ss_rope_parse_list(custom, F, &list, &n, err)))
            return rc;
        rc = ss_ablation_make(&r->abl[r->n_abl++], "custom", base, list, n, err);
        free(list);
        if (rc)
            return rc;
    }
    return SS_OK;
}

static ss_code setup(freq_run *r, const ss_args *a, ss_error *err)
{
    const ss_config *c = &r->src.run.model->cfg;
    long long row, skip, rows, maxd;
    ss_code rc;
    int n = r->src.len;
    if ((rc = ss_args_int(a, "--row", n > 100 ? 100 : n - 1, 0, n - 1, &row, err)) ||
        (rc = ss_args_int(a, "--skip", 4, 0, 1 << 30, &skip, err)) ||
        (rc = ss_args_int(a, "--inp-rows", 64, 1, 1 << 30, &rows, err)) ||
        (rc = ss_args_int(a, "--max-delta", 4, 0, 1 << 20, &maxd, err)) ||
        (rc = ss_args_double(a, "--active-frac", 0.1, 0, 1, &r->active_frac, err)) ||
        (rc = ss_args_double(a, "--L", 0, 0, INFINITY, &r->L, err)) ||
        (rc = parse_range(ss_args_get(a, "--deltas") ? ss_args_get(a, "--deltas") : "0-4",
                          &r->d_lo, &r->d_hi, err)))
        return rc;
    if (ss_args_has(a, "--deltas") && ss_args_has(a, "--sdh"))
        return ss_fail(err, SS_ERR_USAGE, "--deltas does not apply to --sdh (each SDH is "
                       "reported at its own offset)");
    r->has_L = ss_args_has(a, "--L");
    r->fo = (ss_freq_opts){.row = (int)row, .inp_rows = (int)rows, .skip = (int)skip,
                           .max_delta = (int)maxd, .active_frac = r->active_frac};
    if ((rc = ss_headsel_from_args(a, r->src.run.model, &r->sel, err)) ||
        (rc = make_ablations(r, a, err)))
        return rc;
    if (!(r->refs = ss_calloc((size_t)r->sel.n, sizeof *r->refs, "head list", err)))
        return SS_ERR_NOMEM;
    for (int l = 0; l < c->n_layer; l++)
        for (int h = 0; h < c->n_head; h++)
            if (r->sel.flags[l * c->n_head + h])
                r->refs[r->n_refs++] = (ss_head_ref){l, h};
    ss_code rc2 = ss_freq_analysis_new(&r->an, r->src.run.model, &r->src.run.rope, n, r->refs, r->n_refs,
                                       r->abl, r->n_abl, &r->fo, err);
    r->acc = rc2 ? NULL : ss_freq_analysis_acc(&r->an);
    return rc2;
}

/* The heads whose state freq keeps, as a word of the settings a resume
 * must match: with --sdh SCAN they come from that folder, which the same
 * path may hold with other SDHs on a later run (dist/dist.h). */
static ss_code add_heads_setting(const freq_run *r, ss_error *err)
{
    size_t cap = 8 + (size_t)r->n_refs * 24;
    char *w = ss_calloc(cap, 1, "head list", err);
    if (!w)
        return SS_ERR_NOMEM;
    size_t at = (size_t)snprintf(w, cap, "heads=");
    for (int i = 0; i < r->n_refs; i++)
        at += (size_t)snprintf(w + at, cap - at, "%sL%dH%d", i ? "," : "", r->refs[i].layer,
                               r->refs[i].head);
    ss_code rc = ss_dist_add_settings(&ss_cli_dist, w, err);
    free(w);
    return rc;
}

/* The writer's view of the run, and the parts of freq.json only the CLI knows. */
static void write_outputs(freq_run *r, ss_error *err)
{
    const ss_config *c = &r->src.run.model->cfg;
    ss_freq_out o = {.out = r->out, .res = &r->res, .refs = r->refs, .n_refs = r->n_refs,
                     .abl = r->abl, .n_abl = r->n_abl, .fo = &r->fo,
                     .active_frac = r->active_frac, .L = r->L, .has_L = r->has_L,
                     .n_freq = r->src.run.rope.n_freq, .partial_rotary = c->rotary_dim < c->d_head,
                     .sdh = r->sel.sdh, .n_sdh = r->sel.n_sdh, .d_lo = r->d_lo, .d_hi = r->d_hi};
    ss_freq_write(&o,
                  &(ss_explain_record){
                      .model = ss_model_describe(r->src.run.model, &r->src.run.rope),
                      .provenance = ss_out_provenance(r->src.run.model, 0, err),
                      .prompts = ss_explain_src_json(&r->src),
                      .interventions = ss_explain_src_interventions(&r->src),
                      .selection = ss_headsel_json(&r->sel)},
                  err);
}

int cmd_freq(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_EXPLAIN_SRC_FLAGS, SS_HEADSEL_FLAGS, SS_DIST_FLAGS,
                                    SS_OUT_FOLDER_FLAGS,
                                    {"--row", 1}, {"--skip", 1}, {"--inp-rows", 1},
                                    {"--deltas", 1}, {"--max-delta", 1}, {"--remove", 1},
                                    {"--no-bands", 0}, {"--active-frac", 1}, {"--L", 1},
                                    {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "freq", usage, flags, argc, argv, &err))
        return ss_cli_fail("freq", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    freq_run r;
    memset(&r, 0, sizeof r);
    ss_folder folder;
    if (ss_args_out(&a, 1, &r.out, &err))
        return ss_cli_fail("freq", &err);
    /* always on: a plain run is a job of one rank, with its checkpoints */
    if (ss_cli_dist_setup(&folder, &a, argc, argv, "freq.json", 1, NULL, &err))
        return ss_cli_dist_status("freq", &err);
    if (ss_explain_src_open(&r.src, &a, &err)) {
        ss_cli_dist_end(&folder, &err);
        return ss_cli_dist_status("freq", &err);
    }
    r.out = folder.work;
    if (!setup(&r, &a, &err) && !add_heads_setting(&r, &err) &&
        !ss_explain_src_run(&r.src, (ss_analysis *[]){&r.an}, 1, "freq", a.quiet, &err) &&
        !(ss_timing_mark("freq: prompts"), ss_analysis_finish(&r.an, &r.res, &err))) {
        ss_timing_mark("freq: result");
        write_outputs(&r, &err);
        ss_timing_mark("freq: write files");
    }
    if (!ss_cli_dist_end(&folder, &err)) {
        ss_timing_mark("freq: commit folder");
        ss_summary_freq(stdout, ss_args_get(&a, "--out"));
        ss_timing_mark("freq: summary");
    }
    ss_freq_result_free(&r.res);
    if (r.acc)
        ss_analysis_free(&r.an);
    free(r.refs);
    ss_headsel_free(&r.sel);
    ss_explain_src_close(&r.src);
    return ss_cli_dist_status("freq", &err);
}
