#include "theory/rmodel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

/* Prompts per chunk of the batched evaluation: fixed, so that the order of
 * every floating-point sum is independent of the thread count. */
#define CHUNK 16

ss_code ss_rmodel_init(ss_rmodel *m, int d_c, int d_x, const double *theta, ss_error *err)
{
    memset(m, 0, sizeof *m);
    if (d_c < 2 || d_c % 2 || d_c > 8192 || d_x < 2 || d_x % 2 || d_x > 4096)
        return ss_fail(err, SS_ERR_USAGE,
                       "model: d_c (%d) wants an even number in 2..8192 and d_x (%d) an even "
                       "number in 2..4096", d_c, d_x);
    m->d_c = d_c;
    m->d_x = d_x;
    m->d_s = d_x + 2;
    m->F_c = d_c / 2;
    m->F_s = m->d_s / 2;
    int F = m->F_c + m->F_s;
    m->theta = ss_calloc((size_t)F, sizeof(double), "frequencies", err);
    m->c = ss_calloc((size_t)d_c, sizeof(double), "cone axis", err);
    m->W1 = ss_calloc((size_t)d_c * d_c, sizeof(double), "W1", err);
    m->W2 = ss_calloc((size_t)m->d_s * m->d_s, sizeof(double), "W2", err);
    if (!m->theta || !m->c || !m->W1 || !m->W2) {
        ss_rmodel_free(m);
        return SS_ERR_NOMEM;
    }
    memcpy(m->theta, theta, sizeof(double) * (size_t)F);
    for (int a = 0; a < d_c; a++)
        m->c[a] = 1.0 / sqrt((double)d_c);
    for (int a = 0; a < m->d_s; a++)
        m->W2[a * m->d_s + a] = 1.0;
    return SS_OK;
}

void ss_rmodel_free(ss_rmodel *m)
{
    free(m->theta);
    free(m->c);
    free(m->W1);
    free(m->W2);
    memset(m, 0, sizeof *m);
}

void ss_rmodel_offset_logits(const ss_rmodel *m, int N, double *a)
{
    double g[8192];
    int d_c = m->d_c;
    for (int k = 0; k < d_c; k++) {
        double s = 0.0;
        for (int b = 0; b < d_c; b++)
            s += m->c[b] * m->W1[b * d_c + k];
        g[k] = s;
    }
    for (int delta = 0; delta < N; delta++) {
        double s = 0.0;
        for (int f = 0; f < m->F_c; f++) {
            double ang = delta * m->theta[f];
            s += g[2 * f] * cos(ang) - g[2 * f + 1] * sin(ang);
        }
        a[delta] = s;
    }
}

/* Row i is softmax_j (a(i - j)), j <= i. */
static void softmax_row(double *row, int i, const double *a)
{
    double mx = -INFINITY;
    for (int j = 0; j <= i; j++)
        if (a[i - j] > mx)
            mx = a[i - j];
    double z = 0.0;
    for (int j = 0; j <= i; j++)
        z += (row[j] = exp(a[i - j] - mx));
    for (int j = 0; j <= i; j++)
        row[j] /= z;
}

void ss_rmodel_layer1(const ss_rmodel *m, int N, double *S1)
{
    /* The last row holds a(delta) while the others are filled, so no
     * allocation is needed; it is then turned into its own softmax. */
    double *last = S1 + (size_t)(N - 1) * N;
    ss_rmodel_offset_logits(m, N, last);
    for (int i = 0; i < N - 1; i++) {
        double *row = S1 + (size_t)i * N;
        softmax_row(row, i, last);
        for (int j = i + 1; j < N; j++)
            row[j] = 0.0;
    }
    /* last[j] must become exp(a(N-1-j)) / Z: reverse a, then normalise. */
    for (int j = 0, k = N - 1; j < k; j++, k--) {
        double t = last[j];
        last[j] = last[k];
        last[k] = t;
    }
    double mx = -INFINITY, z = 0.0;
    for (int j = 0; j < N; j++)
        if (last[j] > mx)
            mx = last[j];
    for (int j = 0; j < N; j++)
        z += (last[j] = exp(last[j] - mx));
    for (int j = 0; j < N; j++)
        last[j] /= z;
}

/* cos/sin of M theta for the semantic frequencies, M = 0..N-1. */
static void rope_table(const ss_rmodel *m, int N, double *cs, double *sn)
{
    for (int M = 0; M < N; M++)
        for (int s = 0; s < m->F_s; s++) {
            double ang = M * m->theta[m->F_c + s];
            cs[M * m->F_s + s] = cos(ang);
            sn[M * m->F_s + s] = sin(ang);
        }
}

