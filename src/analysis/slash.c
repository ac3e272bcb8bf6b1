#include "analysis/slash.h"

#include <math.h>

#include "analysis/tdist.h"

void ss_slash_add_rows(double *diag_sum, const float *p, int64_t ld, int row0, int nrows,
                       int skip)
{
    for (int r = 0; r < nrows; r++) {
        int i = row0 + r;
        const float *row = p + (int64_t)r * ld;
        /* keys j = skip..i contribute to offset d = i - j */
        for (int j = skip; j <= i; j++)
            diag_sum[i - j] += row[j];
    }
}

/* base[j] += p[j] for j in [lo, hi]: the scan's hot loop. Offset d = i - j
 * lives at n - 1 - d = (n - 1 - i) + j, so the key index and the
 * accumulator index advance together: a forward contiguous walk the
 * compiler turns into packed float->double adds. */
static void add_row(double *restrict base, const float *restrict p, int lo, int hi)
{
#pragma omp simd
    for (int j = lo; j <= hi; j++)
        base[j] += (double)p[j];
}

void ss_slash_add_rows_rev(double *rdiag, int n, const float *p, int64_t ld, int row0, int nrows,
                           int skip)
{
    for (int r = 0; r < nrows; r++) {
        int i = row0 + r;
        if (i >= skip)
            add_row(rdiag + (n - 1 - i), p + (int64_t)r * ld, skip, i);
    }
}

void ss_slash_reverse(double *a, int n)
{
    for (int x = 0, y = n - 1; x < y; x++, y--) {
        double t = a[x];
        a[x] = a[y];
        a[y] = t;
    }
}

int ss_slash_rows_at(int n, int d, int skip)
{
    int rows = n - d - skip;
    return rows > 0 ? rows : 0;
}

void ss_slash_finish_prompt(const double *diag_sum, int n, int skip, double *score_sum,
                            double *score_sumsq, int64_t *count)
{
    for (int d = 0; d < n; d++) {
        int rows = ss_slash_rows_at(n, d, skip);
        if (rows > 0) {
            double s = diag_sum[d] / rows;
            score_sum[d] += s;
            if (score_sumsq)
                score_sumsq[d] += s * s;
            if (count)
                count[d] += 1;
        }
    }
}

void ss_slash_average(const double *score_sum, const int64_t *count, int64_t n, double *out)
{
    for (int64_t d = 0; d < n; d++)
        out[d] = count[d] > 0 ? score_sum[d] / (double)count[d] : NAN;
}

void ss_slash_spread(const double *score_sum, const double *score_sumsq, const int64_t *count,
                     int64_t n, double *sd, double *half)
{
    /* the t quantile depends only on the count: most cells share one */
    int64_t t_for = -1;
    double t = NAN;
    for (int64_t i = 0; i < n; i++) {
        int64_t c = count[i];
        if (c < 2) {
            sd[i] = NAN;
            if (half)
                half[i] = NAN;
            continue;
        }
        double var = (score_sumsq[i] - score_sum[i] * score_sum[i] / (double)c) / (double)(c - 1);
        sd[i] = var > 0 ? sqrt(var) : 0;
        if (!half)
            continue;
        if (c != t_for) {
            t = ss_student_t_quantile(0.975, (double)(c - 1));
            t_for = c;
        }
        half[i] = t * sd[i] / sqrt((double)c);
    }
}
