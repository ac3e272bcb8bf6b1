/* In-distribution vs OOD (SPEC.md section 2, the paper's Figure 7 and
 * Table 3): for every SDH of the in-distribution scan, its score on the OOD
 * scan and ratio = score_OOD / score_ID, and the five-number summary of the
 * ratios. */
#ifndef SS_ANALYSIS_COMPARE_H
#define SS_ANALYSIS_COMPARE_H

#include "analysis/scan_result.h"
#include "analysis/sdh.h"

typedef struct {
    int regime;             /* index into the regimes given */
    int layer, head, delta;
    double score_id, score_ood, ratio; /* NaN when the OOD scan has no data at delta */
} ss_compare_row;

/* Five-number summary over the finite values: min, first quartile, median,
 * third quartile, max. Quantiles by linear interpolation between order
 * statistics (Hyndman & Fan type 7, numpy's default): for sorted x[0..n-1],
 * q(p) = x[f] + (h - f) (x[f+1] - x[f]) with h = (n - 1) p, f = floor(h). */
typedef struct {
    int n; /* finite values counted (all fields NaN when 0) */
    double min, q1, median, q3, max;
} ss_five_number;

/* The scans must be of the same model and skip (lengths may differ). */
ss_code ss_compare_scans(const ss_scan_result *id, const char *id_dir, const ss_scan_result *ood,
                         const char *ood_dir, const ss_sdh_regime *regimes, int n_regimes,
                         ss_compare_row **rows, int *n_rows, ss_error *err);

/* values is reordered. */
void ss_five_number_summary(double *values, int n, ss_five_number *out);
double ss_quantile_sorted(const double *x, int n, double p);

#endif
