/* The rank analysis in the public API: the library's rank result struct
 * (analysis/rank_result.h) behind a generic result. */
#include <stdlib.h>

#include "analysis/rank_result.h"
#include "api/handles.h"
#include "common/mem.h"

static void release_rank(void *p)
{
    ss_rank_result_free(p);
    free(p);
}

static ss_code add_arrays(ss_result *r, void *owned, const ss_analyzer *a, ss_error *err)
{
    (void)a;
    (void)err;
    const ss_rank_result *x = owned;
    int64_t L = x->n_layer, H = x->n_head, K = x->n_kv_head, dh = x->d_head, T = x->n_tau;
    ss_api_result_add(r, "q_r", x->q_r, 3, L, H, dh);
    ss_api_result_add(r, "q_R", x->q_R, 3, L, H, T);
    ss_api_result_add(r, "k_r", x->k_r, 3, L, K, dh);
    ss_api_result_add(r, "k_R", x->k_R, 3, L, K, T);
    ss_api_result_add(r, "h_r", x->h_r, 2, L, x->d_model, 0);
    ss_api_result_add(r, "h_R", x->h_R, 2, L, T, 0);
    ss_api_result_add(r, "wq_r", x->wq_r, 3, L, H, dh);
    ss_api_result_add(r, "wq_R", x->wq_R, 3, L, H, T);
    ss_api_result_add(r, "wk_r", x->wk_r, 3, L, K, dh);
    ss_api_result_add(r, "wk_R", x->wk_R, 3, L, K, T);
    ss_api_result_add(r, "q_norm_mean", x->q_norm_mean, 2, L, H, 0);
    ss_api_result_add(r, "q_norm_rv", x->q_norm_rv, 2, L, H, 0);
    ss_api_result_add(r, "k_norm_mean", x->k_norm_mean, 2, L, K, 0);
    ss_api_result_add(r, "k_norm_rv", x->k_norm_rv, 2, L, K, 0);
    ss_api_result_add(r, "tau", x->tau, 1, T, 0, 0);
    cJSON_AddNumberToObject(r->meta, "prompts", (double)x->prompts);
    cJSON_AddItemToObject(r->meta, "tau", cJSON_CreateDoubleArray(x->tau, x->n_tau));
    return SS_OK;
}

static ss_code rank_result(ss_analyzer *a, ss_result **out, ss_error *err)
{
    return ss_api_analyzer_finish(a, sizeof(ss_rank_result), release_rank, add_arrays, out, err);
}

ss_code ss_analyzer_rank(const ss_model *m, const double *tau, int n_tau, ss_analyzer **out,
                         ss_error *err)
{
    *out = NULL;
    if (!m || (n_tau > 0 && !tau))
        return ss_fail(err, SS_ERR_USAGE, "ss_analyzer_rank: a NULL argument");
    if (n_tau < 1 || n_tau > SS_RANK_MAX_TAU)
        return ss_fail(err, SS_ERR_USAGE, "tau: give 1 to %d thresholds, got %d", SS_RANK_MAX_TAU,
                       n_tau);
    for (int i = 0; i < n_tau; i++)
        if (!(tau[i] >= 0 && tau[i] <= 1))
            return ss_fail(err, SS_ERR_USAGE, "tau[%d] = %g: thresholds are fractions in [0, 1]",
                           i, tau[i]);
    ss_analyzer *a = ss_api_analyzer_new("rank", err);
    if (!a)
        return SS_ERR_NOMEM;
    ss_code rc = ss_rank_analysis_new(&a->an, m, tau, n_tau, err);
    if (rc) {
        ss_analyzer_free(a);
        return rc;
    }
    a->result = rank_result;
    *out = a;
    return SS_OK;
}

ss_code ss_run_rank(const ss_model *m, ss_source *src, const double *tau, int n_tau,
                    const ss_pass_params *p, ss_result **out, ss_error *err)
{
    *out = NULL;
    ss_analyzer *a;
    ss_code rc = ss_analyzer_rank(m, tau, n_tau, &a, err);
    return rc ? rc : ss_api_run_one(a, m, src, p, out, err);
}
