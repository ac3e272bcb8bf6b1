#include "theory/icl.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

ss_code ss_icl_check(const ss_icl_config *c, ss_error *err)
{
    /* The OOD evaluation runs 4x longer prompts, and every pass holds N x N
     * attention matrices: 2048 demonstrations there is N = 4097. */
    if (c->n_in < 1 || c->n_in > 2048)
        return ss_fail(err, SS_ERR_USAGE, "n_in: wants 1..2048 demonstrations, got %d", c->n_in);
    if (c->d_x < 2 || c->d_x % 2 || c->d_x > 4096)
        return ss_fail(err, SS_ERR_USAGE,
                       "d_x: wants an even feature dimension from 2 to 4096 (RoPE rotates "
                       "pairs), got %d", c->d_x);
    if (c->K < 1 || c->K > c->d_x)
        return ss_fail(err, SS_ERR_USAGE,
                       "features: wants 1..d_x = %d orthonormal features, got %d", c->d_x, c->K);
    if (c->delta < 1 || c->n_in % c->delta)
        return ss_fail(err, SS_ERR_USAGE,
                       "delta: wants an offset >= 1 that divides n_in = %d (pairs come in "
                       "blocks of delta), got %d", c->n_in, c->delta);
    return SS_OK;
}

int ss_icl_pos_x(const ss_icl_config *c, int i)
{
    return 2 * c->delta * (i / c->delta) + i % c->delta;
}

int ss_icl_pos_y(const ss_icl_config *c, int i) { return ss_icl_pos_x(c, i) + c->delta; }

ss_code ss_icl_batch_alloc(ss_icl_batch *b, int B, int N, ss_error *err)
{
    memset(b, 0, sizeof *b);
    size_t n = (size_t)B * (size_t)N;
    b->B = B;
    b->N = N;
    b->p = ss_calloc((size_t)B, sizeof *b->p, "prompt batch", err);
    b->kind = ss_calloc(n, sizeof *b->kind, "prompt batch", err);
    b->feat = ss_calloc(n, sizeof *b->feat, "prompt batch", err);
    b->val = ss_calloc(n, sizeof *b->val, "prompt batch", err);
    if (!b->p || !b->kind || !b->feat || !b->val) {
        ss_icl_batch_free(b);
        return SS_ERR_NOMEM;
    }
    for (int i = 0; i < B; i++) {
        b->p[i].kind = b->kind + (size_t)i * N;
        b->p[i].feat = b->feat + (size_t)i * N;
        b->p[i].val = b->val + (size_t)i * N;
    }
    return SS_OK;
}

void ss_icl_batch_free(ss_icl_batch *b)
{
    free(b->p);
    free(b->kind);
    free(b->feat);
    free(b->val);
    memset(b, 0, sizeof *b);
}

/* y = <w, v_k> = w_k for the standard-basis features, so only the K
 * coordinates of w that the features see are drawn (the rest never
 * influence a prompt). */
static void draw_task(const ss_icl_config *c, const ss_task *t, ss_rng *r, double *w)
{
    switch (t->kind) {
    case SS_TASK_ONEHOT: {
        int m = (int)ss_rng_below(r, (uint32_t)c->K);
        for (int k = 0; k < c->K; k++)
            w[k] = k == m ? 1.0 : 0.0;
        break;
    }
    case SS_TASK_SCALED:
        for (int k = 0; k < c->K; k++)
            w[k] = t->scale * ss_rng_normal(r);
        break;
    case SS_TASK_SHIFTED:
        for (int k = 0; k < c->K; k++)
            w[k] = t->shift + ss_rng_normal(r);
        break;
    case SS_TASK_GAUSS:
    default:
        for (int k = 0; k < c->K; k++)
            w[k] = ss_rng_normal(r);
        break;
    }
}

void ss_icl_sample(const ss_icl_config *c, const ss_task *t, uint64_t seed, uint64_t stream,
                   uint64_t index, ss_icl_prompt *p)
{
    ss_rng r;
    ss_rng_seed(&r, seed, stream, index);
    double w[4096];
    draw_task(c, t, &r, w);
    int N = ss_icl_len(c);
    for (int i = 0; i < c->n_in; i++) {
        int k = (int)ss_rng_below(&r, (uint32_t)c->K);
        int px = ss_icl_pos_x(c, i), py = ss_icl_pos_y(c, i);
        p->kind[px] = SS_TOK_X;
        p->feat[px] = (int16_t)k;
        p->val[px] = 0.0;
        p->kind[py] = SS_TOK_Y;
        p->feat[py] = (int16_t)k;
        p->val[py] = w[k];
    }
    int kq = (int)ss_rng_below(&r, (uint32_t)c->K);
    p->kind[N - 1] = SS_TOK_Q;
    p->feat[N - 1] = (int16_t)kq;
    p->val[N - 1] = 0.0;
    p->q_feat = kq;
    p->y_q = w[kq];
}

void ss_icl_fill(const ss_icl_config *c, const ss_task *t, uint64_t seed, uint64_t stream,
                 ss_icl_batch *b)
{
    /* Serial: drawing is a small fraction of a step, not worth a fork. */
    for (int i = 0; i < b->B; i++)
        ss_icl_sample(c, t, seed, stream, (uint64_t)i, &b->p[i]);
}
