/* Merging scans of the same model and settings over disjoint prompt sets:
 * sums and counts add (SPEC.md section 2), so the merged averages are those
 * of one scan over all the prompts, up to floating-point reassociation. */
#ifndef SS_ANALYSIS_MERGE_H
#define SS_ANALYSIS_MERGE_H

#include "analysis/scan_result.h"
#include "common/error.h"

/* Refuses (SS_ERR_INCOMPATIBLE, naming the field) scans of different models,
 * RoPE schedules (the weights' fingerprint included), lengths or skips, and
 * any prompt counted twice: two inputs sharing a prompt source (same
 * SHA-256), overlapping index ranges of one synthetic sequence (same kind,
 * seed, vocabulary), or one prompt (the SHA-256 of its ids) in two inputs. Maps are merged
 * for the heads every input has at the same map size; *maps_dropped (may
 * be NULL) gets how many input maps had to be left out. names[a] labels
 * in[a] in messages and becomes the merged scan.json's "merged_from" entry;
 * *out is the caller's to free. Folders: ss_scan_merge (report/scan_folder.h). */
ss_code ss_scan_merge_results(const ss_scan_result *in, const char *const *names, int n,
                              ss_scan_result *out, int *maps_dropped, ss_error *err);

#endif
