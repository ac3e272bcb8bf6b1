/* Stored weights -> float32. Block layouts follow ggml's ggml-common.h /
 * ggml-quants.c (dequantize_row_*) exactly, byte for byte, so GGUF files
 * written by llama.cpp decode to the values llama.cpp itself uses. All reads
 * go through memcpy: tensor data in a mapped file has no alignment promise. */
#include "io/dequant.h"

#include <assert.h>
#include <string.h>

#if defined(__F16C__) || defined(__AVX2__)
#include <immintrin.h>
#endif

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t bits_from_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

float ss_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) /* inf, or NaN made quiet as the x86 conversion does */
        return f32_from_bits(sign | 0x7f800000u | (mant << 13) | (mant ? 0x400000u : 0));
    if (exp == 0) /* zero or subnormal: mant * 2^-24, exact in float */
        return f32_from_bits(sign | bits_from_f32((float)mant * 0x1p-24f));
    return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t ss_f32_to_f16(float f)
{
    uint32_t x = bits_from_f32(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) /* NaN: keep it a (quiet) NaN */
        return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    if (ax >= 0x477ff000u) /* >= 65520 rounds past the largest half (65504) */
        return (uint16_t)(sign | 0x7c00u);
    if (ax >= 0x38800000u) { /* normal half: rebias, round to nearest even */
        uint32_t r = ax - 0x38000000u;
        r += 0xfffu + ((r >> 13) & 1u);
        return (uint16_t)(sign | (r >> 13));
    }
    if (ax <= 0x33000000u) /* <= 2^-25: half-way to the smallest subnormal ties to 0 */
        return sign;
    /* subnormal half: the value in units of 2^-24, rounded to nearest even */
    uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - e; /* 14..24 */
    uint32_t q = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u)))
        q++;
    return (uint16_t)(sign | q);
}

float ss_bf16_to_f32(uint16_t h) { return f32_from_bits((uint32_t)h << 16); }

static uint16_t rd16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* ---- plain types (hot path: every forward pass converts rows) --------- */

static void f16_row(const uint8_t *src, int64_t n, float *dst)
{
    int64_t i = 0;
#ifdef __F16C__
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + 2 * i))));
#endif
    for (; i < n; i++)
        dst[i] = ss_f16_to_f32(rd16(src + 2 * i));
}

static void bf16_row(const uint8_t *src, int64_t n, float *dst)
{
    int64_t i = 0;
#ifdef __AVX2__
    /* widen 8 halves to 32 bits and shift them into the high half (gcc -O2
     * does not vectorise the scalar loop below by itself) */
    for (; i + 8 <= n; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + 2 * i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
    }
#endif
    for (; i < n; i++) {
        uint32_t u = (uint32_t)rd16(src + 2 * i) << 16;
        memcpy(dst + i, &u, 4);
    }
}

/* ---- block types: one block -> block_elems floats ---------------------- */

/* block_q8_0 { ggml_half d; int8_t qs[32]; } */
static void q8_0_block(const uint8_t *b, float *y)
{
    float d = ss_f16_to_f32(rd16(b));
    const int8_t *qs = (const int8_t *)(b + 2);
    for (int j = 0; j < 32; j++)
        y[j] = qs[j] * d;
}

/* block_q4_0 { ggml_half d; uint8_t qs[16]; }: element j is the low nibble
 * of qs[j], element j + 16 the high nibble, both offset by 8. */
static void q4_0_block(const uint8_t *b, float *y)
{
    float d = ss_f16_to_f32(rd16(b));
    const uint8_t *qs = b + 2;
    for (int j = 0; j < 16; j++) {
        y[j] = ((qs[j] & 0x0f) - 8) * d;
        y[j + 16] = ((qs[j] >> 4) - 8) * d;
    }
}

/* ggml get_scale_min_k4: eight 6-bit scales and mins packed in 12 bytes. */
static void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* block_q4_K { ggml_half d, dmin; uint8_t scales[12]; uint8_t qs[128]; } */
static void q4_k_block(const uint8_t *b, float *y)
{
    float d = ss_f16_to_f32(rd16(b)), min = ss_f16_to_f32(rd16(b + 2));
    const uint8_t *scales = b + 4, *q = b + 16;
    int is = 0;
    for (int j = 0; j < 256; j += 64) {
        uint8_t sc, m;
        scale_min_k4(is, scales, &sc, &m);
        float d1 = d * sc, m1 = min * m;
        scale_min_k4(is + 1, scales, &sc, &m);
        float d2 = d * sc, m2 = min * m;
        for (int l = 0; l < 32; l++)
            *y++ = d1 * (q[l] & 0xf) - m1;
        for (int l = 0; l < 32; l++)
            *y++ = d2 * (q[l] >> 4) - m2;
        q += 32;
        is += 2;
    }
}

/* block_q6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; ggml_half d; } */
static void q6_k_block(const uint8_t *b, float *y)
{
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    float d = ss_f16_to_f32(rd16(b + 208));
    for (int n = 0; n < 256; n += 128) {
        for (int l = 0; l < 32; l++) {
            int is = l / 16;
            int q1 = (int8_t)((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
            int q2 = (int8_t)((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
            int q3 = (int8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            int q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * sc[is] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

static void decode_block(ss_dtype t, const uint8_t *b, float *y)
{
    switch (t) {
    case SS_DT_Q8_0: q8_0_block(b, y); break;
    case SS_DT_Q4_0: q4_0_block(b, y); break;
    case SS_DT_Q4_K: q4_k_block(b, y); break;
    case SS_DT_Q6_K: q6_k_block(b, y); break;
    default: break;
    }
}

void ss_dequant(ss_dtype t, const void *data, int64_t first, int64_t n, float *dst)
{
    const uint8_t *p = data;
    if (n <= 0)
        return;
    switch (t) {
    case SS_DT_F32: memcpy(dst, p + 4 * first, (size_t)n * 4); return;
    case SS_DT_F16: f16_row(p + 2 * first, n, dst); return;
    case SS_DT_BF16: bf16_row(p + 2 * first, n, dst); return;
    default: break;
    }
    int be = ss_dtype_block_elems(t), bb = ss_dtype_block_bytes(t);
    assert(be > 1 && be <= 256);
    int64_t blk = first / be, off = first % be;
    while (n > 0) {
        int64_t take = be - off < n ? be - off : n;
        if (take == be) {
            decode_block(t, p + blk * bb, dst);
        } else { /* a partial block at either end: decode whole, copy the slice */
            float tmp[256];
            decode_block(t, p + blk * bb, tmp);
            memcpy(dst, tmp + off, (size_t)take * sizeof *dst);
        }
        dst += take;
        n -= take;
        blk++;
        off = 0;
    }
}

void ss_tensor_rows_f32(const ss_tensor *t, int64_t row0, int64_t nrows, float *dst)
{
    int64_t cols = t->ndim ? t->shape[t->ndim - 1] : 1;
    assert(row0 >= 0 && nrows >= 0 && (row0 + nrows) * cols <= ss_tensor_numel(t));
    ss_dequant(t->dtype, t->data, row0 * cols, nrows * cols, dst);
}
