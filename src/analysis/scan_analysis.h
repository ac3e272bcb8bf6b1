/* The scan (SPEC.md section 2) as an analysis (analysis/analysis.h): the
 * scan accumulator (analysis/scan_acc.h) behind the common vtable.
 * finish fills an ss_scan_result (analysis/scan_result.h) with copies of
 * the sums and counts and every kept map (meta left NULL: the caller records
 * the settings). merge adds another scan's sums of the same shape. */
#ifndef SS_ANALYSIS_SCAN_ANALYSIS_H
#define SS_ANALYSIS_SCAN_ANALYSIS_H

#include "analysis/analysis.h"
#include "analysis/scan_acc.h"

/* Arguments as ss_scan_acc_init; the state is allocated here and released
 * by ss_analysis_free. */
ss_code ss_scan_analysis_new(ss_analysis *an, int n_layer, int n_head, int n, int skip,
                             int map_size, const unsigned char *map_heads, ss_error *err);
/* The accumulator inside (for checkpoints). */
ss_scan_acc *ss_scan_analysis_acc(const ss_analysis *an);

#endif
