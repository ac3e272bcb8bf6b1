/* A scan's output folder (docs/scan.md):
 *   scan.json                     settings, model, prompt source, counts, timing
 *   slash.npy        f64 [L,H,N]  average slash score (NaN: no prompt counted)
 *   slash_sum.npy    f64 [L,H,N]  per-prompt means, summed over prompts
 *   slash_sumsq.npy  f64 [L,H,N]  squares of the per-prompt means, summed
 *   slash_count.npy  i64 [L,H,N]  prompts counted at each offset
 *   sdh.csv                       SDHs under the two default regimes, with the
 *                                 std over prompts and the 95% interval
 *   maps/LxHy.npy    f32 [B,B]    pooled mean attention of a chosen head
 *   maps/LxHy.png                 the same, log colour scale
 *   maps/sums.npy    f64 [K,B,B]  the block sums behind the K maps, for merging
 *   SHA256SUMS                    every file's SHA-256 (store/manifest.h)
 * Written by `scan` and `merge`, read by `sdh`, `compare` and `merge`; a read
 * checks SHA256SUMS and the arrays' contents (ss_scan_arrays_check).
 * (The result struct itself: analysis/scan_result.h.) */
#ifndef SS_REPORT_SCAN_FOLDER_H
#define SS_REPORT_SCAN_FOLDER_H

#include "analysis/scan.h"
#include "analysis/scan_result.h"
#include "analysis/sdh.h"
#include "common/error.h"

/* Writes every file above into dir (created if needed), scan.json last. */
ss_code ss_scan_result_write(const char *dir, ss_scan_result *r, ss_error *err);
/* Reads a scan folder, checking every array's shape against scan.json
 * (slash_sumsq.npy is optional: folders from before it have none). */
ss_code ss_scan_result_read(const char *dir, ss_scan_result *r, ss_error *err);

/* Writes the SDH table of the given regimes as CSV
 * (regime,kappa,delta,layer,head,name,score,std,ci_low,ci_high,prompts):
 * std and the interval score -/+ half from sd and half, prompts from count
 * (each [L, H, n]; NULL leaves those columns empty). */
ss_code ss_sdh_csv_write(const char *path, const double *slash, const double *sd,
                         const double *half, const int64_t *count, int n_layer, int n_head, int n,
                         const ss_sdh_regime *regimes, int n_regimes, ss_error *err);

/* Runs the scan (ss_scan_collect) as one result transaction
 * (store/folder.h): written into o->out_dir.partial with its checkpoints
 * (report/scan_checkpoint.h), renamed to o->out_dir when complete; a
 * finished o->out_dir is replaced only with o->force. With kept, the result
 * written goes there on success (freed by the caller with
 * ss_scan_result_free): a summary needs no second read of the folder. */
ss_code ss_scan_run(const ss_scan_opts *o, ss_scan_result *kept, ss_error *err);

/* Writes r as a scan folder out_dir in one transaction (store/folder.h):
 * into out_dir.partial, renamed into place with SHA256SUMS; a finished
 * out_dir is replaced (whole) only with force. */
ss_code ss_scan_result_save(const char *out_dir, ss_scan_result *r, int force, ss_error *err);

/* Merges scan folders (ss_scan_merge_results) into out_dir, one
 * transaction; a finished out_dir is replaced only with force. */
ss_code ss_scan_merge(const char *const *dirs, int n_dirs, const char *out_dir, int force,
                      int *maps_dropped, ss_error *err);

#endif
