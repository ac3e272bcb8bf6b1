/* Low rank of a matrix (SPEC.md section 3, paper eq. 7): from the squared
 * singular values s_1 >= ... >= s_m of X (rows are tokens, no centering),
 *   r_l(X) = s_l / sum_i s_i   and   R_tau(X) = min { l : r_1 + ... + r_l >= tau }.
 *
 * Two routes to the squared singular values, both in double precision:
 *  - dense: LAPACK dgesdd on the whole matrix (weights W_Q, W_K; tests);
 *  - streaming: the Gram matrix G = X^T X accumulated block by block of rows
 *    (BLAS dsyrk) and its eigenvalues (LAPACK dsyevd), which are exactly the
 *    s_i. Memory is d x d whatever the number of rows, so Q, K and H of a
 *    long prompt (or of many prompts, which simply stack as more rows) never
 *    need to be held. Gram sums of disjoint row sets merge by adding. */
#ifndef SS_ANALYSIS_LOWRANK_H
#define SS_ANALYSIS_LOWRANK_H

#include <stdint.h>

#include "common/error.h"

/* Squared singular values of the row-major [rows, cols] matrix x (row
 * stride ld >= cols), descending, min(rows, cols) of them, into sv2. */
ss_code ss_lowrank_sv2_dense(const double *x, int64_t rows, int cols, int64_t ld, double *sv2,
                             ss_error *err);

typedef struct {
    int d;
    int64_t rows;  /* rows accumulated so far */
    double *gram;  /* [d, d]; only the upper triangle (row-major: j >= i) is kept */
    double *buf;   /* [SS_GRAM_BLOCK, d] double staging for float input */
} ss_gram;

#define SS_GRAM_BLOCK 256

ss_code ss_gram_init(ss_gram *g, int d, ss_error *err);
void ss_gram_free(ss_gram *g);
/* Forgets every row (G = 0), keeping the memory. */
void ss_gram_reset(ss_gram *g);
/* Adds the rows of a float matrix x [n, d] whose row r starts at x + r * ld. */
void ss_gram_add_f32(ss_gram *g, const float *x, int64_t n, int64_t ld);
/* Adds the rows of a double matrix (same layout). */
void ss_gram_add_f64(ss_gram *g, const double *x, int64_t n, int64_t ld);
/* a += b (same d): the Gram matrix of the union of their rows. */
ss_code ss_gram_merge(ss_gram *a, const ss_gram *b, ss_error *err);
/* The d squared singular values of every row added so far, descending
 * (eigenvalues of G; the tiny negative ones rounding can give are set to 0). */
ss_code ss_gram_sv2(const ss_gram *g, double *sv2, ss_error *err);

/* r[0..m) = r_1..r_m from squared singular values sv2 (descending) and
 * returns R_tau (1-based, a whole number). A matrix with no energy (every
 * value 0, e.g. a zeroed head) has no spectrum: R_tau is undefined, NaN, so
 * that no average counts it as rank 0 (it is left out and counted as
 * undefined), and r is all NaN. The one place that rule is made: rank's
 * weights and activations and cone's W_Q / W_K all take it from here. The
 * cumulative test allows a relative 1e-12 of rounding so that tau = 1 on an
 * exactly rank-k matrix gives k rather than m. r may be NULL. */
double ss_lowrank_R(const double *sv2, int m, double tau, double *r);

#endif