/* Per-thread work space for one prompt. */
typedef struct {
    double *K;  /* [N, d_s] keys before rotation: (S1 E^{x,y})_p */
    double *r;  /* [N, d_s] keys rotated into the question's frame */
    double *u;  /* [N] layer-2 logits, then S2 */
    double *dS; /* [N, N] gradient wrt S1 summed over the chunk */
    double *dq; /* [d_s] */
    double *dK; /* [d_s] */
    int *col;   /* [N] the non-zero column of each row of E^{x,y} ... */
    double *yv; /* [N] ... and the label value in column d_x + 1 */
} work;

/* One prompt: forward, and the backward pass into the chunk accumulators.
 * gscale = 1/B makes the sums the gradient of the mean loss. */
static void one_prompt(const ss_rmodel *m, const double *S1, int N, const double *cs,
                       const double *sn, const ss_icl_prompt *p, double gscale, int want1,
                       double *gW2, work *w, ss_rmodel_stats *acc)
{
    int ds = m->d_s, dx = m->d_x, Fs = m->F_s;
    const double *q = m->W2 + (size_t)p->q_feat * ds; /* E_q^{x,y} = e_{k_q} */

    /* Each row of E^{x,y} is e_col + yv e_{d_x+1}: col = feat and yv = 0
     * for inputs and the question, col = d_x and yv = y for labels. This
     * keeps the O(N^2) loops below free of branches. */
    for (int j = 0; j < N; j++) {
        int y = p->kind[j] == SS_TOK_Y;
        w->col[j] = y ? dx : p->feat[j];
        w->yv[j] = y ? p->val[j] : 0.0;
    }
    /* Keys: K_p = sum_{j <= p} S1[p][j] E^{x,y}_j. */
    for (int i = 0; i < N; i++) {
        double *K = w->K + (size_t)i * ds;
        memset(K, 0, sizeof(double) * (size_t)ds);
        const double *row = S1 + (size_t)i * N;
        double ky = 0.0;
        for (int j = 0; j <= i; j++) {
            K[w->col[j]] += row[j];
            ky += row[j] * w->yv[j];
        }
        K[dx + 1] += ky;
    }
    /* u_p = q . R_{p-(N-1)} K_p: rotate K_p back by M = N-1-p steps. */
    double mx = -INFINITY;
    for (int i = 0; i < N; i++) {
        int M = N - 1 - i;
        const double *K = w->K + (size_t)i * ds;
        double *r = w->r + (size_t)i * ds;
        double u = 0.0;
        for (int s = 0; s < Fs; s++) {
            double c = cs[M * Fs + s], sgn = sn[M * Fs + s];
            double a = K[2 * s], b = K[2 * s + 1];
            r[2 * s] = a * c + b * sgn;
            r[2 * s + 1] = -a * sgn + b * c;
            u += q[2 * s] * r[2 * s] + q[2 * s + 1] * r[2 * s + 1];
        }
        w->u[i] = u;
        if (u > mx)
            mx = u;
    }
    double z = 0.0;
    for (int i = 0; i < N; i++)
        z += (w->u[i] = exp(w->u[i] - mx));
    double yhat = 0.0, match = 0.0;
    for (int i = 0; i < N; i++) {
        w->u[i] /= z; /* now S2 */
        if (p->kind[i] == SS_TOK_Y) {
            yhat += w->u[i] * p->val[i];
            if (p->feat[i] == p->q_feat)
                match += w->u[i];
        }
    }
    double e = yhat - p->y_q;
    acc->loss += 0.5 * e * e;
    acc->mse += e * e;
    acc->sq_target += p->y_q * p->y_q;
    acc->s2_match += match;
    if (!gW2 && !want1)
        return;

    /* Backward: du_p = S2_p (E^y_p - yhat) dyhat. */
    double dy = e * gscale;
    memset(w->dq, 0, sizeof(double) * (size_t)ds);
    for (int i = 0; i < N; i++) {
        double ey = p->kind[i] == SS_TOK_Y ? p->val[i] : 0.0;
        double du = w->u[i] * (ey - yhat) * dy;
        if (du == 0.0)
            continue;
        const double *r = w->r + (size_t)i * ds;
        if (gW2)
            for (int k = 0; k < ds; k++)
                w->dq[k] += du * r[k];
        if (!want1)
            continue;
        /* dK_p = du R_{N-1-p} q; then dS1[p][j] = dK_p . E^{x,y}_j. */
        int M = N - 1 - i;
        double *dK = w->dK;
        for (int s = 0; s < Fs; s++) {
            double c = cs[M * Fs + s], sgn = sn[M * Fs + s];
            dK[2 * s] = du * (q[2 * s] * c - q[2 * s + 1] * sgn);
            dK[2 * s + 1] = du * (q[2 * s] * sgn + q[2 * s + 1] * c);
        }
        double *dS = w->dS + (size_t)i * N, dky = dK[dx + 1];
        for (int j = 0; j <= i; j++)
            dS[j] += dK[w->col[j]] + w->yv[j] * dky;
    }
    if (gW2) /* dW2 = E_q^T dq: only the question's feature row */
        for (int k = 0; k < ds; k++)
            gW2[(size_t)p->q_feat * ds + k] += w->dq[k];
}

