/* freq's result folder (docs/explain.md): freq.json (settings and every
 * result), bands.csv, ablation.csv, ablation_scores.npy, active.csv,
 * freqcond.csv, freqcond_curve.npy (+ .svg), alignment.csv, usage.csv,
 * usage_layer.csv, usage_q.npy, usage_k.npy, usage_layer_{q,k}.png (+ .svg),
 * inp/LxHy.npy, .png and .svg. */
#ifndef SS_REPORT_FREQ_OUT_H
#define SS_REPORT_FREQ_OUT_H

#include "analysis/freq_obs.h"
#include "analysis/freq_result.h"
#include "analysis/sdh.h"
#include "common/error.h"
#include "report/explain_out.h"

/* What the files show: the finished analysis and the settings it ran with. */
typedef struct {
    const char *out;               /* the folder */
    const ss_freq_result *res;
    const ss_head_ref *refs;       /* the chosen heads, in res's order */
    int n_refs;
    const ss_ablation *abl;        /* the ablation variants, in res's order */
    int n_abl;
    const ss_freq_opts *fo;
    double active_frac, L;
    int has_L;                     /* L given: freqcond.csv says pass / fail */
    int n_freq;                    /* F of the schedule run */
    int partial_rotary;            /* rotary_dim < d_head: record the position-free part */
    const ss_sdh *sdh;             /* SDHs (from a scan): ablations at their own offsets */
    int n_sdh;
    int d_lo, d_hi;                /* else every offset d_lo..d_hi */
} ss_freq_out;

/* Writes every file above into r->out (created if needed), freq.json last.
 * rec's parts are taken over (freed here, also on failure); a NULL
 * provenance means its error is in err. */
ss_code ss_freq_write(const ss_freq_out *r, ss_explain_record *rec, ss_error *err);

#endif
