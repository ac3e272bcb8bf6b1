#include "analysis/inp.h"

#include <math.h>
#include <stdlib.h>
#ifdef __AVX__
#include <immintrin.h>
#endif

#include "common/mem.h"

ss_code ss_inp_table_init(ss_inp_table *t, const ss_rope *rope, int n, ss_error *err)
{
    t->n = n;
    t->n_freq = rope->n_freq;
    t->cs = NULL;
    t->gain = rope->attn_factor > 0 ? rope->attn_factor * rope->attn_factor : 1.0;
    if (n <= 0 || rope->n_freq <= 0 || rope->n_freq > SS_ROPE_MAX_FREQ)
        return ss_fail(err, SS_ERR_USAGE, "InP: %d positions and %d frequencies; expected both "
                       "positive (at most %d frequencies)", n, rope->n_freq, SS_ROPE_MAX_FREQ);
    int F = rope->n_freq;
    t->cs = ss_calloc((size_t)n * (size_t)F * 2, sizeof *t->cs, "InP cos/sin table", err);
    if (!t->cs)
        return SS_ERR_NOMEM;
    for (int d = 0; d < n; d++)
        for (int f = 0; f < F; f++) {
            /* an inactive frequency is left unrotated: angle 0 at every offset */
            double a = rope->active[f] ? (double)d * rope->theta[f] : 0.0;
            t->cs[(int64_t)d * 2 * F + f] = t->gain * cos(a);
            t->cs[(int64_t)d * 2 * F + F + f] = t->gain * sin(a);
        }
    return SS_OK;
}

void ss_inp_table_free(ss_inp_table *t)
{
    free(t->cs);
    t->cs = NULL;
}

double ss_nope_logit(const float *q, const float *k, int from, int d_head, double scale)
{
    double dot = 0;
    for (int x = from; x < d_head; x++)
        dot += (double)q[x] * k[x];
    return scale * dot;
}

/* The formula, in one place: InP of frequency f from the query's chunk
 * (qa, qb) as doubles, the key's and the offset's cos and sin. Every
 * function below evaluates exactly these operations, in this order, so
 * that their values agree to the bit. */
static inline double inp_term(double qa, double qb, const float *k, int f, int F, double c,
                              double s, double scale)
{
    double ka = k[f], kb = k[f + F];
    return scale * ((qa * ka + qb * kb) * c + (qa * kb - qb * ka) * s);
}

/* A query row converted to double once, for every key it meets. */
typedef struct {
    double a[SS_ROPE_MAX_FREQ], b[SS_ROPE_MAX_FREQ];
} query_d;

static void query_load(const float *q, int F, query_d *out)
{
    for (int f = 0; f < F; f++) {
        out->a[f] = q[f];
        out->b[f] = q[f + F];
    }
}

/* The cos and sin rows of offset |delta| (table layout [n][2][F]). */
static inline const double *cos_row(const ss_inp_table *t, int delta)
{
    int ad = delta < 0 ? -delta : delta;
    return t->cs + (int64_t)ad * 2 * t->n_freq;
}

/* InP of every frequency for one pair into out [F] (vectorised across
 * frequencies), and the logit: their sum in frequency order. sin is odd: a
 * negative offset (j > i, only for pair queries) flips it. */
static double pair_terms(const ss_inp_table *t, const query_d *q, const float *k, int delta,
                         double scale, double *out)
{
    int F = t->n_freq;
    const double *c = cos_row(t, delta), *s = c + F;
    if (delta >= 0) {
#pragma omp simd
        for (int f = 0; f < F; f++)
            out[f] = inp_term(q->a[f], q->b[f], k, f, F, c[f], s[f], scale);
    } else {
#pragma omp simd
        for (int f = 0; f < F; f++)
            out[f] = inp_term(q->a[f], q->b[f], k, f, F, c[f], -s[f], scale);
    }
    double logit = 0;
    for (int f = 0; f < F; f++)
        logit += out[f];
    return logit;
}

double ss_inp_pair(const ss_inp_table *t, const float *q, const float *k, int i, int j,
                   double scale, double *out)
{
    query_d qd;
    double tmp[SS_ROPE_MAX_FREQ];
    query_load(q, t->n_freq, &qd);
    return pair_terms(t, &qd, k, i - j, scale, out ? out : tmp);
}

