#include "model/describe.h"

const char *ss_scaling_name(ss_scaling_type t)
{
    switch (t) {
    case SS_SCALE_NONE: return "none";
    case SS_SCALE_LINEAR: return "linear";
    case SS_SCALE_LLAMA3: return "llama3";
    case SS_SCALE_FREQ_FACTORS: return "rope_freqs";
    }
    return "?";
}

const char *ss_pairing_name(ss_rope_pairing p)
{
    return p == SS_PAIR_HALF ? "half" : "interleaved";
}

static cJSON *describe_rope(const ss_model *m, const ss_rope *r)
{
    cJSON *o = cJSON_CreateObject();
    const ss_rope_scaling *s = &m->cfg.scaling;
    cJSON_AddNumberToObject(o, "base", r->base);
    cJSON_AddNumberToObject(o, "n_freq", r->n_freq);
    cJSON *sc = cJSON_AddObjectToObject(o, "scaling");
    cJSON_AddStringToObject(sc, "type", ss_scaling_name(s->type));
    if (s->type == SS_SCALE_LINEAR || s->type == SS_SCALE_LLAMA3)
        cJSON_AddNumberToObject(sc, "factor", s->factor);
    if (s->type == SS_SCALE_LLAMA3) {
        cJSON_AddNumberToObject(sc, "low_freq_factor", s->low_freq_factor);
        cJSON_AddNumberToObject(sc, "high_freq_factor", s->high_freq_factor);
        cJSON_AddNumberToObject(sc, "original_max_position_embeddings", s->original_ctx);
    }
    cJSON_AddStringToObject(o, "checkpoint_pairing", ss_pairing_name(m->cfg.pairing));
    cJSON *theta = cJSON_AddArrayToObject(o, "theta");
    cJSON *removed = cJSON_AddArrayToObject(o, "removed");
    for (int f = 0; f < r->n_freq; f++) {
        cJSON_AddItemToArray(theta, cJSON_CreateNumber(r->theta[f]));
        if (!r->active[f])
            cJSON_AddItemToArray(removed, cJSON_CreateNumber(f + 1));
    }
    return o;
}

/* The fields both descriptions share, in one place so they cannot drift. */
static void add_shape(cJSON *o, const ss_model *m)
{
    const ss_config *c = &m->cfg;
    cJSON_AddStringToObject(o, "format", ss_format_name(m->format));
    cJSON_AddStringToObject(o, "architecture", ss_arch_name(c->arch));
    cJSON_AddNumberToObject(o, "n_layer", c->n_layer);
    cJSON_AddNumberToObject(o, "n_head", c->n_head);
    cJSON_AddNumberToObject(o, "n_kv_head", c->n_kv_head);
    cJSON_AddNumberToObject(o, "d_model", c->d_model);
    cJSON_AddNumberToObject(o, "d_head", c->d_head);
    cJSON_AddNumberToObject(o, "d_ff", c->d_ff);
    cJSON_AddNumberToObject(o, "vocab", c->vocab);
}

cJSON *ss_model_identity_json(const ss_model *m, cJSON *path)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        cJSON_Delete(path);
        return NULL;
    }
    cJSON_AddItemToObject(o, "path", path);
    add_shape(o, m);
    cJSON_AddNumberToObject(o, "ctx_len", m->cfg.ctx_len);
    cJSON_AddNumberToObject(o, "attn_scale", m->cfg.attn_scale);
    return o;
}

cJSON *ss_model_describe(const ss_model *m, const ss_rope *rope)
{
    const ss_config *c = &m->cfg;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "path", m->path);
    add_shape(o, m);
    cJSON_AddStringToObject(o, "dtype", ss_dtype_name(m->dtype));
    cJSON_AddNumberToObject(o, "context", c->ctx_len);
    cJSON_AddNumberToObject(o, "norm_eps", c->norm_eps);
    cJSON_AddBoolToObject(o, "norm_add_one", c->norm_add_one);
    cJSON_AddNumberToObject(o, "embed_scale", c->embed_scale);
    cJSON_AddStringToObject(o, "activation", c->act == SS_ACT_SILU ? "silu" : "gelu_tanh");
    cJSON_AddNumberToObject(o, "attn_scale", c->attn_scale);
    cJSON_AddNumberToObject(o, "sliding_window", c->sliding_window);
    cJSON_AddBoolToObject(o, "qkv_bias", c->has_qkv_bias);
    cJSON_AddBoolToObject(o, "tied_output", c->tied_output);
    cJSON_AddNumberToObject(o, "bos_id", c->bos_id);
    cJSON_AddNumberToObject(o, "eos_id", c->eos_id);
    cJSON_AddItemToObject(o, "rope", describe_rope(m, rope ? rope : &m->rope));
    return o;
}
