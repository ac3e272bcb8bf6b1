#include "theory/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/progress.h"

void ss_train_defaults(ss_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->icl.n_in = 32;
    c->icl.K = 8;
    c->icl.d_x = 8;
    c->icl.delta = 1;
    c->d_c = 16;
    c->eta1 = SS_TRAIN_ETA1;
    c->eta2 = SS_TRAIN_ETA2;
    c->tau1 = SS_TRAIN_TAU1;
    c->tau2 = SS_TRAIN_TAU2;
    c->batch = SS_TRAIN_BATCH;
    c->seed = 1;
    c->kappa = SS_TRAIN_KAPPA;
    c->label = "theory";
}

void ss_train_slash_stats(const double *S1, int N, int delta, double *mean, double *min)
{
    double s = 0.0, mn = INFINITY;
    int n = 0;
    for (int i = delta; i < N; i++) {
        double v = S1[(size_t)i * N + i - delta];
        s += v;
        if (v < mn)
            mn = v;
        n++;
    }
    *mean = n ? s / n : NAN;
    *min = n ? mn : NAN;
}

void ss_train_result_free(ss_train_result *r)
{
    ss_rmodel_free(&r->model);
    free(r->rows);
    free(r->S1);
    memset(r, 0, sizeof *r);
}

static ss_code check_config(const ss_train_config *c, ss_error *err)
{
    ss_code rc = ss_icl_check(&c->icl, err);
    if (rc)
        return rc;
    if (c->d_c < 2 || c->d_c % 2)
        return ss_fail(err, SS_ERR_USAGE, "dc: wants an even cone dimension >= 2, got %d",
                       c->d_c);
    if (c->tau1 < 0 || c->tau2 < 0 || c->tau1 > 10000000 || c->tau2 > 10000000)
        return ss_fail(err, SS_ERR_USAGE, "tau1/tau2: want 0..1e7 steps, got %d and %d",
                       c->tau1, c->tau2);
    if (c->batch < 1 || c->batch > 16384)
        return ss_fail(err, SS_ERR_USAGE, "batch: wants 1..16384 prompts, got %d", c->batch);
    if (!(c->eta1 >= 0) || !(c->eta2 >= 0) || !isfinite(c->eta1) || !isfinite(c->eta2))
        return ss_fail(err, SS_ERR_USAGE, "eta1/eta2: want finite rates >= 0");
    return SS_OK;
}

ss_code ss_train_run(const ss_train_config *c, const double *theta, ss_train_result *r,
                     ss_error *err)
{
    memset(r, 0, sizeof *r);
    double t0 = ss_now_seconds();
    ss_code rc = check_config(c, err);
    if (rc)
        return rc;
    int N = ss_icl_len(&c->icl), total = c->tau1 + c->tau2;
    r->N = N;
    r->slash_step = -1;
    rc = ss_rmodel_init(&r->model, c->d_c, c->icl.d_x, theta, err);
    if (rc)
        return rc;
    ss_rmodel *m = &r->model;
    size_t n1 = (size_t)m->d_c * m->d_c, n2 = (size_t)m->d_s * m->d_s;
    r->n_rows = total + 1;
    r->rows = ss_calloc((size_t)r->n_rows, sizeof *r->rows, "trajectory", err);
    r->S1 = ss_calloc((size_t)N * N, sizeof(double), "layer-1 attention", err);
    double *g1 = ss_calloc(n1, sizeof(double), "gradient", err);
    double *g2 = ss_calloc(n2, sizeof(double), "gradient", err);
    ss_icl_batch batch = {0};
    if (!r->rows || !r->S1 || !g1 || !g2) {
        rc = SS_ERR_NOMEM;
        goto fail;
    }
    rc = ss_icl_batch_alloc(&batch, c->batch, N, err);
    if (rc)
        goto fail;

    ss_task task = {SS_TASK_GAUSS, 1.0, 0.0};
    ss_progress prog;
    ss_progress_start(&prog, c->quiet, c->label ? c->label : "theory", total, "steps");
    for (int t = 0; t <= total; t++) {
        int stage = t < c->tau1 ? 1 : 2;
        int update = t < total;
        ss_icl_fill(&c->icl, &task, c->seed, (uint64_t)t, &batch);
        ss_rmodel_stats st;
        rc = ss_rmodel_eval(m, &batch, update && stage == 1 ? g1 : NULL,
                            update && stage == 2 ? g2 : NULL, &st, err);
        if (rc)
            goto fail_prog;
        ss_rmodel_layer1(m, N, r->S1);
        ss_train_row *row = &r->rows[t];
        row->step = t;
        row->stage = stage;
        row->loss = st.loss;
        row->s2_match = st.s2_match;
        ss_train_slash_stats(r->S1, N, c->icl.delta, &row->s1_mean, &row->s1_min);
        if (r->slash_step < 0 && row->s1_mean >= c->kappa)
            r->slash_step = t;
        if (!isfinite(st.loss)) {
            rc = ss_fail(err, SS_ERR_VALUE,
                         "training diverged at step %d (loss %g): lower --eta%d", t, st.loss,
                         stage);
            goto fail_prog;
        }
        if (!update)
            break;
        if (stage == 1)
            for (size_t k = 0; k < n1; k++)
                m->W1[k] -= c->eta1 * g1[k];
        else
            for (size_t k = 0; k < n2; k++)
                m->W2[k] -= c->eta2 * g2[k];
        char extra[96];
        snprintf(extra, sizeof extra, "stage %d, loss %.4f, S1 %.3f", stage, st.loss,
                 row->s1_mean);
        ss_progress_update(&prog, t + 1, extra);
    }
    ss_progress_end(&prog);
    ss_icl_batch_free(&batch);
    free(g1);
    free(g2);
    r->seconds = ss_now_seconds() - t0;
    return SS_OK;
fail_prog:
    ss_progress_end(&prog);
fail:
    ss_icl_batch_free(&batch);
    free(g1);
    free(g2);
    ss_train_result_free(r);
    return rc;
}
