#include "theory/freqs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "io/atomic_file.h"

ss_freqs_kind ss_freqs_parse_kind(const char *s)
{
    if (strcmp(s, "high") == 0)
        return SS_FREQS_HIGH;
    if (strcmp(s, "low") == 0)
        return SS_FREQS_LOW;
    if (strcmp(s, "standard") == 0)
        return SS_FREQS_STANDARD;
    return SS_FREQS_FILE;
}

const char *ss_freqs_kind_name(ss_freqs_kind k)
{
    switch (k) {
    case SS_FREQS_HIGH: return "high";
    case SS_FREQS_LOW: return "low";
    case SS_FREQS_STANDARD: return "standard";
    default: return "file";
    }
}

/* n values from a down to b, geometrically (a alone when n == 1). */
static void geometric(double *out, int n, double a, double b)
{
    for (int i = 0; i < n; i++)
        out[i] = n == 1 ? a : a * pow(b / a, (double)i / (n - 1));
}

/* Semantic frequencies at most N^-2: the standard schedule's relative shape
 * over the semantic block, starting at N^-2. */
static void semantic_small(double *out, int F_s, int N)
{
    double top = 1.0 / ((double)N * N);
    for (int s = 0; s < F_s; s++)
        out[s] = top * pow(10000.0, -(double)s / F_s);
}

static ss_code read_file(const char *path, int F_c, int F_s, int N, double *theta,
                         ss_error *err)
{
    char *text;
    size_t len;
    ss_code rc = ss_read_file(path, 1 << 20, &text, &len, err);
    if (rc)
        return rc;
    int F = F_c + F_s, n = 0, line = 0;
    double vals[8192];
    char *save = NULL;
    for (char *ln = strtok_r(text, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        line++;
        char *hash = strchr(ln, '#');
        if (hash)
            *hash = '\0';
        char *p = ln;
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (!*p)
            continue;
        char *end;
        double v = strtod(p, &end);
        while (*end == ' ' || *end == '\t' || *end == '\r')
            end++;
        if (end == p || *end || !isfinite(v) || v < 0) {
            ss_fail(err, SS_ERR_FORMAT,
                    "%s: line %d: wants one non-negative frequency (radians per token), got "
                    "'%.40s'", path, line, p);
            free(text); /* p points into text */
            return SS_ERR_FORMAT;
        }
        if (n >= F) {
            free(text);
            return ss_fail(err, SS_ERR_SHAPE,
                           "%s: more than F = %d frequencies (the model has d/2 = %d)", path, F,
                           F);
        }
        vals[n++] = v;
    }
    free(text);
    if (n == F) {
        memcpy(theta, vals, sizeof(double) * (size_t)F);
        return SS_OK;
    }
    if (n == F_c) {
        memcpy(theta, vals, sizeof(double) * (size_t)F_c);
        semantic_small(theta + F_c, F_s, N);
        return SS_OK;
    }
    return ss_fail(err, SS_ERR_SHAPE,
                   "%s: wants %d frequencies (all d/2) or %d (the cone's d_c/2), found %d", path,
                   F, F_c, n);
}

ss_code ss_freqs_build(ss_freqs_kind kind, const char *path, double base, int F_c, int F_s,
                       int N, double *theta, ss_error *err)
{
    int F = F_c + F_s;
    if (F_c < 1 || F_s < 1 || F > 8192 || N < 2)
        return ss_fail(err, SS_ERR_USAGE, "frequencies: bad sizes F_c=%d F_s=%d N=%d", F_c, F_s,
                       N);
    switch (kind) {
    case SS_FREQS_HIGH:
        geometric(theta, F_c, SS_FREQS_HIGH_TOP, SS_FREQS_HIGH_BOTTOM);
        semantic_small(theta + F_c, F_s, N);
        return SS_OK;
    case SS_FREQS_LOW:
        geometric(theta, F_c, 0.5 / N, 1.0 / ((double)N * N));
        semantic_small(theta + F_c, F_s, N); /* as in high: only the cone differs */
        return SS_OK;
    case SS_FREQS_STANDARD:
        if (!(base > 1.0) || !isfinite(base))
            return ss_fail(err, SS_ERR_USAGE, "base: wants a RoPE base > 1, got %g", base);
        for (int l = 0; l < F; l++)
            theta[l] = pow(base, -2.0 * l / (2.0 * F));
        return SS_OK;
    case SS_FREQS_FILE:
    default:
        return read_file(path, F_c, F_s, N, theta, err);
    }
}

void ss_freqs_prope(double *theta, int F, double p)
{
    int keep = (int)(p * F + 1e-9);
    if (keep >= F || F > 8192)
        return;
    /* Rank each frequency against the original values: the number of
     * strictly larger ones plus the equal ones with a lower index. */
    double orig[8192];
    memcpy(orig, theta, sizeof(double) * (size_t)F);
    for (int l = 0; l < F; l++) {
        int rank = 0;
        for (int m = 0; m < F; m++)
            if (orig[m] > orig[l] || (orig[m] == orig[l] && m < l))
                rank++;
        if (rank >= keep)
            theta[l] = 0.0;
    }
}
