/* Merging scans of the same model and settings over disjoint prompt sets:
 * sums and counts add (SPEC.md section 2), so the merged averages are those
 * of one scan over all the prompts, up to floating-point reassociation. */
#ifndef SS_ANALYSIS_MERGE_H
#define SS_ANALYSIS_MERGE_H

#include "common/error.h"

/* Refuses (SS_ERR_INCOMPATIBLE, naming the field) scans of different models,
 * RoPE schedules, lengths or skips, and two inputs that share a prompt
 * source (same SHA-256), overlapping index ranges of one synthetic
 * sequence (same kind, seed, vocabulary), or one prompt (the SHA-256 of its
 * ids) in two inputs: the same prompts counted twice. The output is written
 * as one transaction (store/folder.h); a finished out_dir needs force. Maps are merged
 * for the heads every input has at the same map size; *maps_dropped (may
 * be NULL) gets how many input maps had to be left out. */
ss_code ss_scan_merge(const char *const *dirs, int n_dirs, const char *out_dir, int force,
                      int *maps_dropped, ss_error *err);

#endif
