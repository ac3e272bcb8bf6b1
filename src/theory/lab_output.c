/* The files of one theory-lab run (schemas in docs/theory.md). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"
#include "io/npy.h"
#include "common/mem.h"
#include "report/explain_out.h"
#include "report/figure.h"
#include "report/heatmap.h"
#include "report/lineplot.h"
#include "theory/lab.h"

static cJSON *num_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static cJSON *matrix(const double *m, int rows, int cols)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < rows; i++)
        cJSON_AddItemToArray(a, num_array(m + (size_t)i * cols, cols));
    return a;
}

static ss_code write_trajectory(const char *path, const ss_train_result *t, ss_error *err)
{
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc)
        return rc;
    fprintf(f.fp, "step,stage,loss,s1_mean,s1_min,s2_match\n");
    for (int i = 0; i < t->n_rows; i++) {
        const ss_train_row *r = &t->rows[i];
        fprintf(f.fp, "%d,%d,%.10g,%.10g,%.10g,%.10g\n", r->step, r->stage, r->loss, r->s1_mean,
                r->s1_min, r->s2_match);
    }
    return ss_atomic_commit(&f, err);
}

/* The same rows as a picture: loss (as a share of the first), the
 * previous-token attention of layer 1 and layer 2's score on the question's
 * feature, against the step. */
ss_code ss_lab_trajectory_figure(ss_text *svg, const ss_lab_result *r, const char *title,
                                 ss_error *err)
{
    const ss_train_result *t = &r->train;
    int n = t->n_rows;
    double *v = ss_calloc((size_t)n * 5 + 1, sizeof *v, "trajectory plot", err);
    if (!v)
        return SS_ERR_NOMEM;
    double *step = v, *loss = v + n, *s1 = v + 2 * n, *s1min = v + 3 * n, *s2 = v + 4 * n;
    double first = n ? t->rows[0].loss : 1;
    for (int i = 0; i < n; i++) {
        step[i] = t->rows[i].step;
        loss[i] = first > 0 ? t->rows[i].loss / first : NAN;
        s1[i] = t->rows[i].s1_mean;
        s1min[i] = t->rows[i].s1_min;
        s2[i] = t->rows[i].s2_match;
    }
    ss_series series[4] = {{"loss / first loss", step, loss, n},
                           {"S1[i][i-delta], mean", step, s1, n},
                           {"S1[i][i-delta], min", step, s1min, n},
                           {"layer 2 on the question", step, s2, n}};
    ss_plot_opts o = {title, "step", "loss / first loss; attention (0..1)", 0};
    ss_code rc = ss_fig_lines(svg, series, 4, &o, err);
    free(v);
    return rc;
}

cJSON *ss_lab_condition_json(const ss_freq_condition_result *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "C1", c->C1);
    cJSON_AddNumberToObject(j, "C2", c->C2);
    cJSON_AddNumberToObject(j, "eps_FN", c->eps_fn);
    cJSON_AddNumberToObject(j, "L_min", c->L_min);
    cJSON_AddNumberToObject(j, "peak_gap", c->peak_gap);
    cJSON_AddNumberToObject(j, "peak_x", c->peak_x);
    return j;
}

ss_code ss_lab_layer1_figure(ss_text *svg, const ss_lab_result *r, const char *title,
                             ss_error *err)
{
    /* A fixed colour range so runs compare at a glance. */
    ss_fig_heatmap_opts o = {title,
                             {"key position j", NULL, 0, r->N},
                             {"query position i", NULL, 0, r->N},
                             "attention S1[i][j] (log scale)",
                             {1, 1e-4, 1.0, 0, 1}};
    return ss_fig_heatmap(svg, r->train.S1, r->N, r->N, &o, err);
}

static ss_code write_figure(const char *path, const ss_lab_result *r, const char *title,
                            ss_code (*fig)(ss_text *, const ss_lab_result *, const char *,
                                           ss_error *),
                            ss_error *err)
{
    ss_text t = {0};
    return ss_text_save(&t, fig(&t, r, title, err), path, err);
}

