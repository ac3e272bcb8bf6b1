/* The RoPE schedule as an explicit, editable list of frequencies.
 *
 * Index convention inside the library: frequency f = 0..F-1, highest first
 * (f = 0 rotates by theta_0 = 1 radian per token in the standard schedule);
 * SPEC.md's 1-based l is f + 1, and every user-facing flag and output uses l.
 * Frequency f rotates the pair (f, f + F) of the canonical ("half", Hugging
 * Face) dimension order, F = n_freq = rotary_dim / 2; the engine brings
 * interleaved checkpoints to that order right after the projections, so
 * observers and analyses always see half pairing. With partial rotary
 * (GPT-NeoX's rotary_pct, partial_rotary_factor) rotary_dim < d_head and
 * dims rotary_dim..d_head-1 are never rotated: a position-free part. */
#ifndef SS_MODEL_ROPE_H
#define SS_MODEL_ROPE_H

#include "common/error.h"

typedef enum { SS_PAIR_HALF, SS_PAIR_INTERLEAVED } ss_rope_pairing;

typedef enum {
    SS_SCALE_NONE,
    SS_SCALE_LINEAR,
    SS_SCALE_LLAMA3,
    SS_SCALE_FREQ_FACTORS, /* GGUF rope_freqs.weight divisors (llama3 converted) */
    SS_SCALE_YARN,
    SS_SCALE_DYNAMIC,      /* dynamic NTK: the base grows with the sequence length */
    SS_SCALE_LONGROPE      /* Phi-3: short / long per-frequency divisors */
} ss_scaling_type;

#define SS_ROPE_MAX_FREQ 512

typedef struct {
    ss_scaling_type type;
    double factor, low_freq_factor, high_freq_factor;
    int original_ctx;      /* llama3, yarn, longrope: the pre-training context */
    int max_ctx;           /* dynamic, longrope: max_position_embeddings */
    double beta_fast, beta_slow;    /* yarn correction range (0: 32 and 1) */
    double attn_factor;    /* yarn / longrope cos-sin factor; 0: the rule's default */
    double mscale, mscale_all_dim;  /* yarn (DeepSeek): attention factor from these */
    int n_factors;         /* longrope: length of short/long factor lists (= F) */
    double short_factor[SS_ROPE_MAX_FREQ], long_factor[SS_ROPE_MAX_FREQ];
} ss_rope_scaling;

typedef struct {
    int n_freq;                           /* F = rotary_dim / 2 */
    double base;
    double theta[SS_ROPE_MAX_FREQ];       /* final angle per token, after scaling */
    unsigned char active[SS_ROPE_MAX_FREQ]; /* 0: the pair is left unrotated */
    /* cos and sin are multiplied by this (yarn, longrope), so q.k carries
     * its square; 1 for every other schedule */
    double attn_factor;
    /* Length-dependent schedules (dynamic NTK, longrope) keep their rule
     * here: theta above is the one for sequences up to the original
     * context, ss_rope_at_length gives the one a longer sequence uses. */
    ss_rope_scaling scaling;
} ss_rope;

/* theta_f = base^(-2f/rotary_dim), then the scaling rule; all active. */
ss_code ss_rope_standard(ss_rope *r, int rotary_dim, double base, const ss_rope_scaling *s,
                         ss_error *err);
/* Divides theta_f by factors[f] (GGUF rope_freqs.weight, rope_factors_*). */
void ss_rope_apply_freq_factors(ss_rope *r, const float *factors);
/* The schedule a prefill of n tokens uses: r itself except for dynamic NTK
 * and longrope past their original context (HF recomputes the frequencies
 * for the sequence length); active flags and attn_factor are kept. */
void ss_rope_at_length(const ss_rope *r, int n, ss_rope *out);

/* Deactivates frequencies given as 1-based indices l (SPEC.md). */
ss_code ss_rope_remove(ss_rope *r, const int *l, int n, ss_error *err);
/* p-RoPE: keeps the int(p F) highest frequencies active, the rest unrotated. */
ss_code ss_rope_keep_fraction(ss_rope *r, double p, ss_error *err);
/* Parses "l1,l2,a-b" (1-based) into a list; *out is malloc'd. */
ss_code ss_rope_parse_list(const char *s, int n_freq, int **out, int *n, ss_error *err);

#endif
