#include "analysis/sdh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

const ss_sdh_regime SS_SDH_SMALL = {0.1, 0, 4, "small"};
const ss_sdh_regime SS_SDH_LARGE = {1e-3, 500, 5000, "large"};

void ss_sdh_scan_regimes(double kappa_small, double kappa_large, ss_sdh_regime out[2])
{
    out[0] = SS_SDH_SMALL;
    out[1] = SS_SDH_LARGE;
    if (kappa_small > 0)
        out[0].kappa = kappa_small;
    if (kappa_large > 0)
        out[1].kappa = kappa_large;
}

void ss_sdh_regimes_from_json(const cJSON *sdh_regimes, ss_sdh_regime out[2])
{
    double k[2] = {0, 0};
    const cJSON *e;
    cJSON_ArrayForEach(e, sdh_regimes)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        const cJSON *kappa = cJSON_GetObjectItemCaseSensitive(e, "kappa");
        if (!cJSON_IsString(name) || !cJSON_IsNumber(kappa) || !(kappa->valuedouble > 0) ||
            kappa->valuedouble > 1)
            continue;
        for (int g = 0; g < 2; g++)
            if (strcmp(name->valuestring, g ? SS_SDH_LARGE.name : SS_SDH_SMALL.name) == 0)
                k[g] = kappa->valuedouble;
    }
    ss_sdh_scan_regimes(k[0], k[1], out);
}

cJSON *ss_sdh_regimes_json(const ss_sdh_regime reg[2])
{
    cJSON *regs = cJSON_CreateArray();
    for (int g = 0; g < 2; g++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", reg[g].name);
        cJSON_AddNumberToObject(e, "kappa", reg[g].kappa);
        int d[2] = {reg[g].d_min, reg[g].d_max};
        cJSON_AddItemToObject(e, "delta", cJSON_CreateIntArray(d, 2));
        cJSON_AddItemToArray(regs, e);
    }
    return regs;
}

static int by_delta_then_score(const void *pa, const void *pb)
{
    const ss_sdh *a = pa, *b = pb;
    if (a->delta != b->delta)
        return a->delta < b->delta ? -1 : 1;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    if (a->layer != b->layer)
        return a->layer < b->layer ? -1 : 1;
    return a->head < b->head ? -1 : (a->head > b->head);
}

ss_code ss_sdh_find(const double *slash, int n_layer, int n_head, int n, const ss_sdh_regime *r,
                    ss_sdh **out, int *n_out, ss_error *err)
{
    *out = NULL;
    *n_out = 0;
    if (r->d_min < 0 || r->d_max < r->d_min)
        return ss_fail(err, SS_ERR_USAGE, "offset range %d:%d is empty or negative", r->d_min,
                       r->d_max);
    int hi = r->d_max < n - 1 ? r->d_max : n - 1;
    int cap = 0;
    for (int l = 0; l < n_layer; l++)
        for (int h = 0; h < n_head; h++)
            for (int d = r->d_min; d <= hi; d++) {
                double s = slash[((size_t)l * n_head + h) * n + d];
                if (isnan(s) || s < r->kappa)
                    continue;
                if (*n_out == cap) {
                    cap = cap ? 2 * cap : 64;
                    ss_sdh *grown = ss_realloc_array(*out, (size_t)cap, sizeof **out, "SDH list", err);
                    if (!grown) {
                        free(*out);
                        *out = NULL;
                        *n_out = 0;
                        return SS_ERR_NOMEM;
                    }
                    *out = grown;
                }
                (*out)[(*n_out)++] = (ss_sdh){l, h, d, s};
            }
    if (*n_out > 1)
        qsort(*out, (size_t)*n_out, sizeof **out, by_delta_then_score);
    return SS_OK;
}
