/* engine/softmax_exp.h against double exp over the whole range the softmax
 * feeds it, [-inf, 0]: every 97th float of it (all exponents, mantissas in
 * every residue), every float whose exponential is subnormal or rounds to
 * 0 (x in [-104, -87.3]), and the special values. The bound is 2 ulp of
 * the float result (the kernel is within 1; glibc's expf within 0.5).
 * An exhaustive run over every float of [-inf, -0] gave 0.89 ulp at most
 * (docs/benchmarks.md, attnk). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

#ifdef __AVX2__
#include "engine/softmax_exp.h"

/* |f - ref| in ulps of the float nearest ref (the subnormals' ulp below
 * 2^-126); 0 when both are 0. */
static double ulps(float f, double ref)
{
    if (ref == 0)
        return f == 0 ? 0 : INFINITY;
    int e;
    frexp(ref, &e); /* ref = m 2^e, m in [0.5, 1) */
    double ulp = fmax(ldexp(1.0, e - 24), ldexp(1.0, -149));
    return fabs((double)f - ref) / ulp;
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* the worst error over the floats with bits lo, lo + step, ... <= hi */
static double worst_over(uint32_t lo, uint32_t hi, uint32_t step, float *at)
{
    double worst = 0;
    for (uint64_t b = lo; b <= hi; b += 8ull * step) {
        float x[8], y[8];
        for (int l = 0; l < 8; l++) {
            uint64_t u = b + (uint64_t)l * step;
            x[l] = from_bits((uint32_t)(u < hi ? u : hi));
        }
        _mm256_storeu_ps(y, ss_exp_nonpos8(_mm256_loadu_ps(x)));
        for (int l = 0; l < 8; l++) {
            double u = ulps(y[l], exp((double)x[l]));
            if (!(u <= worst)) {
                worst = u;
                *at = x[l];
            }
        }
    }
    return worst;
}

static void test_dense(void)
{
    float at = 0;
    /* -0 (0x80000000) to -inf (0xff800000) */
    double w = worst_over(0x80000000u, 0xff800000u, 97, &at);
    CHECK_MSG(w <= 2.0, "%.3f ulp at %a", w, at);
    /* the subnormal results and the underflow to 0, every float */
    uint32_t lo, hi;
    float a = -87.3f, b = -104.0f;
    memcpy(&lo, &a, 4);
    memcpy(&hi, &b, 4);
    w = worst_over(lo, hi, 1, &at);
    CHECK_MSG(w <= 2.0, "%.3f ulp at %a (subnormal results)", w, at);
}

static void test_special(void)
{
    float x[8] = {-INFINITY, -0.0f, 0.0f, NAN, -104.0f, -103.9f, -1e-30f, -1e30f}, y[8];
    _mm256_storeu_ps(y, ss_exp_nonpos8(_mm256_loadu_ps(x)));
    CHECK(y[0] == 0.0f && !signbit(y[0]));
    CHECK(y[1] == 1.0f && y[2] == 1.0f);
    CHECK(isnan(y[3]));
    CHECK(y[4] == expf(-104.0f) && y[4] == 0.0f); /* below half the least subnormal */
    CHECK(y[5] == expf(-103.9f) && y[5] == 0x1p-149f);
    CHECK(y[6] == 1.0f);
    CHECK(y[7] == 0.0f);
}
#else
static void test_dense(void) {}
static void test_special(void) {}
#endif

TEST_MAIN(TEST(test_dense), TEST(test_special))
