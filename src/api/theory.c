/* The theory lab in the public API: ss_lab_run (theory/lab.h) with its
 * result laid out as arrays of a generic result. */
#include <stdlib.h>

#include "api/handles.h"
#include "common/mem.h"
#include "theory/lab.h"

ss_theory_params ss_theory_defaults(void)
{
    ss_lab_config c;
    ss_lab_defaults(&c);
    const ss_train_config *t = &c.train;
    return (ss_theory_params){.n_in = t->icl.n_in, .features = t->icl.K, .d_x = 0,
                              .d_c = t->d_c, .delta = t->icl.delta, .freqs = "high",
                              .base = c.base, .p_rope = c.prope, .eta1 = t->eta1,
                              .eta2 = t->eta2, .tau1 = t->tau1, .tau2 = t->tau2,
                              .batch = t->batch, .seed = t->seed, .kappa = t->kappa,
                              .L = 0, .eval_prompts = c.n_eval};
}

typedef struct {
    ss_lab_config c;
    ss_lab_result r;
    double *traj; /* [rows, 6] */
    double *ood;  /* [SS_OOD_CASES, 5] */
} theory_owned;

static void release_theory(void *p)
{
    theory_owned *o = p;
    ss_lab_free(&o->r);
    free(o->traj);
    free(o->ood);
    free(o);
}

static ss_code to_config(const ss_theory_params *p, ss_lab_config *c, ss_error *err)
{
    ss_lab_defaults(c);
    ss_train_config *t = &c->train;
    t->icl.n_in = p->n_in;
    t->icl.K = p->features;
    t->icl.d_x = p->d_x > 0 ? p->d_x : p->features + p->features % 2;
    t->icl.delta = p->delta;
    t->d_c = p->d_c;
    t->eta1 = p->eta1;
    t->eta2 = p->eta2;
    t->tau1 = p->tau1;
    t->tau2 = p->tau2;
    t->batch = p->batch;
    t->seed = p->seed;
    t->kappa = p->kappa;
    t->quiet = 1;
    c->base = p->base;
    c->prope = p->p_rope;
    c->L = p->L > 0 ? p->L : 0;
    c->n_eval = p->eval_prompts;
    const char *f = p->freqs ? p->freqs : "high";
    c->freqs = ss_freqs_parse_kind(f);
    c->freqs_name = f;
    c->freqs_path = c->freqs == SS_FREQS_FILE ? f : NULL;
    if (p->tau1 < 0 || p->tau2 < 0 || p->batch < 1)
        return ss_fail(err, SS_ERR_USAGE, "tau1, tau2 must be >= 0 and batch >= 1 (got %d, %d, "
                       "%d)", p->tau1, p->tau2, p->batch);
    if (!(p->kappa >= 0 && p->kappa <= 1) || !(p->base > 1) || !(p->eta1 >= 0) ||
        !(p->eta2 >= 0))
        return ss_fail(err, SS_ERR_USAGE, "want kappa in [0, 1], base > 1, eta1, eta2 >= 0 "
                       "(got %g, %g, %g, %g)", p->kappa, p->base, p->eta1, p->eta2);
    return SS_OK;
}

static ss_code layout(theory_owned *o, ss_result *r, ss_error *err)
{
    const ss_lab_result *x = &o->r;
    int rows = x->train.n_rows;
    o->traj = ss_calloc((size_t)rows * 6 + 1, sizeof *o->traj, "trajectory", err);
    o->ood = ss_calloc(SS_OOD_CASES * 5, sizeof *o->ood, "OOD cases", err);
    if (!o->traj || !o->ood)
        return SS_ERR_NOMEM;
    for (int i = 0; i < rows; i++) {
        const ss_train_row *t = &x->train.rows[i];
        double v[6] = {t->step, t->stage, t->loss, t->s1_mean, t->s1_min, t->s2_match};
        for (int k = 0; k < 6; k++)
            o->traj[i * 6 + k] = v[k];
    }
    cJSON *names = cJSON_AddArrayToObject(r->meta, "ood_cases");
    for (int c = 0; c < SS_OOD_CASES; c++) {
        const ss_ood_case *e = &x->ood[c];
        double v[5] = {e->loss, e->mse, e->sq_target, e->rel_mse, e->s2_match};
        for (int k = 0; k < 5; k++)
            o->ood[c * 5 + k] = v[k];
        cJSON_AddItemToArray(names, cJSON_CreateString(e->name));
    }
    ss_api_result_add(r, "theta", x->theta, 1, x->F_c + x->F_s, 0, 0);
    ss_api_result_add(r, "trajectory", o->traj, 2, rows, 6, 0);
    ss_api_result_add(r, "S1", x->train.S1, 2, x->N, x->N, 0);
    ss_api_result_add(r, "ood", o->ood, 2, SS_OOD_CASES, 5, 0);
    cJSON *m = r->meta;
    cJSON_AddNumberToObject(m, "F_c", x->F_c);
    cJSON_AddNumberToObject(m, "F_s", x->F_s);
    cJSON_AddNumberToObject(m, "N", x->N);
    cJSON_AddNumberToObject(m, "slash_step", x->train.slash_step);
    cJSON_AddBoolToObject(m, "slash_dominant", ss_lab_slash_dominant(&o->c, x));
    cJSON_AddBoolToObject(m, "loss_converged", ss_lab_loss_converged(x));
    cJSON_AddNumberToObject(m, "loss_init", x->loss_init);
    cJSON_AddNumberToObject(m, "loss_final", x->loss_final);
    cJSON_AddNumberToObject(m, "s1_final", x->s1_final);
    cJSON_AddNumberToObject(m, "s1_final_min", x->s1_final_min);
    cJSON_AddNumberToObject(m, "sem_max", x->sem_max);
    cJSON_AddNumberToObject(m, "sem_alpha", x->sem_alpha);
    cJSON_AddBoolToObject(m, "sem_pass", x->sem_pass);
    cJSON_AddNumberToObject(m, "cone_pass", x->cone_pass);
    cJSON_AddItemToObject(m, "cone_condition", ss_lab_condition_json(&x->cone));
    cJSON_AddNumberToObject(m, "seconds", x->train.seconds);
    return SS_OK;
}

ss_code ss_run_theory(const ss_theory_params *p, ss_result **out, ss_error *err)
{
    *out = NULL;
    if (!p)
        return ss_fail(err, SS_ERR_USAGE, "ss_run_theory: params is NULL");
    theory_owned *o = ss_calloc(1, sizeof *o, "theory result", err);
    if (!o)
        return SS_ERR_NOMEM;
    ss_code rc = to_config(p, &o->c, err);
    if (!rc)
        rc = ss_lab_run(&o->c, &o->r, err);
    if (rc) {
        release_theory(o);
        return rc;
    }
    ss_result *r = ss_api_result_new("theory", o, release_theory, err);
    if (!r)
        return SS_ERR_NOMEM;
    if ((rc = layout(o, r, err))) {
        ss_result_free(r);
        return rc;
    }
    *out = r;
    return SS_OK;
}
