/* Synthetic prompts, reproducible on any machine from a seed.
 *
 * Generator: SplitMix64 (Steele, Lea, Flood 2014; Vigna's reference code):
 *   state += 0x9E3779B97F4A7C15;
 *   z = state;
 *   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
 *   z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
 *   return z ^ (z >> 31);                      (all mod 2^64)
 * Prompt p (0-based) of seed S uses its own stream: a generator seeded with
 * S gives, as its (p+1)-th output, the seed of prompt p's generator. So a
 * prompt depends only on (S, p, V, N, ...), not on how many are drawn.
 *
 * Uniform id in [0, V): draw r; reject r < (2^64 mod V); return r mod V —
 * exactly uniform (the accepted range holds a whole number of copies of
 * every residue).
 *
 * OOD prompt: N i.i.d. uniform ids (SPEC.md section 2). Repeat prompt: a
 * segment of SEG uniform ids drawn from the prompt's stream, repeated to
 * fill N (the last copy cut short): the probe for induction / copying heads.
 * With bos >= 0 position 0 is that id and the draws fill positions 1..N-1. */
#ifndef SS_ANALYSIS_OOD_H
#define SS_ANALYSIS_OOD_H

#include <stdint.h>

#include "common/random.h" /* ss_splitmix64_next */

/* Uniform over [0, v), v >= 1. */
uint32_t ss_uniform_id(uint64_t *state, uint32_t v);

/* Seed of prompt p's stream. */
uint64_t ss_prompt_seed(uint64_t seed, int64_t p);

void ss_ood_prompt(uint64_t seed, int64_t p, uint32_t vocab, int bos, int32_t *ids, int n);
void ss_repeat_prompt(uint64_t seed, int64_t p, uint32_t vocab, int seg, int bos, int32_t *ids,
                      int n);

#endif
