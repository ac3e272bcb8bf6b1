/* Why queries and keys are nearly rank one (SPEC.md section 4, paper eq. 8
 * and section 4.3): how vectors x (layer-0 attention inputs, one per token)
 * spread their energy over the singular directions of a head's W_Q or W_K.
 *
 * A head's projection is stored as the checkpoint keeps it, W^T [m, d]
 * (m = d_head rows of length d), so that q - b = W^T x. With the SVD
 * W = sum_l sigma_l v_l u_l^T (v_l in R^d), the energy of x on direction l
 * is e_l = (sigma_l v_l^T x)^2, and sum_l e_l = ||W^T x||^2. */
#ifndef SS_ANALYSIS_CONE_H
#define SS_ANALYSIS_CONE_H

#include <stdint.h>

#include "common/error.h"

/* SVD of wt [m, d] (row-major, m <= d): sigma [m] descending and the
 * directions v [m, d] (row l is v_l, unit norm), via LAPACK dgesdd. */
ss_code ss_cone_svd(const double *wt, int m, int d, double *sigma, double *v, ss_error *err);

/* e[l] = (sigma_l v_l^T x)^2 for l = 0..m-1. */
void ss_cone_energies(const double *x, const double *sigma, const double *v, int m, int d,
                      double *e);

/* From energies e [m] (reordered in place, descending): returns R~_tau
 * (1-based; 0 when every energy is 0) and sets *r1 = r~_1 (NaN then). */
int ss_cone_rtilde(double *e, int m, double tau, double *r1);

/* Mean and spread of a scalar over a set (the projections v^T x of the
 * vocabulary for the relative variation RV = std / |mean|, population std;
 * or the norms ||q_i|| for Figure 14's std / mean). */
typedef struct {
    int64_t n;
    double sum, sumsq;
} ss_moments;

void ss_moments_add(ss_moments *m, double x);
double ss_moments_mean(const ss_moments *m);
double ss_moments_std(const ss_moments *m); /* population (ddof 0) */
/* std / |mean|: the relative variation (NaN when empty or mean is 0). */
double ss_moments_rv(const ss_moments *m);

/* Everything section 4.3 reports for one (head, W_Q or W_K) over a set of
 * vectors x, accumulated a block at a time. */
typedef struct {
    int m, d;
    double tau;
    const double *sigma, *v;   /* the SVD (borrowed) */
    int64_t n;                 /* vectors seen */
    double r1_sum, R_sum;      /* sums of r~_1 and R~_tau */
    double *energy_sum;        /* [m] sum over x of e_l: picks the dominant direction */
    ss_moments *proj;          /* [m] moments of v_l^T x: RV of each direction */
    ss_moments norm;           /* moments of ||W^T x|| (bias share, Table 12) */
    double *scratch;           /* [SS_CONE_BLOCK, m] projections of one block */
    double *e;                 /* [m] energies of one vector */
} ss_cone_acc;

#define SS_CONE_BLOCK 256

ss_code ss_cone_acc_init(ss_cone_acc *a, const double *sigma, const double *v, int m, int d,
                         double tau, ss_error *err);
void ss_cone_acc_free(ss_cone_acc *a);
/* Adds rows x [n, d] (row r at x + r * ld). */
void ss_cone_acc_add(ss_cone_acc *a, const double *x, int64_t n, int64_t ld);

typedef struct {
    double r1_tilde, R_tilde;  /* means over the vectors */
    int dominant;              /* 0-based index l* of the dominant direction;
                                  -1 (and NaN below) when W^T x = 0 for every x */
    double dominant_share;     /* its share of the summed energy */
    double rv_dominant;        /* RV(v_{l*}) */
    double proj_norm_mean;     /* mean ||W^T x|| */
} ss_cone_result;

void ss_cone_acc_result(const ss_cone_acc *a, ss_cone_result *out);

/* RV of a fixed direction dir [d] over rows x [n, d] (added to *mom). */
void ss_cone_project_moments(const double *dir, const double *x, int64_t n, int64_t ld, int d,
                             ss_moments *mom);

#endif
