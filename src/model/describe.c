#include "model/describe.h"

const char *ss_scaling_name(ss_scaling_type t)
{
    switch (t) {
    case SS_SCALE_NONE: return "none";
    case SS_SCALE_LINEAR: return "linear";
    case SS_SCALE_LLAMA3: return "llama3";
    case SS_SCALE_FREQ_FACTORS: return "rope_freqs";
    case SS_SCALE_YARN: return "yarn";
    case SS_SCALE_DYNAMIC: return "dynamic";
    case SS_SCALE_LONGROPE: return "longrope";
    }
    return "?";
}

const char *ss_activation_name(ss_activation a)
{
    switch (a) {
    case SS_ACT_SILU: return "silu";
    case SS_ACT_GELU_TANH: return "gelu_tanh";
    case SS_ACT_GELU_ERF: return "gelu_erf";
    }
    return "?";
}

const char *ss_qk_norm_name(ss_qk_norm q)
{
    return q == SS_QKNORM_HEAD ? "per_head" : q == SS_QKNORM_PROJ ? "projection" : "none";
}

const char *ss_pairing_name(ss_rope_pairing p)
{
    return p == SS_PAIR_HALF ? "half" : "interleaved";
}

static cJSON *number_list(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static void describe_scaling(cJSON *sc, const ss_rope_scaling *s)
{
    cJSON_AddStringToObject(sc, "type", ss_scaling_name(s->type));
    if (s->type == SS_SCALE_NONE || s->type == SS_SCALE_FREQ_FACTORS)
        return;
    if (s->type != SS_SCALE_LONGROPE)
        cJSON_AddNumberToObject(sc, "factor", s->factor);
    if (s->type == SS_SCALE_LLAMA3) {
        cJSON_AddNumberToObject(sc, "low_freq_factor", s->low_freq_factor);
        cJSON_AddNumberToObject(sc, "high_freq_factor", s->high_freq_factor);
    }
    if (s->type == SS_SCALE_LLAMA3 || s->type == SS_SCALE_YARN || s->type == SS_SCALE_LONGROPE)
        cJSON_AddNumberToObject(sc, "original_max_position_embeddings", s->original_ctx);
    if (s->type == SS_SCALE_DYNAMIC || s->type == SS_SCALE_LONGROPE)
        cJSON_AddNumberToObject(sc, "max_position_embeddings", s->max_ctx);
    if (s->type == SS_SCALE_YARN) {
        cJSON_AddNumberToObject(sc, "beta_fast", s->beta_fast > 0 ? s->beta_fast : 32.0);
        cJSON_AddNumberToObject(sc, "beta_slow", s->beta_slow > 0 ? s->beta_slow : 1.0);
    }
    if (s->type == SS_SCALE_LONGROPE) {
        cJSON_AddItemToObject(sc, "short_factor", number_list(s->short_factor, s->n_factors));
        cJSON_AddItemToObject(sc, "long_factor", number_list(s->long_factor, s->n_factors));
    }
}

static cJSON *describe_rope(const ss_model *m, const ss_rope *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "base", r->base);
    cJSON_AddNumberToObject(o, "n_freq", r->n_freq);
    cJSON_AddNumberToObject(o, "rotary_dim", 2 * r->n_freq);
    cJSON_AddNumberToObject(o, "attn_factor", r->attn_factor);
    describe_scaling(cJSON_AddObjectToObject(o, "scaling"), &r->scaling);
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
    cJSON_AddStringToObject(o, "activation", ss_activation_name(c->act));
    cJSON_AddStringToObject(o, "norm", c->norm_type == SS_NORM_LAYER ? "layernorm" : "rmsnorm");
    cJSON_AddStringToObject(o, "qk_norm", ss_qk_norm_name(c->qk_norm));
    /* what observers and the rank / cone / freq analyses call pre-RoPE q, k */
    cJSON_AddStringToObject(o, "pre_rope_qk",
                            c->qk_norm == SS_QKNORM_HEAD ? "projection + bias, then q_norm/k_norm per head"
                            : c->qk_norm == SS_QKNORM_PROJ ? "projection + bias, then q_norm/k_norm over the whole projection"
                                                           : "projection + bias");
    cJSON_AddStringToObject(o, "mlp", c->gated_mlp ? "gated" : "plain");
    cJSON_AddBoolToObject(o, "parallel_residual", c->parallel_residual);
    cJSON_AddNumberToObject(o, "attn_scale", c->attn_scale);
    cJSON_AddNumberToObject(o, "attn_softcap", c->attn_softcap);
    cJSON_AddNumberToObject(o, "final_softcap", c->final_softcap);
    cJSON_AddNumberToObject(o, "sliding_window", c->sliding_window);
    cJSON_AddNumberToObject(o, "rotary_dim", c->rotary_dim);
    cJSON_AddBoolToObject(o, "qkv_bias", c->has_qkv_bias);
    cJSON_AddBoolToObject(o, "tied_output", c->tied_output);
    cJSON_AddNumberToObject(o, "bos_id", c->bos_id);
    cJSON_AddNumberToObject(o, "eos_id", c->eos_id);
    cJSON_AddItemToObject(o, "rope", describe_rope(m, rope ? rope : &m->rope));
    int local_rope = c->rope_local_base > 0;
    if (local_rope) {
        ss_rope scratch;
        const ss_rope *lr = &m->rope_local;
        for (int l = 0; l < c->n_layer && rope; l++)
            if (ss_layer_rope(m, l) == &m->rope_local) {
                lr = ss_layer_rope_override(m, l, rope, &scratch);
                break;
            }
        cJSON_AddItemToObject(o, "rope_local", describe_rope(m, lr));
    }
    /* per layer: its window and which schedule it uses */
    cJSON *layers = cJSON_AddArrayToObject(o, "layers");
    for (int l = 0; l < c->n_layer && (c->per_layer || local_rope); l++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "sliding_window", ss_layer_window(c, l));
        cJSON_AddStringToObject(e, "rope", ss_layer_rope(m, l) == &m->rope ? "global" : "local");
        cJSON_AddItemToArray(layers, e);
    }
    return o;
}