static ss_code write_frequencies(const char *path, const ss_lab_config *c,
                                 const ss_lab_result *r, ss_error *err)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "set", c->freqs_name ? c->freqs_name : "");
    cJSON_AddNumberToObject(j, "prope", c->prope);
    cJSON_AddNumberToObject(j, "base", c->base);
    cJSON_AddNumberToObject(j, "N", r->N);
    cJSON_AddNumberToObject(j, "d_c", c->train.d_c);
    cJSON_AddNumberToObject(j, "d_x", c->train.icl.d_x);
    cJSON_AddNumberToObject(j, "d", c->train.d_c + c->train.icl.d_x + 2);
    cJSON_AddItemToObject(j, "theta", num_array(r->theta, r->F_c + r->F_s));

    cJSON *cone = ss_lab_condition_json(&r->cone);
    cJSON_AddItemToObject(j, "cone", cone);
    cJSON_AddItemToObject(cone, "theta", num_array(r->theta, r->F_c));
    double *f = malloc(sizeof(double) * (size_t)(r->N + 1));
    if (!f) {
        cJSON_Delete(j);
        return ss_fail(err, SS_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int x = 0; x <= r->N; x++)
        f[x] = ss_freq_cos_sum(r->theta, r->F_c, x);
    cJSON_AddItemToObject(cone, "f", num_array(f, r->N + 1));
    free(f);
    cJSON *sem = cJSON_AddObjectToObject(j, "semantic");
    cJSON_AddItemToObject(sem, "theta", num_array(r->theta + r->F_c, r->F_s));
    cJSON_AddNumberToObject(sem, "max", r->sem_max);
    cJSON_AddNumberToObject(sem, "N^-2", 1.0 / ((double)r->N * r->N));
    cJSON_AddNumberToObject(sem, "alpha", r->sem_alpha); /* inf prints as null */
    cJSON_AddBoolToObject(sem, "pass", r->sem_pass);

    if (c->L > 0) {
        cJSON_AddNumberToObject(j, "L", c->L);
        cJSON_AddBoolToObject(j, "cone_pass", r->cone_pass == 1);
        cJSON_AddBoolToObject(j, "pass", r->sem_pass && r->cone_pass == 1);
    } else {
        cJSON_AddNullToObject(j, "L");
        cJSON_AddNullToObject(j, "cone_pass");
        if (r->sem_pass)
            cJSON_AddNullToObject(j, "pass"); /* undecided without an L */
        else
            cJSON_AddBoolToObject(j, "pass", 0);
    }
    ss_code rc = ss_json_write_file(path, j, err);
    cJSON_Delete(j);
    return rc;
}

static ss_code write_ood(const char *path, const ss_lab_config *c, const ss_lab_result *r,
                         ss_error *err)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "n_prompts", c->n_eval);
    cJSON_AddNumberToObject(j, "seed", (double)c->train.seed);
    cJSON_AddStringToObject(j, "relative_mse",
                            "mse / mean(y_q^2): 0 is perfect, 1 is no better than answering 0");
    cJSON *cases = cJSON_AddArrayToObject(j, "cases");
    for (int k = 0; k < SS_OOD_CASES; k++) {
        const ss_ood_case *o = &r->ood[k];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", o->name);
        cJSON_AddStringToObject(e, "task", o->task);
        cJSON_AddBoolToObject(e, "in_distribution", k == 0);
        cJSON_AddNumberToObject(e, "n_in", o->n_in);
        cJSON_AddNumberToObject(e, "N", o->N);
        cJSON_AddNumberToObject(e, "loss", o->loss);
        cJSON_AddNumberToObject(e, "mse", o->mse);
        cJSON_AddNumberToObject(e, "target_power", o->sq_target);
        cJSON_AddNumberToObject(e, "relative_mse", o->rel_mse);
        cJSON_AddNumberToObject(e, "s2_match", o->s2_match);
        cJSON_AddItemToArray(cases, e);
    }
    ss_code rc = ss_json_write_file(path, j, err);
    cJSON_Delete(j);
    return rc;
}

