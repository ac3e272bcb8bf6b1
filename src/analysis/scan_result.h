/* A finished scan as a plain struct: sums, sums of squares and counts per
 * (layer, head, offset), the kept maps' block sums and scan.json's fields.
 * Its folder (slash*.npy, sdh.csv, maps/, scan.json) is written and read by
 * report/scan_folder.h. */
#ifndef SS_ANALYSIS_SCAN_RESULT_H
#define SS_ANALYSIS_SCAN_RESULT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "analysis/sdh.h"
#include "common/error.h"

typedef struct {
    int n_layer, n_head, n, skip;
    int64_t prompts;
    double *slash_sum;     /* [L, H, n] */
    double *slash_sumsq;   /* [L, H, n]; NULL from a folder written before it existed */
    int64_t *slash_count;  /* [L, H, n] */
    int map_size, bins;    /* M asked for, B = min(M, n) used; 0 when no maps */
    int n_maps;
    int *map_heads;        /* [n_maps] layer * H + head, ascending */
    double *map_sum;       /* [n_maps, B, B] */
    cJSON *meta;           /* scan.json (owned); its count fields are set on write */
} ss_scan_result;

void ss_scan_result_free(ss_scan_result *r);

/* slash_sum / slash_count, NaN where nothing was counted; malloc'd. */
double *ss_scan_result_average(const ss_scan_result *r, ss_error *err);
/* Kept map k's block means [bins, bins] into mean: block sum / (prompts *
 * block area), NaN without prompts; edge: the bins' edges
 * (ss_scan_map_edges of n and map_size). */
void ss_scan_result_map_mean(const ss_scan_result *r, int k, const int *edge, double *mean);

/* Standard deviation over prompts and 95% half-width [L, H, n] (NaN where
 * fewer than two prompts counted, or everywhere without sums of squares);
 * malloc'd into *sd and *half. */
ss_code ss_scan_result_spread(const ss_scan_result *r, double **sd, double **half, ss_error *err);

/* What a scan's arrays must satisfy whatever their checksums say (SPEC.md
 * section 2): every count is the number of prompts where the offset has
 * rows (n - d - skip > 0) and 0 elsewhere, and every sum is finite and
 * between 0 and its count (each prompt adds a mean of probabilities); sums
 * of squares (sumsq, NULL when absent) lie between sum^2 / count and count.
 * Errors name `what` (the file) and the first entry that fails. */
ss_code ss_scan_arrays_check(const char *what, const double *sum, const double *sumsq,
                             const int64_t *count, int n_layer, int n_head, int n, int skip,
                             int64_t prompts, ss_error *err);

/* Whether the scan r (read from dir) was made with the model whose scan.json
 * "model" object (ss_scan_model_json) is `model`: the same recorded config
 * and weights' fingerprint; otherwise SS_ERR_INCOMPATIBLE naming `flag`
 * (e.g. "--sdh"), the field and both values. */
ss_code ss_scan_result_of_model(const ss_scan_result *r, const char *dir, const cJSON *model,
                                const char *flag, ss_error *err);

/* Whether two scans are of the same model (every recorded model field but
 * its path, the weights' fingerprint included, and the RoPE angles), with
 * the same skip, and when same_length the same prompt length; otherwise
 * SS_ERR_INCOMPATIBLE naming the field and both values. */
ss_code ss_scan_result_compatible(const ss_scan_result *a, const char *a_dir,
                                  const ss_scan_result *b, const char *b_dir, int same_length,
                                  ss_error *err);

/* "LxHy" <-> (layer, head). */
void ss_head_name(int layer, int head, char *buf, int cap);
/* Parses "L0H1,L3H2" into flags[L * H] (set to 1); errors name the entry. */
ss_code ss_head_list_parse(const char *s, int n_layer, int n_head, unsigned char *flags,
                           ss_error *err);

#endif
