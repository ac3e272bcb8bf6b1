/* The scan's observer: per (layer, head), the average slash score of
 * SPEC.md section 2 and, for chosen heads, the attention map pooled into
 * M x M blocks, both accumulated from blocks of attention rows as the
 * forward pass produces them.
 *
 * State, for prompts of a fixed length n:
 *  - per-prompt diagonal sums for the heads of the layer being run (H x n
 *    doubles), folded into slash_sum / slash_count (ss_slash_finish_prompt)
 *    when the layer is done, so memory is O(L H n), never O(n^2);
 *  - slash_sum [L, H, n] (per-prompt means summed), slash_sumsq [L, H, n]
 *    (their squares summed, for the spread over prompts) and slash_count
 *    [L, H, n] (prompts counted at each offset): disjoint prompt sets merge
 *    by adding;
 *  - map_sum [n_maps, B, B]: sums over prompts of S[i][j] over each block.
 *
 * Pooling rule: B = min(M, n) bins; bin b holds positions
 * [floor(b n / B), floor((b + 1) n / B)) for rows and for keys alike, so bin
 * sizes differ by at most one and each position is in exactly one bin. The
 * pooled value of block (a, b) is the mean of S[i][j] over all its cells,
 * entries above the diagonal counting as the zeros they are, averaged over
 * the prompts. With n <= M the map is the mean attention matrix itself.
 *
 * Observer contract (engine/observer.h): on_probs calls for different heads
 * may run concurrently; every call writes only its own head's rows of the
 * diagonal sums and its own map slot, so no locking is needed. */
#ifndef SS_ANALYSIS_SCAN_ACC_H
#define SS_ANALYSIS_SCAN_ACC_H

#include <stdint.h>

#include "common/error.h"
#include "engine/observer.h"

typedef struct {
    int n_layer, n_head, n, skip;
    int map_size;        /* M asked for, 0 when no map is kept */
    int bins;            /* B = min(M, n), 0 when no map is kept */
    int *edge;           /* [B + 1] bin boundaries */
    int *bin_of;         /* [n] position -> bin */
    int *map_slot;       /* [L * H]: slot in map_sum, or -1 */
    int n_maps;
    double *rdiag;       /* [H * n]: current layer's diagonal sums, offset d at n - 1 - d */
    double *tmp;         /* [n] */
    double *slash_sum;   /* [L * H * n] */
    double *slash_sumsq; /* [L * H * n] */
    int64_t *slash_count;/* [L * H * n] */
    double *map_sum;     /* [n_maps * B * B] */
    int64_t prompts;     /* prompts completed */
    int layers_done;     /* layers finished in the prompt under way */
    int bad_call;        /* an on_probs call outside [0, n) rows or heads */
} ss_scan_acc;

/* map_heads: [L * H] flags (non-zero: keep that head's map), or NULL for
 * none; map_size M >= 1 when any flag is set. */
ss_code ss_scan_acc_init(ss_scan_acc *a, int n_layer, int n_head, int n, int skip,
                         int map_size, const unsigned char *map_heads, ss_error *err);
void ss_scan_acc_free(ss_scan_acc *a);

/* The observer callbacks (engine/observer.h), callable directly (tests feed
 * reference arrays); analysis/scan_analysis.h runs them in the driver. */
ss_code ss_scan_acc_on_probs(void *ctx, int layer, int head, int row0, int nrows, const float *p,
                             int64_t ld);
ss_code ss_scan_acc_on_layer_done(void *ctx, int layer, ss_error *err);

/* Ends a prompt: checks every layer was finished, counts the prompt. */
ss_code ss_scan_acc_end_prompt(ss_scan_acc *a, ss_error *err);

/* Adds b's sums and counts into a: same dimensions, skip and map heads and
 * size, else SS_ERR_INCOMPATIBLE naming what differs. */
ss_code ss_scan_acc_merge(ss_scan_acc *a, const ss_scan_acc *b, ss_error *err);

/* Pooled mean map [B, B] of a slot (divides by prompts and block areas;
 * NaN when no prompt was counted). */
void ss_scan_acc_map_mean(const ss_scan_acc *a, int slot, double *out);

/* The map bin layout of length n with M requested bins: *bins = min(M, n)
 * and edge[b] = floor(b n / bins) for b = 0..bins (edge has M + 1 room). */
void ss_scan_map_edges(int n, int map_size, int *bins, int *edge);

#endif
