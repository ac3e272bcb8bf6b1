#include "analysis/slash.h"

#include <math.h>

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

int ss_slash_rows_at(int n, int d, int skip)
{
    int rows = n - d - skip;
    return rows > 0 ? rows : 0;
}

void ss_slash_finish_prompt(const double *diag_sum, int n, int skip, double *score_sum,
                            int64_t *count)
{
    for (int d = 0; d < n; d++) {
        int rows = ss_slash_rows_at(n, d, skip);
        if (rows > 0) {
            score_sum[d] += diag_sum[d] / rows;
            count[d] += 1;
        }
    }
}

void ss_slash_average(const double *score_sum, const int64_t *count, int64_t n, double *out)
{
    for (int64_t d = 0; d < n; d++)
        out[d] = count[d] > 0 ? score_sum[d] / (double)count[d] : NAN;
}
