#include "analysis/lowrank.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

ss_code ss_lowrank_sv2_dense(const double *x, int64_t rows, int cols, int64_t ld, double *sv2,
                             ss_error *err)
{
    if (rows <= 0 || cols <= 0 || ld < cols)
        return ss_fail(err, SS_ERR_USAGE, "low rank: matrix %lldx%d (stride %lld) is empty or "
                       "malformed", (long long)rows, cols, (long long)ld);
    uint64_t cnt;
    if (!ss_mul_u64((uint64_t)rows, (uint64_t)cols, &cnt))
        return ss_fail(err, SS_ERR_VALUE, "low rank: matrix %lldx%d is too large",
                       (long long)rows, cols);
    /* dgesdd overwrites its input: work on a packed copy */
    double *a = ss_calloc((size_t)cnt, sizeof *a, "SVD input", err);
    int64_t m = rows < cols ? rows : cols;
    double *s = ss_calloc((size_t)m, sizeof *s, "singular values", err);
    if (!a || !s) {
        free(a);
        free(s);
        return SS_ERR_NOMEM;
    }
    for (int64_t r = 0; r < rows; r++)
        memcpy(a + r * cols, x + r * ld, (size_t)cols * sizeof *a);
    /* U and V^T are not referenced with jobz 'N', but row-major LAPACKE still
     * checks their leading dimensions against the shape */
    double dummy = 0;
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', (lapack_int)rows, cols, a, cols, s,
                                     &dummy, (lapack_int)rows, &dummy, cols);
    free(a);
    if (info != 0) {
        free(s);
        return ss_fail(err, SS_ERR_VALUE, "low rank: LAPACK dgesdd failed on a %lldx%d matrix "
                       "(info %d: %s)", (long long)rows, cols, (int)info,
                       info < 0 ? "bad argument" : "did not converge (NaN or Inf input?)");
    }
    for (int64_t i = 0; i < m; i++)
        sv2[i] = s[i] * s[i];
    free(s);
    return SS_OK;
}

ss_code ss_gram_init(ss_gram *g, int d, ss_error *err)
{
    memset(g, 0, sizeof *g);
    if (d <= 0)
        return ss_fail(err, SS_ERR_USAGE, "Gram matrix: dimension %d must be positive", d);
    g->d = d;
    g->gram = ss_calloc((size_t)d * (size_t)d, sizeof *g->gram, "Gram matrix", err);
    g->buf = ss_calloc((size_t)SS_GRAM_BLOCK * (size_t)d, sizeof *g->buf, "Gram staging", err);
    if (!g->gram || !g->buf) {
        ss_gram_free(g);
        return SS_ERR_NOMEM;
    }
    return SS_OK;
}

void ss_gram_free(ss_gram *g)
{
    free(g->gram);
    free(g->buf);
    memset(g, 0, sizeof *g);
}

void ss_gram_reset(ss_gram *g)
{
    memset(g->gram, 0, (size_t)g->d * (size_t)g->d * sizeof *g->gram);
    g->rows = 0;
}

void ss_gram_add_f64(ss_gram *g, const double *x, int64_t n, int64_t ld)
{
    if (n <= 0)
        return;
    /* G += X^T X, upper triangle of the row-major G */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, g->d, (blasint)n, 1.0, x, (blasint)ld,
                1.0, g->gram, g->d);
    g->rows += n;
}

void ss_gram_add_f32(ss_gram *g, const float *x, int64_t n, int64_t ld)
{
    int d = g->d;
    for (int64_t r0 = 0; r0 < n; r0 += SS_GRAM_BLOCK) {
        int64_t nb = n - r0 < SS_GRAM_BLOCK ? n - r0 : SS_GRAM_BLOCK;
        for (int64_t r = 0; r < nb; r++) {
            const float *src = x + (r0 + r) * ld;
            double *dst = g->buf + r * d;
            for (int c = 0; c < d; c++)
                dst[c] = src[c];
        }
        ss_gram_add_f64(g, g->buf, nb, d);
    }
}

ss_code ss_gram_merge(ss_gram *a, const ss_gram *b, ss_error *err)
{
    if (a->d != b->d)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "Gram merge: dimensions %d and %d differ", a->d,
                       b->d);
    for (int64_t i = 0; i < (int64_t)a->d * a->d; i++)
        a->gram[i] += b->gram[i];
    a->rows += b->rows;
    return SS_OK;
}

ss_code ss_gram_sv2(const ss_gram *g, double *sv2, ss_error *err)
{
    int d = g->d;
    double *a = ss_calloc((size_t)d * (size_t)d, sizeof *a, "Gram eigenproblem", err);
    if (!a)
        return SS_ERR_NOMEM;
    memcpy(a, g->gram, (size_t)d * (size_t)d * sizeof *a);
    /* eigenvalues only, ascending, reading the upper triangle */
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', d, a, d, sv2);
    free(a);
    if (info != 0)
        return ss_fail(err, SS_ERR_VALUE, "low rank: LAPACK dsyevd failed on a %dx%d Gram matrix "
                       "(info %d: %s)", d, d, (int)info,
                       info < 0 ? "bad argument" : "did not converge (NaN or Inf input?)");
    for (int i = 0; i < d / 2; i++) {
        double t = sv2[i];
        sv2[i] = sv2[d - 1 - i];
        sv2[d - 1 - i] = t;
    }
    for (int i = 0; i < d; i++)
        if (sv2[i] < 0)
            sv2[i] = 0;
    return SS_OK;
}

double ss_lowrank_R(const double *sv2, int m, double tau, double *r)
{
    double total = 0;
    for (int i = 0; i < m; i++)
        total += sv2[i];
    if (!(total > 0)) {
        if (r)
            for (int i = 0; i < m; i++)
                r[i] = NAN;
        return NAN;
    }
    if (r)
        for (int i = 0; i < m; i++)
            r[i] = sv2[i] / total;
    double cum = 0, target = tau * total * (1 - 1e-12);
    for (int i = 0; i < m; i++) {
        cum += sv2[i];
        if (cum >= target)
            return i + 1;
    }
    return m;
}
