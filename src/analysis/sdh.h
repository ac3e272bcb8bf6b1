/* Slash-dominant heads (SPEC.md section 2): a head is kappa-slash-dominant
 * at offset d when its average slash score at d is at least kappa. */
#ifndef SS_ANALYSIS_SDH_H
#define SS_ANALYSIS_SDH_H

#include <cjson/cJSON.h>

#include "common/error.h"

typedef struct {
    double kappa;
    int d_min, d_max; /* inclusive offset range */
    const char *name; /* "small" / "large" / "custom" */
} ss_sdh_regime;

/* The paper's two default regimes: d in 0..4 with kappa 0.1, and d in
 * 500..5000 with kappa 1e-3. */
extern const ss_sdh_regime SS_SDH_SMALL, SS_SDH_LARGE;

/* The two regimes a scan uses (its sdh.csv, --maps sdh, the listing): the
 * paper's, with κ kappa_small / kappa_large where > 0. */
void ss_sdh_scan_regimes(double kappa_small, double kappa_large, ss_sdh_regime out[2]);

/* The regimes recorded in scan.json's "sdh_regimes" (the small and large
 * entries' κ), the paper's where absent: what that scan's sdh.csv used. */
void ss_sdh_regimes_from_json(const cJSON *sdh_regimes, ss_sdh_regime out[2]);

/* scan.json's "sdh_regimes" for these two. */
cJSON *ss_sdh_regimes_json(const ss_sdh_regime reg[2]);

typedef struct {
    int layer, head, delta;
    double score;
} ss_sdh;

/* Every (layer, head, d) of slash [L, H, N] (NaN = no data) with d in the
 * regime's range and score >= kappa, ordered by d ascending, then score
 * descending, then layer and head. *out is malloc'd (NULL when none). */
ss_code ss_sdh_find(const double *slash, int n_layer, int n_head, int n, const ss_sdh_regime *r,
                    ss_sdh **out, int *n_out, ss_error *err);

#endif
