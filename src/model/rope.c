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

ss_code ss_rope_standard(ss_rope *r, int d_head, double base, const ss_rope_scaling *s,
                         ss_error *err)
{
    memset(r, 0, sizeof *r);
    if (d_head < 2 || d_head % 2 || d_head / 2 > SS_ROPE_MAX_FREQ)
        return ss_fail(err, SS_ERR_UNSUPPORTED, "head dimension %d: RoPE needs an even size up to %d",
                       d_head, 2 * SS_ROPE_MAX_FREQ);
    if (!(base > 1.0) || !isfinite(base))
        return ss_fail(err, SS_ERR_VALUE, "RoPE base %g must be a finite number above 1", base);
    r->n_freq = d_head / 2;
    r->base = base;
    for (int f = 0; f < r->n_freq; f++) {
        double theta = pow(base, -2.0 * f / d_head);
        if (s && s->type == SS_SCALE_LINEAR)
            theta /= s->factor;
        else if (s && s->type == SS_SCALE_LLAMA3)
            theta = llama3_theta(theta, s);
        r->theta[f] = theta;
        r->active[f] = 1;
    }
    if (s && (s->type == SS_SCALE_LINEAR || s->type == SS_SCALE_LLAMA3) && (!(s->factor > 0) || !isfinite(s->factor)))
        return ss_fail(err, SS_ERR_VALUE, "rope_scaling factor %g must be positive and finite",
                       s->factor);
    if (s && s->type == SS_SCALE_LLAMA3 &&
        (s->original_ctx <= 0 || !(s->high_freq_factor > s->low_freq_factor) ||
         !(s->low_freq_factor > 0)))
        return ss_fail(err, SS_ERR_VALUE,
                       "llama3 rope_scaling needs original_max_position_embeddings > 0 and "
                       "high_freq_factor > low_freq_factor > 0");
    return SS_OK;
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
