/* A small seeded random number generator for the theory lab: xoshiro256**
 * seeded through splitmix64, with Box-Muller normals. Every sample of every
 * step gets its own stream derived from (seed, stream, index), so the data a
 * run sees does not depend on how many threads draw it. */
#ifndef SS_THEORY_RNG_H
#define SS_THEORY_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
    double spare; /* the second Box-Muller normal */
    int has_spare;
} ss_rng;

/* The stream for (seed, stream, index): distinct triples give independent-
 * looking streams. */
void ss_rng_seed(ss_rng *r, uint64_t seed, uint64_t stream, uint64_t index);
uint64_t ss_rng_u64(ss_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double ss_rng_uniform(ss_rng *r);
/* Uniform integer in [0, n), n >= 1, without modulo bias. */
uint32_t ss_rng_below(ss_rng *r, uint32_t n);
/* Standard normal. */
double ss_rng_normal(ss_rng *r);

#endif
