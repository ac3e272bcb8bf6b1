/* The model part of the public API: dimensions, description, RoPE
 * schedule, logits and one head's attention. */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "analysis/lowrank_model.h"
#include "api/handles.h"
#include "engine/forward.h"
#include "engine/head_map.h"
#include "model/describe.h"

void ss_model_get_dims(const ss_model *m, ss_model_dims *out)
{
    const ss_config *c = &m->cfg;
    *out = (ss_model_dims){.n_layers = c->n_layer, .n_heads = c->n_head,
                           .n_kv_heads = c->n_kv_head, .head_dim = c->d_head,
                           .d_model = c->d_model, .d_ff = c->d_ff, .vocab = c->vocab,
                           .context = c->ctx_len, .n_freq = m->rope.n_freq,
                           .bos_id = c->bos_id, .eos_id = c->eos_id};
}

ss_code ss_model_with_lowrank(const ss_model *m, const char *plan, ss_model **out,
                              ss_error *err)
{
    if (!out)
        return ss_fail(err, SS_ERR_USAGE, "ss_model_with_lowrank: out is NULL");
    return ss_model_open_lowrank(m, plan, out, err);
}

char *ss_model_config_json(const ss_model *m, ss_error *err)
{
    cJSON *j = ss_model_describe(m, NULL);
    const cJSON *plan;
    const char *spec = ss_model_lowrank_spec(m, &plan);
    if (j && spec) { /* the description says the weights are not the files' */
        cJSON *lr = cJSON_AddObjectToObject(j, "lowrank");
        cJSON_AddStringToObject(lr, "spec", spec);
        cJSON_AddNumberToObject(lr, "compressed", ss_model_lowrank_compressed(m));
        cJSON_AddItemToObject(lr, "plan", cJSON_Duplicate(plan, 1));
    }
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!text)
        ss_fail(err, SS_ERR_NOMEM, "model description: out of memory");
    return text;
}

const double *ss_model_theta(const ss_model *m, int *n_freq)
{
    *n_freq = m->rope.n_freq;
    return m->rope.theta;
}

ss_code ss_api_rope(const ss_model *m, const ss_run_opts *o, ss_rope *rope, ss_error *err)
{
    *rope = m->rope;
    if (!o)
        return SS_OK;
    ss_code rc;
    if (o->use_p_rope) {
        if (!(o->p_rope >= 0.0 && o->p_rope <= 1.0))
            return ss_fail(err, SS_ERR_USAGE, "p_rope must be from 0 to 1, got %g", o->p_rope);
        if ((rc = ss_rope_keep_fraction(rope, o->p_rope, err)))
            return rc;
    }
    if (o->n_rope_remove < 0 || (o->n_rope_remove > 0 && !o->rope_remove))
        return ss_fail(err, SS_ERR_USAGE, "rope_remove: %d frequencies but no list",
                       o->n_rope_remove);
    if (o->n_rope_remove > 0 && (rc = ss_rope_remove(rope, o->rope_remove, o->n_rope_remove, err)))
        return rc;
    return SS_OK;
}

static ss_code check_buffers(const int32_t *ids, const void *out, ss_error *err)
{
    if (!ids || !out)
        return ss_fail(err, SS_ERR_USAGE, "%s is NULL", ids ? "the output buffer" : "ids");
    return SS_OK;
}

cJSON *ss_api_interventions(const ss_model *m, const ss_run_opts *o)
{
    const cJSON *plan;
    const char *lowrank = ss_model_lowrank_spec(m, &plan);
    return ss_head_edits_json(o ? o->ablate : NULL, o ? o->head_rope_remove : NULL,
                              o ? o->n_head_rope_remove : 0, lowrank, plan);
}

ss_code ss_api_edits(const ss_model *m, const ss_run_opts *o, ss_head_edits *e, ss_error *err)
{
    ss_code rc = ss_head_edits_parse(e, m, o ? o->ablate : NULL, o ? o->head_rope_remove : NULL,
                                     o ? o->n_head_rope_remove : 0, err);
    if (rc)
        ss_head_edits_free(e);
    return rc;
}

/* One sequence under o: the forward options (rope, edits) built, run, freed. */
static ss_code run_one(const ss_model *m, const int32_t *ids, int n, int layer, int head,
                       const ss_run_opts *o, float *out, ss_error *err)
{
    ss_rope rope;
    ss_head_edits e;
    ss_code rc = check_buffers(ids, out, err);
    if (rc || (rc = ss_api_rope(m, o, &rope, err)) || (rc = ss_api_edits(m, o, &e, err)))
        return rc;
    ss_forward_opts fo = {.rope = &rope, .allow_long = o && o->allow_long};
    ss_head_edits_forward(&e, &fo);
    rc = layer < 0 ? ss_forward(m, ids, n, &fo, out, err)
                   : ss_head_map_opts(m, ids, n, layer, head, &fo, out, err);
    ss_head_edits_free(&e);
    return rc;
}

ss_code ss_logits(const ss_model *m, const int32_t *ids, int n, const ss_run_opts *o,
                  float *out, ss_error *err)
{
    return run_one(m, ids, n, -1, 0, o, out, err);
}

ss_code ss_attention(const ss_model *m, const int32_t *ids, int n, int layer, int head,
                     const ss_run_opts *o, float *out, ss_error *err)
{
    if (layer < 0)
        return ss_fail(err, SS_ERR_USAGE, "layer %d: layers are 0-based", layer);
    return run_one(m, ids, n, layer, head, o, out, err);
}
