/* The paper's frequency bands and which frequencies a band ablation removes
 * (SPEC.md section 5; paper section 4.4, Figure 16, Table 5). All indices
 * are SPEC's 1-based l (l = 1 is the highest frequency):
 *   high   [1, floor(F/3)]
 *   medium [floor(F/3) + 1, floor(2F/3)]
 *   low    [floor(2F/3) + 1, F]
 * and m = max(1, round(0.1 F)) frequencies are removed from a band [a, b] of
 * n indices, spread evenly: a + round(t (n - 1) / (m - 1)), t = 0..m-1 (just a
 * when m = 1; m is capped at n). round() is C's, halves away from zero.
 * For F = 64: high [1,21] -> 1,5,9,13,17,21; medium [22,42] -> 22,26,30,34,
 * 38,42; low [43,64] -> 43,47,51,56,60,64. */
#ifndef SS_ANALYSIS_BANDS_H
#define SS_ANALYSIS_BANDS_H

typedef enum { SS_BAND_HIGH, SS_BAND_MEDIUM, SS_BAND_LOW, SS_BAND_COUNT } ss_band;

const char *ss_band_name(ss_band b); /* "high", "medium", "low" */

/* The band's inclusive range [*a, *b] of l; returns its size n (0 when F is
 * too small for the band to hold any frequency, *a > *b then). */
int ss_band_range(int n_freq, ss_band band, int *a, int *b);

/* The number m of frequencies an ablation removes from a band of F. */
int ss_band_remove_count(int n_freq);

/* Writes the removed indices l (ascending) into out (room for n_freq) and
 * returns how many: min(m, n), 0 for an empty band. */
int ss_band_removed(int n_freq, ss_band band, int *out);

#endif
