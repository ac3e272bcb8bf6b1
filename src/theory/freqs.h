/* The RoPE frequencies of the theory lab. The model has d = d_c + d_s
 * dimensions and so F = d/2 frequencies: the first F_c = d_c/2 rotate the
 * cone part (layer 1), the last F_s = d_s/2 the semantic part (layer 2).
 * Assumption 5.1 asks the cone frequencies to sum to a pulse and the
 * semantic ones to be at most O(N^-2).
 *
 *   high      cone: geometric from 2.5 down to 0.2 rad/token (the high and
 *             medium range: periods of 2.5 to 31 tokens); semantic: the
 *             standard schedule's shape scaled to start at N^-2, so all are
 *             at most N^-2. Satisfies the condition (positive peak gap).
 *   low       cone: geometric from 0.5/N down to N^-2, so no cone frequency
 *             completes half a turn over the prompt: f(x) is a smooth bump
 *             that cannot single out one offset (violates the condition);
 *             semantic: as in high, so only the cone differs from high.
 *   standard  theta_l = base^(-2(l-1)/d), l = 1..F, over the whole d.
 *   FILE      one frequency per line ('#' comments allowed): F lines for
 *             every frequency, or F_c lines for the cone only (the semantic
 *             ones then as in `high`). */
#ifndef SS_THEORY_FREQS_H
#define SS_THEORY_FREQS_H

#include "common/error.h"

typedef enum { SS_FREQS_HIGH, SS_FREQS_LOW, SS_FREQS_STANDARD, SS_FREQS_FILE } ss_freqs_kind;

#define SS_FREQS_HIGH_TOP 2.5
#define SS_FREQS_HIGH_BOTTOM 0.2

/* "high", "low", "standard" or a path (anything else). */
ss_freqs_kind ss_freqs_parse_kind(const char *s);
const char *ss_freqs_kind_name(ss_freqs_kind k);

/* Fills theta[0..F_c+F_s-1]. N is the prompt length the set is built for;
 * base is used by `standard`; path by FILE. */
ss_code ss_freqs_build(ss_freqs_kind kind, const char *path, double base, int F_c, int F_s,
                       int N, double *theta, ss_error *err);

/* p-RoPE (Barbero et al. section 6.1, SPEC.md section 5): keep the int(p F)
 * largest frequencies, set the rest to 0 (left unrotated). Ties keep the
 * lower index. p in [0, 1]; F <= 8192. */
void ss_freqs_prope(double *theta, int F, double p);

#endif
