#include "report/minference.h"

#include <stdio.h>

static cJSON *entry(const ss_sparsity_head *p)
{
    cJSON *e = cJSON_CreateArray();
    if (e && (!cJSON_AddItemToArray(e, cJSON_CreateString("vertical_and_slash")) ||
              !cJSON_AddItemToArray(e, cJSON_CreateNumber(p->v)) ||
              !cJSON_AddItemToArray(e, cJSON_CreateNumber(p->s)) ||
              !cJSON_AddItemToArray(e, cJSON_CreateNumber(p->coverage)))) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

cJSON *ss_minference_config(const ss_sparsity_head *patterns, int n_layer, int n_head)
{
    cJSON *list = cJSON_CreateArray();
    for (int l = 0; list && l < n_layer; l++) {
        cJSON *layer = cJSON_CreateObject();
        if (!layer || !cJSON_AddItemToArray(list, layer)) {
            cJSON_Delete(layer);
            cJSON_Delete(list);
            return NULL;
        }
        for (int h = 0; h < n_head; h++) {
            char key[16];
            snprintf(key, sizeof key, "%d", h);
            cJSON *e = entry(&patterns[(size_t)l * n_head + h]);
            if (!e || !cJSON_AddItemToObject(layer, key, e)) {
                cJSON_Delete(e);
                cJSON_Delete(list);
                return NULL;
            }
        }
    }
    return list;
}