/* The chunk's dS1 through the row softmax into offset gradients:
 * dA_ij = S1_ij (dS_ij - sum_l S1_il dS_il), da(delta) = sum_{i-j=delta}. */
static void softmax_back(const double *S1, const double *dS, int N, double *da)
{
    for (int i = 0; i < N; i++) {
        const double *s = S1 + (size_t)i * N, *d = dS + (size_t)i * N;
        double dot = 0.0;
        for (int j = 0; j <= i; j++)
            dot += s[j] * d[j];
        for (int j = 0; j <= i; j++)
            da[i - j] += s[j] * (d[j] - dot);
    }
}

ss_code ss_rmodel_eval(const ss_rmodel *m, const ss_icl_batch *b, double *gW1, double *gW2,
                       ss_rmodel_stats *st, ss_error *err)
{
    memset(st, 0, sizeof *st);
    int N = b->N, B = b->B, ds = m->d_s, dc = m->d_c;
    if (B < 1 || N < 2)
        return ss_fail(err, SS_ERR_USAGE, "model: empty batch or bad sizes (B=%d N=%d)", B, N);
    /* Every embedding index must exist in this model's d_x. */
    for (size_t k = 0; k < (size_t)B * N; k++)
        if (b->kind[k] != SS_TOK_Y && (b->feat[k] < 0 || b->feat[k] >= m->d_x))
            return ss_fail(err, SS_ERR_SHAPE,
                           "model: prompt %zu has feature %d at position %zu, the model has "
                           "d_x = %d", k / N, b->feat[k], k % N, m->d_x);
    int n_chunks = (B + CHUNK - 1) / CHUNK;
    int want1 = gW1 != NULL;
    size_t nn = (size_t)N * N;
    double *S1 = ss_calloc(nn, sizeof(double), "layer-1 attention", err);
    double *cs = ss_calloc((size_t)N * m->F_s, sizeof(double), "rope table", err);
    double *sn = ss_calloc((size_t)N * m->F_s, sizeof(double), "rope table", err);
    ss_rmodel_stats *cst = ss_calloc((size_t)n_chunks, sizeof *cst, "chunk sums", err);
    double *cda = want1 ? ss_calloc((size_t)n_chunks * N, sizeof(double), "chunk sums", err)
                        : NULL;
    double *cg2 = gW2 ? ss_calloc((size_t)n_chunks * ds * ds, sizeof(double), "chunk sums", err)
                      : NULL;
    ss_code rc = SS_OK;
    if (!S1 || !cs || !sn || !cst || (want1 && !cda) || (gW2 && !cg2)) {
        rc = SS_ERR_NOMEM;
        goto done;
    }
    ss_rmodel_layer1(m, N, S1);
    rope_table(m, N, cs, sn);

    int nomem = 0;
#pragma omp parallel reduction(| : nomem)
    {
        work w;
        w.K = malloc(sizeof(double) * (size_t)N * ds);
        w.r = malloc(sizeof(double) * (size_t)N * ds);
        w.u = malloc(sizeof(double) * (size_t)N);
        w.dq = malloc(sizeof(double) * (size_t)ds);
        w.dS = want1 ? malloc(sizeof(double) * nn) : NULL;
        w.dK = malloc(sizeof(double) * (size_t)ds);
        w.col = malloc(sizeof(int) * (size_t)N);
        w.yv = malloc(sizeof(double) * (size_t)N);
        int ok = w.K && w.r && w.u && w.dq && w.dK && w.col && w.yv && (!want1 || w.dS);
        if (!ok)
            nomem = 1;
#pragma omp for schedule(dynamic, 1)
        for (int ch = 0; ch < n_chunks; ch++) {
            if (!ok)
                continue;
            if (want1)
                memset(w.dS, 0, sizeof(double) * nn);
            int lo = ch * CHUNK, hi = lo + CHUNK < B ? lo + CHUNK : B;
            for (int i = lo; i < hi; i++)
                one_prompt(m, S1, N, cs, sn, &b->p[i], 1.0 / B, want1,
                           gW2 ? cg2 + (size_t)ch * ds * ds : NULL, &w, &cst[ch]);
            if (want1)
                softmax_back(S1, w.dS, N, cda + (size_t)ch * N);
        }
        free(w.K);
        free(w.r);
        free(w.u);
        free(w.dq);
        free(w.dS);
        free(w.dK);
        free(w.col);
        free(w.yv);
    }
    if (nomem) {
        rc = ss_fail(err, SS_ERR_NOMEM, "model: out of memory for the per-thread work space");
        goto done;
    }
    /* Reduce in chunk order. */
    for (int ch = 0; ch < n_chunks; ch++) {
        st->loss += cst[ch].loss;
        st->mse += cst[ch].mse;
        st->sq_target += cst[ch].sq_target;
        st->s2_match += cst[ch].s2_match;
    }
    st->loss /= B;
    st->mse /= B;
    st->sq_target /= B;
    st->s2_match /= B;
    if (gW2) {
        memset(gW2, 0, sizeof(double) * (size_t)ds * ds);
        for (int ch = 0; ch < n_chunks; ch++)
            for (int k = 0; k < ds * ds; k++)
                gW2[k] += cg2[(size_t)ch * ds * ds + k];
    }
    if (want1) {
        /* da -> dg (g = W1^T c) -> dW1 = c dg^T. */
        double *da = cda; /* chunk 0 accumulates the others, in order */
        for (int ch = 1; ch < n_chunks; ch++)
            for (int d = 0; d < N; d++)
                da[d] += cda[(size_t)ch * N + d];
        double dg[8192];
        for (int f = 0; f < m->F_c; f++) {
            double gc = 0.0, gs = 0.0;
            for (int d = 0; d < N; d++) {
                double ang = d * m->theta[f];
                gc += da[d] * cos(ang);
                gs -= da[d] * sin(ang);
            }
            dg[2 * f] = gc;
            dg[2 * f + 1] = gs;
        }
        for (int a = 0; a < dc; a++)
            for (int k = 0; k < dc; k++)
                gW1[(size_t)a * dc + k] = m->c[a] * dg[k];
    }
done:
    free(S1);
    free(cs);
    free(sn);
    free(cst);
    free(cda);
    free(cg2);
    return rc;
}

