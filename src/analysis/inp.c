#include "analysis/inp.h"

#include <math.h>
#include <stdlib.h>

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
            t->cs[((int64_t)d * F + f) * 2] = t->gain * cos(a);
            t->cs[((int64_t)d * F + f) * 2 + 1] = t->gain * sin(a);
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

/* The formula, in one place: InP of frequency f from its cos and sin. */
static inline double inp_term(const float *q, const float *k, int f, int F, double c, double s,
                              double scale)
{
    double qa = q[f], qb = q[f + F], ka = k[f], kb = k[f + F];
    return scale * ((qa * ka + qb * kb) * c + (qa * kb - qb * ka) * s);
}

/* sin is odd: a negative offset (j > i, only for pair queries) flips it. */
static inline void chunk_terms(const ss_inp_table *t, int delta, int f, double *c, double *s)
{
    int ad = delta < 0 ? -delta : delta;
    const double *p = t->cs + ((int64_t)ad * t->n_freq + f) * 2;
    *c = p[0];
    *s = delta < 0 ? -p[1] : p[1];
}

double ss_inp_pair(const ss_inp_table *t, const float *q, const float *k, int i, int j,
                   double scale, double *out)
{
    int F = t->n_freq;
    double logit = 0;
    for (int f = 0; f < F; f++) {
        double c, s;
        chunk_terms(t, i - j, f, &c, &s);
        double v = inp_term(q, k, f, F, c, s, scale);
        if (out)
            out[f] = v;
        logit += v;
    }
    return logit;
}

void ss_inp_row(const ss_inp_table *t, const float *q_i, const float *k, int64_t ldk, int i,
                double scale, double *out)
{
    for (int j = 0; j <= i; j++)
        ss_inp_pair(t, q_i, k + (int64_t)j * ldk, i, j, scale, out + (int64_t)j * t->n_freq);
}

int64_t ss_inp_row_abs_add(const ss_inp_table *t, const float *q_i, const float *k, int64_t ldk,
                           int i, int j0, double scale, double *abs_sum)
{
    int F = t->n_freq;
    if (j0 < 0)
        j0 = 0;
    for (int j = j0; j <= i; j++) {
        const float *kj = k + (int64_t)j * ldk;
        const double *cs = t->cs + (int64_t)(i - j) * F * 2;
        /* across frequencies: each sum still adds its keys in order (freq's hot loop) */
#pragma omp simd
        for (int f = 0; f < F; f++)
            abs_sum[f] += fabs(inp_term(q_i, kj, f, F, cs[2 * f], cs[2 * f + 1], scale));
    }
    return i >= j0 ? (int64_t)(i - j0 + 1) : 0;
}

void ss_chunk_norms_add(const float *x, int n_freq, double *acc)
{
    for (int f = 0; f < n_freq; f++) {
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

double ss_cs_ratio(const ss_inp_table *t, const float *q_i, const float *k_j, int i, int j,
                   double scale, double *logit, double *bound)
{
    int d = 2 * t->n_freq;
    double qn = 0, kn = 0;
    for (int x = 0; x < d; x++) {
        qn += (double)q_i[x] * q_i[x];
        kn += (double)k_j[x] * k_j[x];
    }
    double lg = ss_inp_pair(t, q_i, k_j, i, j, scale, NULL);
    double b = fabs(scale) * t->gain * sqrt(qn) * sqrt(kn);
    if (logit)
        *logit = lg;
    if (bound)
        *bound = b;
    return b > 0 ? lg / b : NAN;
}
