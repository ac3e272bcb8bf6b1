#include "analysis/ood.h"

uint32_t ss_uniform_id(uint64_t *state, uint32_t v)
{
    uint64_t reject_below = (0 - (uint64_t)v) % v; /* 2^64 mod v */
    for (;;) {
        uint64_t r = ss_splitmix64_next(state);
        if (r >= reject_below)
            return (uint32_t)(r % v);
    }
}

uint64_t ss_prompt_seed(uint64_t seed, int64_t p)
{
    /* the (p+1)-th output of a generator seeded with `seed`: SplitMix64's
     * state after k steps is seed + k * gamma, so jump straight there */
    uint64_t state = seed + (uint64_t)p * 0x9E3779B97F4A7C15ull;
    return ss_splitmix64_next(&state);
}

void ss_ood_prompt(uint64_t seed, int64_t p, uint32_t vocab, int bos, int32_t *ids, int n)
{
    uint64_t state = ss_prompt_seed(seed, p);
    int start = 0;
    if (bos >= 0 && n > 0)
        ids[start++] = bos;
    for (int t = start; t < n; t++)
        ids[t] = (int32_t)ss_uniform_id(&state, vocab);
}

void ss_repeat_prompt(uint64_t seed, int64_t p, uint32_t vocab, int seg, int bos, int32_t *ids,
                      int n)
{
    uint64_t state = ss_prompt_seed(seed, p);
    int start = 0;
    if (bos >= 0 && n > 0)
        ids[start++] = bos;
    /* draw the segment in place, then copy it forward */
    for (int t = start; t < n && t < start + seg; t++)
        ids[t] = (int32_t)ss_uniform_id(&state, vocab);
    for (int t = start + seg; t < n; t++)
        ids[t] = ids[t - seg];
}