void ss_inp_row(const ss_inp_table *t, const float *q_i, const float *k, int64_t ldk, int i,
                double scale, double *out)
{
    query_d qd;
    query_load(q_i, t->n_freq, &qd);
    for (int j = 0; j <= i; j++)
        pair_terms(t, &qd, k + (int64_t)j * ldk, i - j, scale, out + (int64_t)j * t->n_freq);
}

int64_t ss_inp_row_abs_add(const ss_inp_table *t, const float *q_i, const float *k, int64_t ldk,
                           int i, int j0, double scale, double *abs_sum)
{
    int F = t->n_freq;
    if (j0 < 0)
        j0 = 0;
    query_d qd;
    query_load(q_i, F, &qd);
    for (int j = j0; j <= i; j++) {
        const float *kj = k + (int64_t)j * ldk;
        const double *c = cos_row(t, i - j), *s = c + F;
        /* across frequencies: each sum still adds its keys in order (freq's hot loop) */
#pragma omp simd
        for (int f = 0; f < F; f++)
            abs_sum[f] += fabs(inp_term(qd.a[f], qd.b[f], kj, f, F, c[f], s[f], scale));
    }
    return i >= j0 ? (int64_t)(i - j0 + 1) : 0;
}

void ss_chunk_norms_add(const float *x, int n_freq, double *acc)
{
    int f = 0;
#ifdef __AVX__
    /* four at a time: the compiler keeps sqrt scalar (errno); the vector
     * square root rounds exactly as sqrt does, so the sums are the same */
    for (; f + 4 <= n_freq; f += 4) {
        __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(x + f));
        __m256d b = _mm256_cvtps_pd(_mm_loadu_ps(x + f + n_freq));
        __m256d n = _mm256_sqrt_pd(_mm256_add_pd(_mm256_mul_pd(a, a), _mm256_mul_pd(b, b)));
        _mm256_storeu_pd(acc + f, _mm256_add_pd(_mm256_loadu_pd(acc + f), n));
    }
#endif
    for (; f < n_freq; f++) {
        double a = x[f], b = x[f + n_freq];
        acc[f] += sqrt(a * a + b * b);
    }
}

int ss_inp_active(const double *mean_abs, int n_freq, double frac, unsigned char *active)
{
    double mx = 0;
    for (int f = 0; f < n_freq; f++)
        if (mean_abs[f] > mx)
            mx = mean_abs[f];
    int count = 0;
    for (int f = 0; f < n_freq; f++) {
        active[f] = mx > 0 && mean_abs[f] > frac * mx;
        count += active[f];
    }
    return count;
}

double ss_inp_sqnorm(const float *x, int n_freq)
{
    double n = 0;
    for (int d = 0; d < 2 * n_freq; d++)
        n += (double)x[d] * x[d];
    return n;
}

/* The bound s ||q|| ||k|| from the two roots, in this order everywhere. */
static inline double cs_bound(const ss_inp_table *t, double scale, double q_root, double k_root)
{
    return fabs(scale) * t->gain * q_root * k_root;
}

double ss_cs_ratio(const ss_inp_table *t, const float *q_i, const float *k_j, int i, int j,
                   double scale, double *logit, double *bound)
{
    int F = t->n_freq;
    double lg = ss_inp_pair(t, q_i, k_j, i, j, scale, NULL);
    double b = cs_bound(t, scale, sqrt(ss_inp_sqnorm(q_i, F)), sqrt(ss_inp_sqnorm(k_j, F)));
    if (logit)
        *logit = lg;
    if (bound)
        *bound = b;
    return b > 0 ? lg / b : NAN;
}

int ss_cs_row(const ss_inp_table *t, const float *q_i, const float *k, int64_t ldk,
              const double *k_sqnorm, int i, int j0, int d0, int n_delta, double scale,
              double *ratio, double *logit, double *bound)
{
    int F = t->n_freq, nd = i - j0 - d0 + 1 < n_delta ? i - j0 - d0 + 1 : n_delta;
    if (nd <= 0)
        return 0;
    query_d qd;
    double tmp[SS_ROPE_MAX_FREQ];
    query_load(q_i, F, &qd);
    double q_root = sqrt(ss_inp_sqnorm(q_i, F));
    for (int x = 0; x < nd; x++) {
        int j = i - d0 - x;
        logit[x] = pair_terms(t, &qd, k + (int64_t)j * ldk, d0 + x, scale, tmp);
        bound[x] = cs_bound(t, scale, q_root, sqrt(k_sqnorm[j]));
        ratio[x] = bound[x] > 0 ? logit[x] / bound[x] : NAN;
    }
    return nd;
}
