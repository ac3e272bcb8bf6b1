#include "analysis/cone.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

ss_code ss_cone_svd(const double *wt, int m, int d, double *sigma, double *v, ss_error *err)
{
    if (m <= 0 || d <= 0 || m > d)
        return ss_fail(err, SS_ERR_USAGE, "cone: projection W^T is %dx%d; expected 0 < d_head "
                       "<= d_model", m, d);
    double *a = ss_calloc((size_t)m * (size_t)d, sizeof *a, "SVD input", err);
    double *u = ss_calloc((size_t)m * (size_t)m, sizeof *u, "SVD U", err);
    if (!a || !u) {
        free(a);
        free(u);
        return SS_ERR_NOMEM;
    }
    memcpy(a, wt, (size_t)m * (size_t)d * sizeof *a);
    /* W^T = U S V^T with V^T [m, d]: its rows are the v_l of W = V S U^T */
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', m, d, a, d, sigma, u, m, v, d);
    free(a);
    free(u);
    if (info != 0)
        return ss_fail(err, SS_ERR_VALUE, "cone: LAPACK dgesdd failed on a %dx%d projection "
                       "(info %d: %s)", m, d, (int)info,
                       info < 0 ? "bad argument" : "did not converge (NaN or Inf weight?)");
    return SS_OK;
}

void ss_cone_energies(const double *x, const double *sigma, const double *v, int m, int d,
                      double *e)
{
    for (int l = 0; l < m; l++) {
        double p = cblas_ddot(d, v + (int64_t)l * d, 1, x, 1) * sigma[l];
        e[l] = p * p;
    }
}

static int desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

int ss_cone_rtilde(double *e, int m, double tau, double *r1)
{
    qsort(e, (size_t)m, sizeof *e, desc);
    double total = 0;
    for (int l = 0; l < m; l++)
        total += e[l];
    if (!(total > 0)) {
        *r1 = NAN;
        return 0;
    }
    *r1 = e[0] / total;
    double cum = 0, target = tau * total * (1 - 1e-12);
    for (int l = 0; l < m; l++) {
        cum += e[l];
        if (cum >= target)
            return l + 1;
    }
    return m;
}

void ss_moments_add(ss_moments *m, double x)
{
    m->n++;
    m->sum += x;
    m->sumsq += x * x;
}

double ss_moments_mean(const ss_moments *m)
{
    return m->n > 0 ? m->sum / (double)m->n : NAN;
}

double ss_moments_std(const ss_moments *m)
{
    if (m->n <= 0)
        return NAN;
    double mean = m->sum / (double)m->n;
    double var = m->sumsq / (double)m->n - mean * mean;
    return var > 0 ? sqrt(var) : 0;
}

double ss_moments_rv(const ss_moments *m)
{
    double mean = ss_moments_mean(m);
    if (!(fabs(mean) > 0))
        return NAN;
    return ss_moments_std(m) / fabs(mean);
}

ss_code ss_cone_acc_init(ss_cone_acc *a, const double *sigma, const double *v, int m, int d,
                         double tau, ss_error *err)
{
    memset(a, 0, sizeof *a);
    a->m = m;
    a->d = d;
    a->tau = tau;
    a->sigma = sigma;
    a->v = v;
    a->energy_sum = ss_calloc((size_t)m, sizeof *a->energy_sum, "cone energies", err);
    a->proj = ss_calloc((size_t)m, sizeof *a->proj, "cone projections", err);
    a->scratch = ss_calloc((size_t)SS_CONE_BLOCK * (size_t)m, sizeof *a->scratch,
                           "cone scratch", err);
    a->e = ss_calloc((size_t)m, sizeof *a->e, "cone energies of a vector", err);
    if (!a->energy_sum || !a->proj || !a->scratch || !a->e) {
        ss_cone_acc_free(a);
        return SS_ERR_NOMEM;
    }
    return SS_OK;
}

void ss_cone_acc_free(ss_cone_acc *a)
{
    free(a->energy_sum);
    free(a->proj);
    free(a->scratch);
    free(a->e);
    memset(a, 0, sizeof *a);
}

void ss_cone_acc_add(ss_cone_acc *a, const double *x, int64_t n, int64_t ld)
{
    int m = a->m, d = a->d;
    double *e = a->e;
    for (int64_t r0 = 0; r0 < n; r0 += SS_CONE_BLOCK) {
        int nb = (int)(n - r0 < SS_CONE_BLOCK ? n - r0 : SS_CONE_BLOCK);
        /* P [nb, m] = X_block V^T: projections v_l^T x of the block */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, m, d, 1.0, x + r0 * ld,
                    (blasint)ld, a->v, d, 0.0, a->scratch, m);
        for (int r = 0; r < nb; r++) {
            const double *p = a->scratch + (int64_t)r * m;
            double norm2 = 0;
            for (int l = 0; l < m; l++) {
                double s = a->sigma[l] * p[l];
                e[l] = s * s;
                norm2 += e[l];
                a->energy_sum[l] += e[l];
                ss_moments_add(&a->proj[l], p[l]);
            }
            ss_moments_add(&a->norm, sqrt(norm2));
            double r1;
            int R = ss_cone_rtilde(e, m, a->tau, &r1);
            if (R > 0) { /* a vector with no energy at all has no spectrum */
                a->r1_sum += r1;
                a->R_sum += R;
                a->n++;
            }
        }
    }
}

void ss_cone_acc_result(const ss_cone_acc *a, ss_cone_result *out)
{
    out->r1_tilde = a->n > 0 ? a->r1_sum / (double)a->n : NAN;
    out->R_tilde = a->n > 0 ? a->R_sum / (double)a->n : NAN;
    int best = 0;
    double total = 0;
    for (int l = 0; l < a->m; l++) {
        total += a->energy_sum[l];
        if (a->energy_sum[l] > a->energy_sum[best])
            best = l;
    }
    /* no energy on any direction (W = 0): no direction dominates, and the RV
     * of an arbitrary one of the SVD's would look like a real value */
    int any = total > 0;
    out->dominant = any ? best : -1;
    out->dominant_share = any ? a->energy_sum[best] / total : NAN;
    out->rv_dominant = any ? ss_moments_rv(&a->proj[best]) : NAN;
    out->proj_norm_mean = ss_moments_mean(&a->norm);
}

void ss_cone_project_moments(const double *dir, const double *x, int64_t n, int64_t ld, int d,
                             ss_moments *mom)
{
    for (int64_t r = 0; r < n; r++)
        ss_moments_add(mom, cblas_ddot(d, dir, 1, x + r * ld, 1));
}
