/* config.json of a model converted to a Hugging Face folder (hf_write.h):
 * the fields transformers' LlamaConfig reads, from the model's ss_config
 * and RoPE schedule, so that HF and slashscope's own HF loader
 * (config_hf.c) run the same model the source described. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "io/atomic_file.h"
#include "model/hf_write_config.h"

/* A GGUF stores epsilons and bases as float32 (1e-5 becomes
 * 9.99999974737875e-06): the config gets the shortest decimal that is the
 * same float32, which is what the HF config it was converted from said.
 * Other values (llama2.c's, in double) stay as they are. */
static double f32_decimal(double v)
{
    float f = (float)v;
    if ((double)f != v)
        return v;
    char text[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (strtof(text, NULL) == f)
            return strtod(text, NULL);
    }
    return v;
}

/* Every layer has q/k/v/o biases, or none (LlamaConfig.attention_bias
 * covers the four), and no MLP bias that llama's GGUF names can hold. */
static ss_code check_biases(const ss_model *m, int *bias, ss_error *err)
{
    *bias = m->layers[0].bq != NULL;
    for (int l = 0; l < m->cfg.n_layer; l++) {
        const ss_layer_weights *w = &m->layers[l];
        int all = w->bq && w->bk && w->bv && w->bo, none = !w->bq && !w->bk && !w->bv && !w->bo;
        if (!(*bias ? all : none) || w->b_up || w->b_down)
            return ss_fail(err, SS_ERR_UNSUPPORTED,
                           "%s: layer %d has biases on only some of q/k/v/o (or MLP biases); "
                           "LlamaForCausalLM has them on all four or none", m->path, l);
    }
    return SS_OK;
}

/* rope_scaling: null, linear or yarn; the other schedules a llama2.c or
 * GGUF model can carry have no LlamaConfig form. */
static ss_code rope_scaling(const ss_model *m, cJSON *root, ss_error *err)
{
    const ss_rope_scaling *s = &m->cfg.scaling;
    if (s->type == SS_SCALE_NONE) {
        cJSON_AddNullToObject(root, "rope_scaling");
        return SS_OK;
    }
    if (s->type != SS_SCALE_LINEAR && s->type != SS_SCALE_YARN)
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: its RoPE scaling (%s) has no Hugging Face config form here (only none, "
                       "linear and yarn are written); use the model's own HF checkpoint", m->path,
                       s->type == SS_SCALE_FREQ_FACTORS ? "rope_freqs.weight divisors"
                                                        : "per-frequency factors");
    cJSON *o = cJSON_AddObjectToObject(root, "rope_scaling");
    int yarn = s->type == SS_SCALE_YARN;
    cJSON_AddStringToObject(o, "rope_type", yarn ? "yarn" : "linear");
    cJSON_AddNumberToObject(o, "factor", f32_decimal(s->factor));
    if (yarn) {
        cJSON_AddNumberToObject(o, "original_max_position_embeddings", s->original_ctx);
        if (s->attn_factor > 0)
            cJSON_AddNumberToObject(o, "attention_factor", f32_decimal(s->attn_factor));
        if (s->beta_fast > 0)
            cJSON_AddNumberToObject(o, "beta_fast", s->beta_fast);
        if (s->beta_slow > 0)
            cJSON_AddNumberToObject(o, "beta_slow", s->beta_slow);
    }
    return SS_OK;
}

static void add_token(cJSON *root, const char *key, int id)
{
    if (id >= 0)
        cJSON_AddNumberToObject(root, key, id);
    else
        cJSON_AddNullToObject(root, key);
}

static const char *torch_dtype(ss_dtype t)
{
    return t == SS_DT_F16 ? "float16" : t == SS_DT_BF16 ? "bfloat16" : "float32";
}

ss_code ss_hf_config_check(const ss_model *m, ss_error *err)
{
    const ss_config *c = &m->cfg;
    int bias;
    if (c->arch != SS_ARCH_LLAMA)
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: writing a %s %s model as a Hugging Face folder is not supported (only "
                       "llama: llama2.c checkpoints and GGUF arch llama); use the model's own HF "
                       "checkpoint", m->path, ss_format_name(m->format), ss_arch_name(c->arch));
    if (c->rotary_dim != c->d_head)
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: partial rotary (%d of %d dims) in an interleaved checkpoint has no "
                       "LlamaForCausalLM form", m->path, c->rotary_dim, c->d_head);
    ss_code rc = check_biases(m, &bias, err);
    if (rc)
        return rc;
    cJSON *tmp = cJSON_CreateObject();
    rc = tmp ? rope_scaling(m, tmp, err) : ss_fail(err, SS_ERR_NOMEM, "config.json: out of memory");
    cJSON_Delete(tmp);
    return rc;
}

ss_code ss_hf_config_write(const ss_model *m, const char *path, ss_error *err)
{
    const ss_config *c = &m->cfg;
    ss_code rc = ss_hf_config_check(m, err);
    if (rc)
        return rc;
    cJSON *root = cJSON_CreateObject();
    cJSON *arch = cJSON_AddArrayToObject(root, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("LlamaForCausalLM"));
    cJSON_AddStringToObject(root, "model_type", "llama");
    cJSON_AddNumberToObject(root, "hidden_size", c->d_model);
    cJSON_AddNumberToObject(root, "intermediate_size", c->d_ff);
    cJSON_AddNumberToObject(root, "num_hidden_layers", c->n_layer);
    cJSON_AddNumberToObject(root, "num_attention_heads", c->n_head);
    cJSON_AddNumberToObject(root, "num_key_value_heads", c->n_kv_head);
    cJSON_AddNumberToObject(root, "head_dim", c->d_head);
    cJSON_AddNumberToObject(root, "vocab_size", c->vocab);
    cJSON_AddNumberToObject(root, "max_position_embeddings", c->ctx_len);
    cJSON_AddNumberToObject(root, "rms_norm_eps", f32_decimal(c->norm_eps));
    cJSON_AddNumberToObject(root, "rope_theta", f32_decimal(m->rope.base));
    rope_scaling(m, root, err); /* checked above */
    cJSON_AddStringToObject(root, "hidden_act", "silu");
    cJSON_AddBoolToObject(root, "attention_bias", m->layers[0].bq != NULL);
    cJSON_AddBoolToObject(root, "mlp_bias", 0);
    cJSON_AddBoolToObject(root, "tie_word_embeddings", m->output == m->tok_embd);
    add_token(root, "bos_token_id", c->bos_id);
    add_token(root, "eos_token_id", c->eos_id);
    cJSON_AddStringToObject(root, "torch_dtype", torch_dtype(m->dtype));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return ss_fail(err, SS_ERR_NOMEM, "%s: out of memory", path);
    rc = ss_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}
