#include "theory/rng.h"

#include <math.h>

#include "common/random.h"

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void ss_rng_seed(ss_rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
    /* Hash the three words one after another so that (seed, stream, index)
     * and any permutation of it land on different states. */
    uint64_t x = seed;
    uint64_t h = ss_splitmix64_next(&x);
    x = h ^ stream;
    h = ss_splitmix64_next(&x);
    x = h ^ index;
    for (int i = 0; i < 4; i++)
        r->s[i] = ss_splitmix64_next(&x);
    r->has_spare = 0;
    r->spare = 0.0;
}

uint64_t ss_rng_u64(ss_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ss_rng_uniform(ss_rng *r) { return (double)(ss_rng_u64(r) >> 11) * 0x1.0p-53; }

uint32_t ss_rng_below(ss_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift with rejection of the biased low range. */
    uint64_t m = (uint64_t)(uint32_t)(ss_rng_u64(r) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)(ss_rng_u64(r) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double ss_rng_normal(ss_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = ss_rng_uniform(r), u2 = ss_rng_uniform(r), z0;
    ss_box_muller(1.0 - u1, u2, &z0, &r->spare); /* 1 - u1 is in (0, 1] */
    r->has_spare = 1;
    return z0;
}
