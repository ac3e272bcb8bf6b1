/* The reduced two-layer disentangled transformer of section 5.3 with its
 * explicit predictor (appendix E, eq. 21), for the data of icl.h.
 *
 * Layer 1 (cone part, frequencies theta_1..theta_{F_c}): the logit from
 * position i to j <= i is A_{i,j} = c^T W1 R_{j-i} c~ with c~ = (1,0,1,0,..)
 * (the fixed key W_K^(1)T c). With g = W1^T c this is a function of the
 * offset delta = i - j alone:
 *   a(delta) = sum_s g_{2s} cos(delta theta_s) - g_{2s+1} sin(delta theta_s),
 * and S1 = causal softmax(A) is the same for every prompt.
 *
 * Layer 2 (semantic part, frequencies theta_{F_c+1..F}): the question at
 * position N-1 queries with q = E_q^{x,y} W2, each position p keys with
 * (S1 E^{x,y})_p, both rotated by RoPE at their positions:
 *   u_p = (R_{N-1} q) . (R_p (S1 E^{x,y})_p),   S2 = softmax(u) over all N,
 *   yhat = sum_p S2_p E^y_p,   loss = 1/2 (yhat - <w, x_q>)^2   (eq. 15),
 * averaged over the prompts of a batch. Trainable: W1 (d_c x d_c) and W2
 * (d_s x d_s, d_s = d_x + 2). RoPE pairs are (2s, 2s+1) in each block. */
#ifndef SS_THEORY_RMODEL_H
#define SS_THEORY_RMODEL_H

#include "common/error.h"
#include "theory/icl.h"

typedef struct {
    int d_c, d_x, d_s, F_c, F_s;
    double *theta; /* F_c + F_s frequencies: cone first, then semantic */
    double *c;     /* d_c, the cone axis, unit norm */
    double *W1;    /* d_c x d_c, row-major */
    double *W2;    /* d_s x d_s, row-major */
} ss_rmodel;

/* Algorithm 1's initial point: W1 = 0, W2 = I; c = (1, ..., 1)/sqrt(d_c)
 * (any unit c gives the same dynamics: the gradient of W1 is c g^T, so
 * only g = W1^T c moves). d_c and d_x even; theta has d_c/2 + d_x/2 + 1. */
ss_code ss_rmodel_init(ss_rmodel *m, int d_c, int d_x, const double *theta, ss_error *err);
void ss_rmodel_free(ss_rmodel *m);

/* a(delta) for delta = 0..N-1. */
void ss_rmodel_offset_logits(const ss_rmodel *m, int N, double *a);
/* Layer-1 attention [N, N] row-major, zero above the diagonal. */
void ss_rmodel_layer1(const ss_rmodel *m, int N, double *S1);

typedef struct {
    double loss;      /* mean of 1/2 (yhat - y_q)^2 */
    double mse;       /* mean of (yhat - y_q)^2 */
    double sq_target; /* mean of y_q^2: the error of always answering 0 */
    double s2_match;  /* mean layer-2 attention on the labels whose input has
                         the question's feature (eq. 16) */
} ss_rmodel_stats;

/* Loss and statistics over a batch whose prompts have length b->N and
 * features < d_x. When gW1 (d_c x d_c) / gW2 (d_s x d_s) are non-NULL they
 * receive the exact gradient of the mean loss. Work is split into fixed
 * chunks of prompts reduced in chunk order, so the numbers do not depend on
 * the thread count. */
ss_code ss_rmodel_eval(const ss_rmodel *m, const ss_icl_batch *b, double *gW1, double *gW2,
                       ss_rmodel_stats *st, ss_error *err);

/* The prediction for one prompt of length N given S1 (from
 * ss_rmodel_layer1); S2 (length N) receives layer 2's attention if
 * non-NULL. A direct transcription of eq. (21) with dense embeddings and
 * RoPE at absolute positions, kept separate from the batched path so tests
 * can compare the two. Returns NaN if its scratch cannot be allocated. */
double ss_rmodel_predict(const ss_rmodel *m, const double *S1, int N, const ss_icl_prompt *p,
                         double *S2);

#endif
