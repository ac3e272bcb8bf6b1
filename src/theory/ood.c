#include "theory/ood.h"

#include <string.h>

/* Stream numbers far above any training step, one per case. */
#define OOD_STREAM 0x00D0000000000000ULL

typedef struct {
    const char *name, *task;
    ss_task t;
    int mult; /* demonstrations relative to training */
} case_def;

static const case_def CASES[SS_OOD_CASES] = {
    {"in_distribution", "w ~ N(0, I)", {SS_TASK_GAUSS, 1.0, 0.0}, 1},
    {"w_scaled", "w ~ N(0, 25 I)", {SS_TASK_SCALED, SS_OOD_SCALE, 0.0}, 1},
    {"w_shifted", "w ~ N(2, I)", {SS_TASK_SHIFTED, 1.0, SS_OOD_SHIFT}, 1},
    {"w_onehot", "w = e_m, m uniform over the features", {SS_TASK_ONEHOT, 1.0, 0.0}, 1},
    {"longer_2x", "w ~ N(0, I), 2x demonstrations", {SS_TASK_GAUSS, 1.0, 0.0}, 2},
    {"longer_4x", "w ~ N(0, I), 4x demonstrations", {SS_TASK_GAUSS, 1.0, 0.0}, 4},
};

ss_code ss_ood_evaluate_case(const ss_rmodel *m, const ss_icl_config *icl, uint64_t seed,
                             int n_eval, int c, ss_ood_case *o, ss_error *err)
{
    if (n_eval < 1 || c < 0 || c >= SS_OOD_CASES)
        return ss_fail(err, SS_ERR_USAGE, "OOD evaluation: wants >= 1 prompt and a case 0..%d",
                       SS_OOD_CASES - 1);
    memset(o, 0, sizeof *o);
    o->name = CASES[c].name;
    o->task = CASES[c].task;
    o->t = CASES[c].t;
    ss_icl_config ic = *icl;
    ic.n_in = icl->n_in * CASES[c].mult;
    ss_code rc = ss_icl_check(&ic, err);
    if (rc)
        return rc;
    o->n_in = ic.n_in;
    o->N = ss_icl_len(&ic);
    ss_icl_batch b;
    rc = ss_icl_batch_alloc(&b, n_eval, o->N, err);
    if (rc)
        return rc;
    ss_icl_fill(&ic, &o->t, seed, OOD_STREAM + (uint64_t)c, &b);
    ss_rmodel_stats st;
    rc = ss_rmodel_eval(m, &b, NULL, NULL, &st, err);
    ss_icl_batch_free(&b);
    if (rc)
        return rc;
    o->loss = st.loss;
    o->mse = st.mse;
    o->sq_target = st.sq_target;
    o->rel_mse = st.sq_target > 0 ? st.mse / st.sq_target : 0.0;
    o->s2_match = st.s2_match;
    return SS_OK;
}

ss_code ss_ood_evaluate(const ss_rmodel *m, const ss_icl_config *icl, uint64_t seed, int n_eval,
                        ss_ood_case out[SS_OOD_CASES], ss_error *err)
{
    for (int c = 0; c < SS_OOD_CASES; c++) {
        ss_code rc = ss_ood_evaluate_case(m, icl, seed, n_eval, c, &out[c], err);
        if (rc)
            return rc;
    }
    return SS_OK;
}
