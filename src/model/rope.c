#include "model/rope.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

/* Hugging Face `_compute_llama3_parameters`: long wavelengths are divided by
 * `factor`, short ones kept, and the band between interpolated smoothly. */
static double llama3_theta(double theta, const ss_rope_scaling *s)
{
    double low_wavelen = s->original_ctx / s->low_freq_factor;
    double high_wavelen = s->original_ctx / s->high_freq_factor;
    double wavelen = 2.0 * M_PI / theta;
    if (wavelen < high_wavelen)
        return theta;
    if (wavelen > low_wavelen)
        return theta / s->factor;
    double smooth = (s->original_ctx / wavelen - s->low_freq_factor) /
                    (s->high_freq_factor - s->low_freq_factor);
    return (1.0 - smooth) * theta / s->factor + smooth * theta;
}

/* Hugging Face `_compute_yarn_parameters`: pair f keeps its frequency
 * above the correction range (fast rotations), is divided by `factor` below
 * it, with a linear ramp over [lo, hi] in pair index. */
static void yarn_thetas(ss_rope *r, int dim, double base, const ss_rope_scaling *s)
{
    double fast = s->beta_fast > 0 ? s->beta_fast : 32.0, slow = s->beta_slow > 0 ? s->beta_slow : 1.0;
    double lo = floor(dim * log(s->original_ctx / (fast * 2.0 * M_PI)) / (2.0 * log(base)));
    double hi = ceil(dim * log(s->original_ctx / (slow * 2.0 * M_PI)) / (2.0 * log(base)));
    lo = lo > 0 ? lo : 0;
    hi = hi < dim - 1 ? hi : dim - 1;
    if (hi == lo)
        hi += 0.001; /* HF's guard against a zero-width ramp */
    for (int f = 0; f < r->n_freq; f++) {
        double g = (f - lo) / (hi - lo);
        g = g < 0 ? 0 : g > 1 ? 1 : g;
        r->theta[f] = r->theta[f] * (1.0 - g) + r->theta[f] / s->factor * g;
    }
}

static double yarn_mscale(double scale, double m)
{
    return scale <= 1.0 ? 1.0 : 0.1 * m * log(scale) + 1.0;
}

/* The cos/sin factor of yarn and longrope when the config gives none. */
static double default_attn_factor(const ss_rope_scaling *s)
{
    if (s->attn_factor > 0)
        return s->attn_factor;
    if (s->type == SS_SCALE_YARN)
        return s->mscale > 0 && s->mscale_all_dim > 0
                   ? yarn_mscale(s->factor, s->mscale) / yarn_mscale(s->factor, s->mscale_all_dim)
                   : yarn_mscale(s->factor, 1.0);
    if (s->type == SS_SCALE_LONGROPE) {
        double f = (double)s->max_ctx / s->original_ctx;
        return f <= 1.0 ? 1.0 : sqrt(1.0 + log(f) / log((double)s->original_ctx));
    }
    return 1.0;
}

static ss_code check_scaling(const ss_rope_scaling *s, int n_freq, ss_error *err)
{
    if (!s || s->type == SS_SCALE_NONE || s->type == SS_SCALE_FREQ_FACTORS)
        return SS_OK;
    if (s->type != SS_SCALE_LONGROPE && !(s->factor > 0 && isfinite(s->factor)))
        return ss_fail(err, SS_ERR_VALUE, "rope_scaling factor %g must be positive and finite",
                       s->factor);
    if (s->type == SS_SCALE_LLAMA3 &&
        (s->original_ctx <= 0 || !(s->high_freq_factor > s->low_freq_factor) ||
         !(s->low_freq_factor > 0)))
        return ss_fail(err, SS_ERR_VALUE,
                       "llama3 rope_scaling needs original_max_position_embeddings > 0 and "
                       "high_freq_factor > low_freq_factor > 0");
    if ((s->type == SS_SCALE_YARN || s->type == SS_SCALE_LONGROPE) && s->original_ctx <= 1)
        return ss_fail(err, SS_ERR_VALUE,
                       "%s rope_scaling needs original_max_position_embeddings above 1 (got %d)",
                       s->type == SS_SCALE_YARN ? "yarn" : "longrope", s->original_ctx);
    if ((s->type == SS_SCALE_DYNAMIC || s->type == SS_SCALE_LONGROPE) && s->max_ctx <= 0)
        return ss_fail(err, SS_ERR_VALUE, "rope_scaling needs max_position_embeddings > 0");
    if (s->type == SS_SCALE_DYNAMIC && n_freq < 2)
        return ss_fail(err, SS_ERR_VALUE, "dynamic rope_scaling needs a rotary dimension above 2");
    if (s->type == SS_SCALE_LONGROPE) {
        if (s->n_factors != n_freq)
            return ss_fail(err, SS_ERR_VALUE,
                           "longrope rope_scaling has %d short/long factors, the rotary "
                           "dimension needs %d", s->n_factors, n_freq);
        for (int f = 0; f < n_freq; f++)
            if (!(s->short_factor[f] > 0) || !(s->long_factor[f] > 0) ||
                !isfinite(s->short_factor[f]) || !isfinite(s->long_factor[f]))
                return ss_fail(err, SS_ERR_VALUE,
                               "longrope factor %d (short %g, long %g) must be positive", f,
                               s->short_factor[f], s->long_factor[f]);
    }
    return SS_OK;
}

