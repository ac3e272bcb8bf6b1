/* exp of the softmax's shifted scores, x = s - max <= 0, 8 lanes at once
 * (AVX2 + FMA): cheaper than libmvec's general expf, as accurate where the
 * softmax uses it. Every attention path (the forward pass's heads, the
 * scan's sums, freq's re-scoring) takes its exponentials from here, tails
 * included, so a probability does not depend on which path or which lane
 * computed it (freq's empty ablation reproduces the scan bit for bit).
 *
 * Domain [-inf, 0] (and NaN, which stays NaN); within 1 ulp of float over
 * it, subnormal results included, exp(-inf) = 0, exp(0) = 1, and results
 * below half the smallest subnormal round to 0 as expf's do
 * (tests/test_softmax_exp.c, against double exp). Inputs above 0 are
 * outside the contract (they never occur: the max is subtracted first).
 *
 * How: n = round(x log2 e) and r = x - n ln2 in two FMA steps (Cody-Waite,
 * |r| <= ln2 / 2), e^r by the degree-7 polynomial of Cephes' expf, then
 * times 2^n; below x = -87.5 (2^n no longer normal) 2^n as 2^(n/2)
 * 2^(n - n/2), both normal down to x = -110 (where inputs are clamped; the
 * result is 0 from -104 on), so the only rounding into the subnormals is
 * the last product's. About as many operations as libmvec's expf, inline,
 * with no call and no scalar fallback. */
#ifndef SS_ENGINE_SOFTMAX_EXP_H
#define SS_ENGINE_SOFTMAX_EXP_H

#ifdef __AVX2__
#include <immintrin.h>

/* e^r for |r| <= ln2 / 2: Cephes' expf polynomial, in Horner form. */
static inline __m256 ss_exp_reduced8(__m256 r)
{
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    return _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
}

/* r = x - n ln2 with ln2 = 0.693359375 - 2.12194440e-4 (n times the first
 * part is exact). */
static inline __m256 ss_exp_reduce8(__m256 x, __m256 n)
{
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    return _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
}

/* Results below 2^-126 (x < -87.5, rare in a softmax): 2^n as two normal
 * factors, the inputs clamped at -110 (-inf included). */
static inline __m256 ss_exp_tiny8(__m256 x)
{
    x = _mm256_max_ps(_mm256_set1_ps(-110.0f), x);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 p = ss_exp_reduced8(ss_exp_reduce8(x, n));
    __m256i ni = _mm256_cvtps_epi32(n), bias = _mm256_set1_epi32(127);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

static inline __m256 ss_exp_nonpos8(__m256 x)
{
    /* n = round(x log2 e) by the shifter 1.5 2^23 (+ 127: the low bits of
     * t are then 2^n's exponent field); n >= -126 for x >= -87.5, so 2^n
     * is a normal float and the one product rounds (into the subnormals,
     * too) once. NaN goes through. */
    const __m256 shifter = _mm256_set1_ps(0x1.8p23f + 127.0f);
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), shifter);
    __m256 n = _mm256_sub_ps(t, shifter);
    __m256 p = ss_exp_reduced8(ss_exp_reduce8(x, n));
    __m256 e = _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23)));
    __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(-87.5f), _CMP_LT_OQ);
    if (__builtin_expect(_mm256_movemask_ps(tiny) != 0, 0))
        e = _mm256_blendv_ps(e, ss_exp_tiny8(x), tiny);
    return e;
}

/* Lanes 0..count-1 (count 0..8) live: the mask of a partial load/store. */
static inline __m256i ss_lanes8(int count)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

#endif
