/* io/dequant against independent references: the compiler's _Float16
 * conversions for F16, and for the block formats blocks built here from
 * chosen integer codes with an encoder written from the layout description
 * (which 6-bit scale lives in which bits, which nibble holds which element),
 * decoded values then being the closed form d * scale * q - dmin * min. */
#include "io_testutil.h"

#include <math.h>

static uint32_t rng_state = 12345u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static float f32_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t bits_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* The compiler's half -> float (independent of the code under test). */
static float ref_h2f(uint16_t h)
{
    _Float16 x;
    memcpy(&x, &h, 2);
    return (float)x;
}

static uint16_t ref_f2h(float f)
{
    _Float16 x = (_Float16)f;
    uint16_t h;
    memcpy(&h, &x, 2);
    return h;
}

static int same_float(float a, float b)
{
    return (isnan(a) && isnan(b)) || bits_f32(a) == bits_f32(b);
}

static void f16_all_values(void)
{
    static uint16_t all[65536 + 8];
    static float row[65536 + 8];
    for (int i = 0; i < 65536; i++)
        all[i] = (uint16_t)i;
    int bad_scalar = 0, bad_row = 0;
    for (int i = 0; i < 65536; i++)
        bad_scalar += !same_float(ss_f16_to_f32((uint16_t)i), ref_h2f((uint16_t)i));
    CHECK_MSG(bad_scalar == 0, "%d scalar mismatches", bad_scalar);
    /* row path (vectorised), from an offset so loads are unaligned, with a
     * length that leaves a scalar tail */
    for (int start = 0; start < 4; start++) {
        int64_t n = 65536 - start - 3;
        ss_dequant(SS_DT_F16, all, start, n, row);
        for (int64_t i = 0; i < n; i++)
            bad_row += !same_float(row[i], ref_h2f((uint16_t)(start + i)));
    }
    CHECK_MSG(bad_row == 0, "%d row mismatches", bad_row);
    CHECK(ss_f16_to_f32(0x3c00) == 1.0f);
    CHECK(ss_f16_to_f32(0xc000) == -2.0f);
    CHECK(ss_f16_to_f32(0x0001) == 0x1p-24f); /* smallest subnormal */
    CHECK(ss_f16_to_f32(0x03ff) == 1023 * 0x1p-24f);
    CHECK(ss_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(isinf(ss_f16_to_f32(0x7c00)) && ss_f16_to_f32(0xfc00) < 0);
    CHECK(isnan(ss_f16_to_f32(0x7e00)) && isnan(ss_f16_to_f32(0x7c01)));
    CHECK(signbit(ss_f16_to_f32(0x8000)) && ss_f16_to_f32(0x8000) == 0.0f);
}

static void f32_to_f16_rounding(void)
{
    const float edge[] = {0.0f, -0.0f, 1.0f, 65504.0f, 65519.99f, 65520.0f, 1e9f, -1e9f,
                          0x1p-24f, 0x1p-25f, 0x1.000002p-25f, 0x1.8p-24f, 0x1p-14f,
                          0x1.ffcp-15f, 0x1.ffep-15f, 1.0009765625f, 1.00048828125f,
                          1.000732421875f, INFINITY, -INFINITY, NAN, 1e-30f, 0x1p-149f,
                          3.14159265f, -2.71828f};
    int bad = 0;
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        uint16_t got = ss_f32_to_f16(edge[i]), want = ref_f2h(edge[i]);
        int nan_ok = isnan(edge[i]) && (got & 0x7c00) == 0x7c00 && (got & 0x3ff);
        if (got != want && !nan_ok) {
            bad++;
            fprintf(stderr, "f32->f16 %a: got %04x want %04x\n", (double)edge[i], got, want);
        }
    }
    for (int i = 0; i < 2000000; i++) {
        float f = f32_bits(rnd());
        uint16_t got = ss_f32_to_f16(f), want = ref_f2h(f);
        if (isnan(f) ? !((got & 0x7c00) == 0x7c00 && (got & 0x3ff)) : got != want)
            bad++;
    }
    /* concentrate on the half range, where rounding matters */
    for (int i = 0; i < 2000000; i++) {
        float f = f32_bits((rnd() & 0x80000000u) | (0x33000000u + rnd() % 0x14800000u));
        bad += ss_f32_to_f16(f) != ref_f2h(f);
    }
    CHECK_MSG(bad == 0, "%d mismatches", bad);
}

