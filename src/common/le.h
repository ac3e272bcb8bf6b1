/* Little-endian fields of binary files (llama2.c checkpoints and
 * tokenizer.bin), read byte by byte so the host's order and alignment do
 * not matter. */
#ifndef SS_COMMON_LE_H
#define SS_COMMON_LE_H

#include <stdint.h>
#include <string.h>

static inline uint32_t ss_le_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline int32_t ss_le_i32(const unsigned char *p)
{
    uint32_t u = ss_le_u32(p);
    int32_t i;
    memcpy(&i, &u, 4);
    return i;
}

static inline float ss_le_f32(const unsigned char *p)
{
    uint32_t u = ss_le_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

#endif
