#include "theory/lab.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

/* The loss must fall below this fraction of its initial value (issue #3). */
#define LOSS_FRACTION 0.05

void ss_lab_defaults(ss_lab_config *c)
{
    memset(c, 0, sizeof *c);
    ss_train_defaults(&c->train);
    c->freqs = SS_FREQS_HIGH;
    c->freqs_name = "high";
    c->base = 10000.0;
    c->prope = 1.0;
    c->L = 0.0;
    c->n_eval = SS_LAB_EVAL_PROMPTS;
}

void ss_lab_free(ss_lab_result *r)
{
    free(r->theta);
    ss_train_result_free(&r->train);
    memset(r, 0, sizeof *r);
}

static void check_frequencies(const ss_lab_config *c, ss_lab_result *r)
{
    ss_freq_condition(r->theta, r->F_c, r->N, &r->cone);
    r->sem_max = 0.0;
    for (int s = 0; s < r->F_s; s++)
        if (r->theta[r->F_c + s] > r->sem_max)
            r->sem_max = r->theta[r->F_c + s];
    r->sem_alpha = r->sem_max > 0 ? -log(r->sem_max) / log((double)r->N) : INFINITY;
    r->sem_pass = r->sem_alpha >= 2.0 - 1e-9; /* "high" sits exactly at N^-2 */
    r->cone_pass = c->L > 0 ? ss_freq_condition_holds(&r->cone, c->L) : -1;
}

/* Loss of a model on the in-distribution evaluation prompts (the same
 * prompts the OOD module's first case uses). */
static ss_code eval_loss(const ss_rmodel *m, const ss_lab_config *c, double *loss,
                         ss_error *err)
{
    ss_ood_case o;
    ss_code rc = ss_ood_evaluate_case(m, &c->train.icl, c->train.seed, c->n_eval, 0, &o, err);
    *loss = o.loss;
    return rc;
}

ss_code ss_lab_run(const ss_lab_config *c, ss_lab_result *r, ss_error *err)
{
    memset(r, 0, sizeof *r);
    ss_code rc = ss_icl_check(&c->train.icl, err);
    if (rc)
        return rc;
    if (c->n_eval < 1 || c->n_eval > 16384)
        return ss_fail(err, SS_ERR_USAGE, "evaluation: wants 1..16384 prompts per case, got %d",
                       c->n_eval);
    if (!(c->prope >= 0.0 && c->prope <= 1.0))
        return ss_fail(err, SS_ERR_USAGE, "p_rope: wants a fraction in [0, 1], got %g",
                       c->prope);
    r->F_c = c->train.d_c / 2;
    r->F_s = (c->train.icl.d_x + 2) / 2;
    r->N = ss_icl_len(&c->train.icl);
    r->theta = ss_calloc((size_t)(r->F_c + r->F_s), sizeof(double), "frequencies", err);
    if (!r->theta)
        return SS_ERR_NOMEM;
    if (c->theta) {
        memcpy(r->theta, c->theta, sizeof(double) * (size_t)(r->F_c + r->F_s));
    } else {
        rc = ss_freqs_build(c->freqs, c->freqs_path, c->base, r->F_c, r->F_s, r->N, r->theta,
                            err);
        if (rc)
            goto fail;
    }
    if (c->prope < 1.0)
        ss_freqs_prope(r->theta, r->F_c + r->F_s, c->prope);
    check_frequencies(c, r);

    ss_rmodel init;
    rc = ss_rmodel_init(&init, c->train.d_c, c->train.icl.d_x, r->theta, err);
    if (rc)
        goto fail;
    rc = eval_loss(&init, c, &r->loss_init, err);
    ss_rmodel_free(&init);
    if (rc)
        goto fail;
    rc = ss_train_run(&c->train, r->theta, &r->train, err);
    if (rc)
        goto fail;
    ss_train_slash_stats(r->train.S1, r->N, c->train.icl.delta, &r->s1_final, &r->s1_final_min);
    rc = ss_ood_evaluate(&r->train.model, &c->train.icl, c->train.seed, c->n_eval, r->ood, err);
    if (rc)
        goto fail;
    r->loss_final = r->ood[0].loss;
    return SS_OK;
fail:
    ss_lab_free(r);
    return rc;
}

int ss_lab_slash_dominant(const ss_lab_config *c, const ss_lab_result *r)
{
    return r->s1_final >= c->train.kappa;
}

int ss_lab_loss_converged(const ss_lab_result *r)
{
    return r->loss_final < LOSS_FRACTION * r->loss_init;
}

void ss_lab_print_verdict(FILE *out, const ss_lab_config *c, const ss_lab_result *r)
{
    int delta = c->train.icl.delta;
    fprintf(out, "frequencies '%s'%s: cone peak gap %.3g at N=%d (L_min %.3g", c->freqs_name,
            c->prope < 1.0 ? " with p-RoPE" : "", r->cone.peak_gap, r->N, r->cone.L_min);
    if (r->cone_pass >= 0)
        fprintf(out, "; eps_FN <= L C1/N with L=%g: %s", c->L, r->cone_pass ? "yes" : "no");
    fprintf(out, "), semantic frequencies %s N^-2 (alpha %.3g)\n",
            r->sem_pass ? "<=" : ">", r->sem_alpha);
    if (ss_lab_slash_dominant(c, r))
        fprintf(out,
                "layer 1 became slash-dominant at offset %d: mean S1[i][i-%d] reached %.2f at "
                "step %d and ended at %.4f (min %.4f)\n",
                delta, delta, c->train.kappa, r->train.slash_step, r->s1_final,
                r->s1_final_min);
    else
        fprintf(out,
                "layer 1 did NOT become slash-dominant at offset %d: mean S1[i][i-%d] ended at "
                "%.4f (min %.4f), below %.2f\n",
                delta, delta, r->s1_final, r->s1_final_min, c->train.kappa);
    fprintf(out, "final loss %.4g = %.1f%% of the initial %.4g (%s 5%%); layer 2 puts %.2f of "
                 "its attention on the question's feature\n",
            r->loss_final, 100.0 * r->loss_final / r->loss_init, r->loss_init,
            ss_lab_loss_converged(r) ? "below" : "NOT below", r->ood[0].s2_match);
    fprintf(out, "relative error (0 perfect, 1 = answering 0):");
    for (int k = 0; k < SS_OOD_CASES; k++)
        fprintf(out, " %s %.3f%s", r->ood[k].name, r->ood[k].rel_mse,
                k + 1 < SS_OOD_CASES ? "," : "\n");
}