static ss_code write_run(const char *path, const ss_lab_config *c, const ss_lab_result *r,
                         ss_error *err)
{
    const ss_train_config *t = &c->train;
    cJSON *j = cJSON_CreateObject();
    cJSON *cfg = cJSON_AddObjectToObject(j, "config");
    cJSON_AddNumberToObject(cfg, "n_in", t->icl.n_in);
    cJSON_AddNumberToObject(cfg, "features", t->icl.K);
    cJSON_AddNumberToObject(cfg, "dx", t->icl.d_x);
    cJSON_AddNumberToObject(cfg, "dc", t->d_c);
    cJSON_AddNumberToObject(cfg, "delta", t->icl.delta);
    cJSON_AddNumberToObject(cfg, "N", r->N);
    cJSON_AddStringToObject(cfg, "freqs", c->freqs_name ? c->freqs_name : "");
    cJSON_AddNumberToObject(cfg, "base", c->base);
    cJSON_AddNumberToObject(cfg, "prope", c->prope);
    cJSON_AddNumberToObject(cfg, "eta1", t->eta1);
    cJSON_AddNumberToObject(cfg, "eta2", t->eta2);
    cJSON_AddNumberToObject(cfg, "tau1", t->tau1);
    cJSON_AddNumberToObject(cfg, "tau2", t->tau2);
    cJSON_AddNumberToObject(cfg, "batch", t->batch);
    cJSON_AddNumberToObject(cfg, "seed", (double)t->seed);
    cJSON_AddNumberToObject(cfg, "kappa", t->kappa);
    cJSON_AddNumberToObject(cfg, "eval_prompts", c->n_eval);

    cJSON *res = cJSON_AddObjectToObject(j, "result");
    cJSON_AddBoolToObject(res, "slash_dominant", ss_lab_slash_dominant(c, r));
    if (r->train.slash_step >= 0)
        cJSON_AddNumberToObject(res, "slash_step", r->train.slash_step);
    else
        cJSON_AddNullToObject(res, "slash_step");
    cJSON_AddNumberToObject(res, "s1_mean", r->s1_final);
    cJSON_AddNumberToObject(res, "s1_min", r->s1_final_min);
    cJSON_AddNumberToObject(res, "loss_initial", r->loss_init);
    cJSON_AddNumberToObject(res, "loss_final", r->loss_final);
    cJSON_AddBoolToObject(res, "loss_below_5pct", ss_lab_loss_converged(r));
    cJSON_AddNumberToObject(res, "s2_match", r->ood[0].s2_match);
    cJSON_AddNumberToObject(res, "seconds", r->train.seconds);
    const ss_rmodel *m = &r->train.model;
    cJSON *w = cJSON_AddObjectToObject(j, "weights");
    cJSON_AddItemToObject(w, "c", num_array(m->c, m->d_c));
    cJSON_AddItemToObject(w, "W1", matrix(m->W1, m->d_c, m->d_c));
    cJSON_AddItemToObject(w, "W2", matrix(m->W2, m->d_s, m->d_s));
    ss_code rc = ss_json_write_file(path, j, err);
    cJSON_Delete(j);
    return rc;
}

ss_code ss_lab_write(const char *dir, const ss_lab_config *c, const ss_lab_result *r,
                     ss_error *err)
{
    char p[4096];
    ss_code rc = ss_mkdirs(dir, err);
    if (rc)
        return rc;
    if ((rc = ss_out_path(p, sizeof p, dir, "trajectory.csv", err)) || (rc = write_trajectory(p, &r->train, err)) ||
        (rc = ss_out_path(p, sizeof p, dir, "trajectory.svg", err)) ||
        (rc = write_figure(p, r, "Training (Algorithm 1): stage I trains W1, then stage II W2",
                           ss_lab_trajectory_figure, err)))
        return rc;
    int64_t shape[2] = {r->N, r->N};
    if ((rc = ss_out_path(p, sizeof p, dir, "layer1.npy", err)) ||
        (rc = ss_npy_write(p, SS_NPY_F64, 2, shape, r->train.S1, err)))
        return rc;
    /* A fixed colour range so runs compare at a glance. */
    ss_heatmap_opts o = {1, 1e-4, 1.0, 0, 1};
    if ((rc = ss_out_path(p, sizeof p, dir, "layer1.png", err)) ||
        (rc = ss_heatmap_png(p, r->train.S1, r->N, r->N, &o, err)))
        return rc;
    if ((rc = ss_out_path(p, sizeof p, dir, "layer1.svg", err)) ||
        (rc = write_figure(p, r, "Layer-1 attention after training", ss_lab_layer1_figure, err)))
        return rc;
    if ((rc = ss_out_path(p, sizeof p, dir, "frequencies.json", err)) || (rc = write_frequencies(p, c, r, err)))
        return rc;
    if ((rc = ss_out_path(p, sizeof p, dir, "ood.json", err)) || (rc = write_ood(p, c, r, err)))
        return rc;
    if ((rc = ss_out_path(p, sizeof p, dir, "run.json", err)) || (rc = write_run(p, c, r, err)))
        return rc;
    return SS_OK;
}
