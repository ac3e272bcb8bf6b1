#include "report/scan_maps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/scan_result.h"
#include "analysis/sdh.h"
#include "common/mem.h"
#include "report/scan_folder.h"

ss_code ss_scan_maps_from_spec(const char *spec, const ss_model *m, const char *model_path,
                               const char *what, ss_scan_opts *o, unsigned char **flags,
                               ss_error *err)
{
    ss_code rc;
    *flags = NULL;
    o->maps_spec = spec;
    if (!spec) {
        o->maps = SS_MAPS_NONE;
        return SS_OK;
    }
    int L = m->cfg.n_layer, H = m->cfg.n_head;
    if (strcmp(spec, "sdh") == 0) {
        o->maps = SS_MAPS_SDH;
        return SS_OK;
    }
    *flags = ss_calloc((size_t)L * H, 1, "map selection", err);
    if (!*flags)
        return SS_ERR_NOMEM;
    o->maps = SS_MAPS_LIST;
    o->map_heads = *flags;
    if (strcmp(spec, "all") == 0) {
        memset(*flags, 1, (size_t)L * H);
        return SS_OK;
    }
    if (strncmp(spec, "sdh:", 4) != 0)
        return ss_head_list_parse(spec, L, H, *flags, err);
    /* the SDHs of another scan of this model (e.g. in-distribution heads on OOD prompts) */
    ss_scan_result r;
    if ((rc = ss_scan_result_read(spec + 4, &r, err)))
        return rc;
    char label[64];
    snprintf(label, sizeof label, "%s sdh:", what);
    cJSON *mine = ss_scan_model_json(m, model_path, err);
    rc = mine ? ss_scan_result_of_model(&r, spec + 4, mine, label, err) : SS_ERR_NOMEM;
    cJSON_Delete(mine);
    if (rc) {
        ss_scan_result_free(&r);
        return rc;
    }
    double *avg = ss_scan_result_average(&r, err);
    if (!avg)
        rc = err->code ? err->code : SS_ERR_NOMEM;
    ss_sdh_regime reg[2]; /* the SDHs that scan lists */
    ss_sdh_regimes_from_json(cJSON_GetObjectItemCaseSensitive(r.meta, "sdh_regimes"), reg);
    int any = 0;
    for (int g = 0; g < 2 && avg && !rc; g++) {
        ss_sdh *list;
        int n;
        rc = ss_sdh_find(avg, L, H, r.n, &reg[g], &list, &n, err);
        for (int k = 0; k < n; k++)
            (*flags)[(size_t)list[k].layer * H + list[k].head] = 1;
        any += n;
        free(list);
    }
    free(avg);
    ss_scan_result_free(&r);
    if (!rc && !any)
        o->maps = SS_MAPS_NONE; /* no SDH there: nothing to map */
    return rc;
}

