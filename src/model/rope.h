/* The RoPE schedule as an explicit, editable list of frequencies.
 *
 * Index convention inside the library: frequency f = 0..F-1, highest first
 * (f = 0 rotates by theta_0 = 1 radian per token in the standard schedule);
 * SPEC.md's 1-based l is f + 1, and every user-facing flag and output uses l.
 * Frequency f rotates the pair (f, f + d_head/2) of the canonical ("half",
 * Hugging Face) dimension order; the engine brings interleaved checkpoints
 * to that order right after the projections, so observers and analyses
 * always see half pairing. */
#ifndef SS_MODEL_ROPE_H
#define SS_MODEL_ROPE_H

#include "common/error.h"

typedef enum { SS_PAIR_HALF, SS_PAIR_INTERLEAVED } ss_rope_pairing;

typedef enum { SS_SCALE_NONE, SS_SCALE_LINEAR, SS_SCALE_LLAMA3, SS_SCALE_FREQ_FACTORS } ss_scaling_type;

typedef struct {
    ss_scaling_type type;
    double factor, low_freq_factor, high_freq_factor;
    int original_ctx;
} ss_rope_scaling;

#define SS_ROPE_MAX_FREQ 512

typedef struct {
    int n_freq;                           /* F = d_head / 2 */
    double base;
    double theta[SS_ROPE_MAX_FREQ];       /* final angle per token, after scaling */
    unsigned char active[SS_ROPE_MAX_FREQ]; /* 0: the pair is left unrotated */
} ss_rope;

/* theta_f = base^(-2f/d_head), then the scaling rule; all active. */
ss_code ss_rope_standard(ss_rope *r, int d_head, double base, const ss_rope_scaling *s,
                         ss_error *err);
/* Divides theta_f by factors[f] (GGUF rope_freqs.weight). */
void ss_rope_apply_freq_factors(ss_rope *r, const float *factors);

/* Deactivates frequencies given as 1-based indices l (SPEC.md). */
ss_code ss_rope_remove(ss_rope *r, const int *l, int n, ss_error *err);
/* p-RoPE: keeps the int(p F) highest frequencies active, the rest unrotated. */
ss_code ss_rope_keep_fraction(ss_rope *r, double p, ss_error *err);
/* Parses "l1,l2,a-b" (1-based) into a list; *out is malloc'd. */
ss_code ss_rope_parse_list(const char *s, int n_freq, int **out, int *n, ss_error *err);

#endif
