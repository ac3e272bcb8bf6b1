/* The random-number pieces every layer shares: SplitMix64 (Steele, Lea,
 * Flood 2014) and the Box-Muller transform. Seeded streams built on them:
 * analysis/ood.h (synthetic prompts), theory/rng.h (the theory lab). */
#ifndef SS_COMMON_RANDOM_H
#define SS_COMMON_RANDOM_H

#include <stdint.h>

/* state += 0x9E3779B97F4A7C15, then the SplitMix64 finaliser of the state. */
uint64_t ss_splitmix64_next(uint64_t *state);

/* Two independent standard normals from u1 in (0, 1] and u2 in [0, 1):
 * r = sqrt(-2 ln u1), *z0 = r cos(2 pi u2), *z1 = r sin(2 pi u2). */
void ss_box_muller(double u1, double u2, double *z0, double *z1);

#endif