static void bf16_values(void)
{
    CHECK(ss_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(ss_bf16_to_f32(0xc040) == -3.0f);
    CHECK(isinf(ss_bf16_to_f32(0x7f80)));
    CHECK(ss_bf16_to_f32(0x0001) == 0x1p-133f);
    static uint16_t all[65536];
    static float row[65536];
    for (int i = 0; i < 65536; i++)
        all[i] = (uint16_t)i;
    ss_dequant(SS_DT_BF16, all, 1, 65535, row);
    int bad = 0;
    for (int i = 1; i < 65536; i++)
        bad += bits_f32(row[i - 1]) != (uint32_t)i << 16;
    CHECK(bad == 0);
}

/* A random normal or subnormal fp16 scale (positive or negative). */
static uint16_t rand_scale(void)
{
    uint16_t h = (uint16_t)(rnd() & 0x7bff);
    if ((h >> 10) > 20) /* keep values small like real scales */
        h = (uint16_t)((h & 0x3ff) | (uint16_t)((rnd() % 20) << 10));
    return (uint16_t)(h | ((rnd() & 1) << 15));
}

/* ---- Q8_0 / Q4_0 -------------------------------------------------------- */

static void q8_0_blocks(void)
{
    enum { NB = 5 };
    uint8_t blk[NB * 34];
    float want[NB * 32], got[NB * 32];
    for (int b = 0; b < NB; b++) {
        uint16_t d = rand_scale();
        memcpy(blk + 34 * b, &d, 2);
        for (int j = 0; j < 32; j++) {
            int8_t q = (int8_t)(rnd() & 0xff);
            blk[34 * b + 2 + j] = (uint8_t)q;
            want[32 * b + j] = (float)((double)ref_h2f(d) * q);
        }
    }
    ss_dequant(SS_DT_Q8_0, blk, 0, NB * 32, got);
    CHECK(memcmp(got, want, sizeof got) == 0);
    ss_dequant(SS_DT_Q8_0, blk, 7, 100, got); /* partial blocks at both ends */
    CHECK(memcmp(got, want + 7, 100 * sizeof *got) == 0);
}

static void q4_0_blocks(void)
{
    enum { NB = 4 };
    uint8_t blk[NB * 18];
    float want[NB * 32], got[NB * 32];
    for (int b = 0; b < NB; b++) {
        uint16_t d = rand_scale();
        memcpy(blk + 18 * b, &d, 2);
        int q[32];
        for (int e = 0; e < 32; e++)
            q[e] = (int)(rnd() % 16);
        /* elements 0..15 in the low nibbles, 16..31 in the high nibbles */
        for (int j = 0; j < 16; j++)
            blk[18 * b + 2 + j] = (uint8_t)(q[j] | (q[j + 16] << 4));
        for (int e = 0; e < 32; e++)
            want[32 * b + e] = (float)((double)ref_h2f(d) * (q[e] - 8));
    }
    ss_dequant(SS_DT_Q4_0, blk, 0, NB * 32, got);
    CHECK(memcmp(got, want, sizeof got) == 0);
    ss_dequant(SS_DT_Q4_0, blk, 32, 64, got);
    CHECK(memcmp(got, want + 32, 64 * sizeof *got) == 0);
}

/* ---- Q4_K ----------------------------------------------------------------
 * 256 elements in 8 sub-blocks of 32; sub-block s has a 6-bit scale sc[s]
 * and 6-bit min m[s]: value = d * sc[s] * q - dmin * m[s], q a 4-bit code.
 * The 12 scale bytes: bytes 0-3 hold sc[0..3] in their low 6 bits and the
 * top 2 bits of sc[4..7] in their high 2; bytes 4-7 the same for m; bytes
 * 8-11 hold the low 4 bits of sc[4..7] (low nibble) and m[4..7] (high).
 * Codes: 64-element chunk c uses bytes qs[32c..32c+31], its first 32
 * elements in the low nibbles and the next 32 in the high nibbles. */
static void q4_k_encode(uint8_t *b, uint16_t d, uint16_t dmin, const int *sc, const int *m,
                        const int *q)
{
    memcpy(b, &d, 2);
    memcpy(b + 2, &dmin, 2);
    uint8_t *s = b + 4, *qs = b + 16;
    for (int j = 0; j < 4; j++) {
        s[j] = (uint8_t)((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        s[j + 4] = (uint8_t)((m[j] & 63) | ((m[j + 4] >> 4) << 6));
        s[j + 8] = (uint8_t)((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
    }
    memset(qs, 0, 128);
    for (int e = 0; e < 256; e++) {
        int c = e / 64, w = e % 64;
        qs[32 * c + w % 32] |= (uint8_t)(w < 32 ? q[e] : q[e] << 4);
    }
}

static void q4_k_blocks(void)
{
    enum { NB = 3 };
    uint8_t blk[NB * 144];
    static float want[NB * 256], got[NB * 256];
    for (int b = 0; b < NB; b++) {
        int sc[8], m[8], q[256];
        for (int s = 0; s < 8; s++) {
            sc[s] = (int)(rnd() % 64);
            m[s] = (int)(rnd() % 64);
        }
        if (b == 0) { /* extremes */
            sc[0] = 63;
            m[7] = 63;
            sc[7] = 0;
        }
        for (int e = 0; e < 256; e++)
            q[e] = (int)(rnd() % 16);
        uint16_t d = rand_scale() & 0x7fff, dmin = rand_scale() & 0x7fff;
        q4_k_encode(blk + 144 * b, d, dmin, sc, m, q);
        double dd = ref_h2f(d), dm = ref_h2f(dmin);
        for (int e = 0; e < 256; e++) /* both products are exact in float */
            want[256 * b + e] = (float)(dd * sc[e / 32] * q[e] - dm * m[e / 32]);
    }
    ss_dequant(SS_DT_Q4_K, blk, 0, NB * 256, got);
    int bad = 0;
    for (int i = 0; i < NB * 256; i++)
        bad += !same_float(got[i], want[i]);
    CHECK_MSG(bad == 0, "%d mismatches", bad);
    ss_dequant(SS_DT_Q4_K, blk, 5, 300, got);
    CHECK(memcmp(got, want + 5, 300 * sizeof *got) == 0);
}

/* ---- Q6_K ----------------------------------------------------------------
 * 256 elements in 16 sub-blocks of 16 with int8 scales: value =
 * d * scale[e / 16] * (q - 32), q a 6-bit code. Each 128-element half h
 * uses ql[64h..64h+63] (element w of the half: low nibble of ql[w % 64] for
 * w < 64, high nibble for w >= 64) and qh[32h..32h+31] (the top 2 bits of
 * element w at bit 2 * (w / 32) of qh[w % 32]). d is the last 2 bytes. */
static void q6_k_encode(uint8_t *b, uint16_t d, const int *scale, const int *q)
{
    uint8_t *ql = b, *qh = b + 128;
    memset(b, 0, 210);
    for (int e = 0; e < 256; e++) {
        int h = e / 128, w = e % 128;
        ql[64 * h + w % 64] |= (uint8_t)(w < 64 ? (q[e] & 15) : (q[e] & 15) << 4);
        qh[32 * h + w % 32] |= (uint8_t)((q[e] >> 4) << (2 * (w / 32)));
    }
    for (int s = 0; s < 16; s++)
        b[192 + s] = (uint8_t)(int8_t)scale[s];
    memcpy(b + 208, &d, 2);
}

static void q6_k_blocks(void)
{
    enum { NB = 3 };
    uint8_t blk[NB * 210];
    static float want[NB * 256], got[NB * 256];
    for (int b = 0; b < NB; b++) {
        int scale[16], q[256];
        for (int s = 0; s < 16; s++)
            scale[s] = (int)(rnd() % 256) - 128;
        for (int e = 0; e < 256; e++)
            q[e] = (int)(rnd() % 64);
        if (b == 0) {
            q[0] = 0;
            q[255] = 63;
            scale[0] = -128;
            scale[15] = 127;
        }
        uint16_t d = rand_scale();
        q6_k_encode(blk + 210 * b, d, scale, q);
        double dd = ref_h2f(d);
        for (int e = 0; e < 256; e++)
            want[256 * b + e] = (float)(dd * scale[e / 16] * (q[e] - 32));
    }
    ss_dequant(SS_DT_Q6_K, blk, 0, NB * 256, got);
    int bad = 0;
    for (int i = 0; i < NB * 256; i++)
        bad += !same_float(got[i], want[i]);
    CHECK_MSG(bad == 0, "%d mismatches", bad);
    /* rows of a [3, 256] tensor */
    ss_tensor t = {.name = "t", .dtype = SS_DT_Q6_K, .ndim = 2, .shape = {3, 256},
                   .data = blk, .nbytes = sizeof blk};
    ss_tensor_rows_f32(&t, 1, 2, got);
    CHECK(memcmp(got, want + 256, 512 * sizeof *got) == 0);
}

static void rows_plain(void)
{
    float src[12];
    uint16_t h[12];
    for (int i = 0; i < 12; i++) {
        src[i] = (float)i * 0.5f - 2.0f;
        h[i] = ref_f2h(src[i]);
    }
    ss_tensor t = {.name = "t", .dtype = SS_DT_F32, .ndim = 2, .shape = {3, 4}, .data = src,
                   .nbytes = sizeof src};
    float out[12];
    ss_tensor_rows_f32(&t, 2, 1, out);
    CHECK(memcmp(out, src + 8, 16) == 0);
    t.dtype = SS_DT_F16;
    t.data = h;
    t.nbytes = sizeof h;
    ss_tensor_rows_f32(&t, 0, 3, out);
    CHECK(memcmp(out, src, sizeof src) == 0); /* exactly representable values */
}

TEST_MAIN(TEST(f16_all_values), TEST(f32_to_f16_rounding), TEST(bf16_values),
          TEST(q8_0_blocks), TEST(q4_0_blocks), TEST(q4_k_blocks), TEST(q6_k_blocks),
          TEST(rows_plain))