double ss_rmodel_predict(const ss_rmodel *m, const double *S1, int N, const ss_icl_prompt *p,
                         double *S2)
{
    int ds = m->d_s, dx = m->d_x;
    double *E = calloc((size_t)N * ds, sizeof(double));
    double *H = calloc((size_t)N * ds, sizeof(double));
    double *u = calloc((size_t)N, sizeof(double));
    double qv[8194], rq[8194], rk[8194];
    if (!E || !H || !u) {
        free(E);
        free(H);
        free(u);
        return NAN;
    }
    /* Dense semantic embeddings E^{x,y}. */
    for (int i = 0; i < N; i++) {
        if (p->kind[i] == SS_TOK_Y) {
            E[i * ds + dx] = 1.0;
            E[i * ds + dx + 1] = p->val[i];
        } else {
            E[i * ds + p->feat[i]] = 1.0;
        }
    }
    /* H = S1 E^{x,y}. */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            for (int k = 0; k < ds; k++)
                H[i * ds + k] += S1[i * N + j] * E[j * ds + k];
    /* q = E_q^{x,y} W2, rotated at position N-1; key p rotated at p. */
    for (int k = 0; k < ds; k++) {
        qv[k] = 0.0;
        for (int a = 0; a < ds; a++)
            qv[k] += E[(N - 1) * ds + a] * m->W2[a * ds + k];
    }
    for (int s = 0; s < m->F_s; s++) {
        double ang = (N - 1) * m->theta[m->F_c + s];
        rq[2 * s] = cos(ang) * qv[2 * s] - sin(ang) * qv[2 * s + 1];
        rq[2 * s + 1] = sin(ang) * qv[2 * s] + cos(ang) * qv[2 * s + 1];
    }
    double mx = -INFINITY;
    for (int i = 0; i < N; i++) {
        for (int s = 0; s < m->F_s; s++) {
            double ang = i * m->theta[m->F_c + s];
            rk[2 * s] = cos(ang) * H[i * ds + 2 * s] - sin(ang) * H[i * ds + 2 * s + 1];
            rk[2 * s + 1] = sin(ang) * H[i * ds + 2 * s] + cos(ang) * H[i * ds + 2 * s + 1];
        }
        u[i] = 0.0;
        for (int k = 0; k < ds; k++)
            u[i] += rq[k] * rk[k];
        if (u[i] > mx)
            mx = u[i];
    }
    double z = 0.0, yhat = 0.0;
    for (int i = 0; i < N; i++)
        z += exp(u[i] - mx);
    for (int i = 0; i < N; i++) {
        double s2 = exp(u[i] - mx) / z;
        if (S2)
            S2[i] = s2;
        yhat += s2 * E[i * ds + ds - 1]; /* E^y: the last column */
    }
    free(E);
    free(H);
    free(u);
    return yhat;
}
