#include "analysis/head_edits.h"

#include <stdlib.h>
#include <string.h>

#include "common/parse.h"

ss_code ss_head_ablation_parse(const char *spec, const char *what, ss_head_ablation *abl,
                               ss_error *err)
{
    const char *colon = strchr(spec, ':');
    int mode = SS_ABLATE_ZERO;
    if (colon && !strcmp(colon, ":mean"))
        mode = SS_ABLATE_MEAN;
    else if (colon && strcmp(colon, ":zero"))
        return ss_fail(err, SS_ERR_USAGE, "%s '%s': the mode after ':' must be zero or mean",
                       what, spec);
    const char *end = colon ? colon : spec + strlen(spec);
    for (const char *p = spec; p < end;) {
        int l, h;
        const char *q;
        if (!ss_parse_head_name(p, &q, &l, &h) || (q != end && *q != ','))
            return ss_fail(err, SS_ERR_USAGE, "%s '%s': expected heads like L1H3,L2H0 with an "
                           "optional :zero or :mean", what, spec);
        if (l >= abl->n_layer || h >= abl->n_head)
            return ss_fail(err, SS_ERR_USAGE, "%s: no head L%dH%d (the model has %d layers x "
                           "%d heads)", what, l, h, abl->n_layer, abl->n_head);
        unsigned char *m = &abl->mode[(size_t)l * abl->n_head + h];
        abl->n += !*m;
        *m = (unsigned char)mode;
        p = q == end ? q : q + 1;
    }
    return SS_OK;
}

ss_code ss_head_rope_parse(const char *spec, const char *what, const ss_config *c, int n_freq,
                           ss_head_rope *hr, ss_error *err)
{
    int l, h, *list = NULL, n_list = 0;
    const char *q;
    if (!ss_parse_head_name(spec, &q, &l, &h) || *q != ':' || !q[1])
        return ss_fail(err, SS_ERR_USAGE, "%s '%s': expected a head and 1-based frequencies "
                       "like L1H3:1,2,5-8", what, spec);
    if (l >= c->n_layer || h >= c->n_head)
        return ss_fail(err, SS_ERR_USAGE, "%s: no head L%dH%d (the model has %d layers x %d "
                       "heads)", what, l, h, c->n_layer, c->n_head);
    ss_code rc = ss_rope_parse_list(q + 1, n_freq, &list, &n_list, err);
    if (!rc)
        rc = ss_head_rope_add(hr, l, h, list, n_list, n_freq, err);
    free(list);
    if (rc)
        ss_error_prefix(err, "%s '%s'", what, spec);
    return rc;
}

ss_code ss_head_edits_parse_as(ss_head_edits *e, const ss_model *m, const char *ablate,
                               const char *ablate_name, const char *const *hrr, int n_hrr,
                               const char *hrr_name, ss_error *err)
{
    memset(e, 0, sizeof *e);
    if (n_hrr < 0 || (n_hrr > 0 && !hrr))
        return ss_fail(err, SS_ERR_USAGE, "%s: %d specs but no list", hrr_name, n_hrr);
    ss_code rc = ss_head_ablation_init(&e->ablation, &m->cfg, err);
    if (!rc && ablate)
        rc = ss_head_ablation_parse(ablate, ablate_name, &e->ablation, err);
    for (int i = 0; !rc && i < n_hrr; i++)
        rc = !hrr[i] ? ss_fail(err, SS_ERR_USAGE, "%s[%d] is NULL", hrr_name, i)
                     : ss_head_rope_parse(hrr[i], hrr_name, &m->cfg, m->rope.n_freq,
                                          &e->head_rope, err);
    return rc;
}

ss_code ss_head_edits_parse(ss_head_edits *e, const ss_model *m, const char *ablate,
                            const char *const *hrr, int n_hrr, ss_error *err)
{
    return ss_head_edits_parse_as(e, m, ablate, "ablate", hrr, n_hrr, "head_rope_remove", err);
}

void ss_head_edits_free(ss_head_edits *e)
{
    ss_head_ablation_free(&e->ablation);
    ss_head_rope_free(&e->head_rope);
    memset(e, 0, sizeof *e);
}

void ss_head_edits_forward(const ss_head_edits *e, ss_forward_opts *o)
{
    if (e->ablation.n) {
        o->edit_heads = ss_head_ablation_edit;
        o->edit_ctx = (void *)&e->ablation;
    }
    if (e->head_rope.n)
        o->head_rope = &e->head_rope;
}

cJSON *ss_head_edits_json(const char *ablate, const char *const *hrr, int n_hrr,
                          const char *lowrank, const cJSON *lowrank_plan)
{
    if (!ablate && n_hrr <= 0 && !lowrank && !lowrank_plan)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    if (ablate)
        cJSON_AddStringToObject(o, "ablate", ablate);
    if (n_hrr > 0)
        cJSON_AddItemToObject(o, "head_rope_remove", cJSON_CreateStringArray(hrr, n_hrr));
    if (lowrank)
        cJSON_AddStringToObject(o, "lowrank", lowrank);
    if (lowrank_plan)
        cJSON_AddItemToObject(o, "lowrank_plan", cJSON_Duplicate(lowrank_plan, 1));
    return o;
}