ss_code ss_rope_standard(ss_rope *r, int rotary_dim, double base, const ss_rope_scaling *s,
                         ss_error *err)
{
    memset(r, 0, sizeof *r);
    r->attn_factor = 1.0;
    if (rotary_dim < 2 || rotary_dim % 2 || rotary_dim / 2 > SS_ROPE_MAX_FREQ)
        return ss_fail(err, SS_ERR_UNSUPPORTED, "rotary dimension %d: RoPE needs an even size up to %d",
                       rotary_dim, 2 * SS_ROPE_MAX_FREQ);
    if (!(base > 1.0) || !isfinite(base))
        return ss_fail(err, SS_ERR_VALUE, "RoPE base %g must be a finite number above 1", base);
    r->n_freq = rotary_dim / 2;
    r->base = base;
    ss_code rc = check_scaling(s, r->n_freq, err);
    if (rc)
        return rc;
    if (s)
        r->scaling = *s;
    for (int f = 0; f < r->n_freq; f++) {
        double theta = pow(base, -2.0 * f / rotary_dim);
        if (s && s->type == SS_SCALE_LINEAR)
            theta /= s->factor;
        else if (s && s->type == SS_SCALE_LLAMA3)
            theta = llama3_theta(theta, s);
        else if (s && s->type == SS_SCALE_LONGROPE)
            theta /= s->short_factor[f];
        r->theta[f] = theta;
        r->active[f] = 1;
    }
    if (s && s->type == SS_SCALE_YARN)
        yarn_thetas(r, rotary_dim, base, s);
    if (s && (s->type == SS_SCALE_YARN || s->type == SS_SCALE_LONGROPE))
        r->attn_factor = default_attn_factor(s);
    return SS_OK;
}

void ss_rope_at_length(const ss_rope *r, int n, ss_rope *out)
{
    *out = *r;
    const ss_rope_scaling *s = &r->scaling;
    int dim = 2 * r->n_freq;
    if (s->type == SS_SCALE_LONGROPE && n > s->original_ctx) {
        for (int f = 0; f < r->n_freq; f++)
            out->theta[f] = pow(r->base, -2.0 * f / dim) / s->long_factor[f];
    } else if (s->type == SS_SCALE_DYNAMIC && n > s->max_ctx) {
        /* HF `_compute_dynamic_ntk_parameters` with seq_len = n */
        double base = r->base * pow(s->factor * n / s->max_ctx - (s->factor - 1.0),
                                    (double)dim / (dim - 2));
        for (int f = 0; f < r->n_freq; f++)
            out->theta[f] = pow(base, -2.0 * f / dim);
    }
}

void ss_rope_apply_freq_factors(ss_rope *r, const float *factors)
{
    for (int f = 0; f < r->n_freq; f++)
        r->theta[f] /= (double)factors[f];
}

ss_code ss_rope_remove(ss_rope *r, const int *l, int n, ss_error *err)
{
    for (int i = 0; i < n; i++) {
        if (l[i] < 1 || l[i] > r->n_freq)
            return ss_fail(err, SS_ERR_USAGE, "frequency index %d is outside 1..%d", l[i],
                           r->n_freq);
        r->active[l[i] - 1] = 0;
    }
    return SS_OK;
}

ss_code ss_rope_keep_fraction(ss_rope *r, double p, ss_error *err)
{
    if (!(p >= 0.0 && p <= 1.0))
        return ss_fail(err, SS_ERR_USAGE, "p-RoPE: the kept fraction p must be from 0 to 1, got %g", p);
    int keep = (int)(p * r->n_freq);
    for (int f = 0; f < r->n_freq; f++)
        r->active[f] = f < keep;
    return SS_OK;
}

ss_code ss_rope_parse_list(const char *s, int n_freq, int **out, int *n, ss_error *err)
{
    *out = NULL;
    *n = 0;
    int cap = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long a = strtol(p, &end, 10);
        if (end == p || errno)
            goto bad;
        long b = a;
        if (*end == '-') {
            p = end + 1;
            b = strtol(p, &end, 10);
            if (end == p || errno)
                goto bad;
        }
        if (a < 1 || b > n_freq || b < a) {
            free(*out);
            *out = NULL;
            *n = 0;
            return ss_fail(err, SS_ERR_USAGE,
                           "frequency range %ld-%ld is outside 1..%d (frequencies are 1-based, "
                           "1 = highest)", a, b, n_freq);
        }
        for (long v = a; v <= b; v++) {
            if (*n == cap) {
                cap = cap ? 2 * cap : 16;
                int *grown = ss_realloc_array(*out, (size_t)cap, sizeof(int), "frequency list", err);
                if (!grown) {
                    free(*out);
                    *out = NULL;
                    return SS_ERR_NOMEM;
                }
                *out = grown;
            }
            (*out)[(*n)++] = (int)v;
        }
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            goto bad;
    }
    return SS_OK;
bad:
    free(*out);
    *out = NULL;
    *n = 0;
    return ss_fail(err, SS_ERR_USAGE, "cannot read the frequency list '%s' (want e.g. 1,5,9-12)", s);
}
