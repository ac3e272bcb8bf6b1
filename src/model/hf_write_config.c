/* config.json of a model converted to a Hugging Face folder (hf_write.h):
 * the fields each transformers config class reads, from the model's
 * ss_config and RoPE schedule, so that HF and slashscope's own HF loader
 * (config_hf.c) run the model the source described. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "io/atomic_file.h"
#include "model/hf_write_config.h"

/* What each architecture's HF form fixes. */
typedef struct {
    ss_arch arch;
    const char *class_name, *model_type;
    int head_dim_key;  /* the config class takes head_dim (else it must be hidden / heads) */
    int scaling;       /* rope_scaling linear / yarn can be written */
    ss_activation act; /* the only activation the class's name below means */
    const char *act_name;
    /* biases: 0 none; 1 q/k/v/o all or none (attention_bias); 2 q/k/v,
     * never o (Qwen2); 3 every linear layer (GPT-NeoX) */
    int bias;
} arch_form;

static const arch_form forms[] = {
    {SS_ARCH_LLAMA, "LlamaForCausalLM", "llama", 1, 1, SS_ACT_SILU, "silu", 1},
    {SS_ARCH_QWEN2, "Qwen2ForCausalLM", "qwen2", 1, 1, SS_ACT_SILU, "silu", 2},
    {SS_ARCH_PHI3, "Phi3ForCausalLM", "phi3", 0, 0, SS_ACT_SILU, "silu", 0},
    {SS_ARCH_OLMO2, "Olmo2ForCausalLM", "olmo2", 0, 1, SS_ACT_SILU, "silu", 0},
    {SS_ARCH_GEMMA, "GemmaForCausalLM", "gemma", 1, 0, SS_ACT_GELU_TANH, "gelu_pytorch_tanh", 0},
    {SS_ARCH_GEMMA2, "Gemma2ForCausalLM", "gemma2", 1, 0, SS_ACT_GELU_TANH, "gelu_pytorch_tanh",
     0},
    {SS_ARCH_GPTNEOX, "GPTNeoXForCausalLM", "gpt_neox", 0, 0, SS_ACT_GELU_ERF, "gelu", 3},
};

static const arch_form *form_of(ss_arch a)
{
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (forms[i].arch == a)
            return &forms[i];
    return NULL;
}

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

/* The layers' biases fit the class (arch_form.bias); *bias: they have them. */
static ss_code check_biases(const ss_model *m, const arch_form *f, int *bias, ss_error *err)
{
    static const char *const want[] = {
        "none", "all of q/k/v/o or none", "q/k/v and not o", "every linear layer"};
    *bias = m->layers[0].bq != NULL;
    for (int l = 0; l < m->cfg.n_layer; l++) {
        const ss_layer_weights *w = &m->layers[l];
        int qkv = w->bq && w->bk && w->bv, none = !w->bq && !w->bk && !w->bv && !w->bo;
        int mlp = w->b_up || w->b_down, ok;
        switch (f->bias) {
        case 1: ok = !mlp && (*bias ? qkv && w->bo : none); break;
        case 2: ok = !mlp && qkv && !w->bo; break;
        case 3: ok = qkv && w->bo && w->b_up && w->b_down; break;
        default: ok = none && !mlp; break;
        }
        if (!ok)
            return ss_fail(err, SS_ERR_UNSUPPORTED,
                           "%s: layer %d's biases do not fit %s (which has biases on %s)", m->path,
                           l, f->class_name, want[f->bias]);
    }
    return SS_OK;
}

/* rope_scaling: null, or linear / yarn where the class has them; the other
 * schedules a llama2.c or GGUF model can carry have no config form here. */
static ss_code rope_scaling(const ss_model *m, const arch_form *f, cJSON *root, ss_error *err)
{
    const ss_rope_scaling *s = &m->cfg.scaling;
    if (s->type == SS_SCALE_NONE) {
        if (root)
            cJSON_AddNullToObject(root, "rope_scaling");
        return SS_OK;
    }
    if (!f->scaling || (s->type != SS_SCALE_LINEAR && s->type != SS_SCALE_YARN))
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: its RoPE scaling (%s) has no Hugging Face config form here (written: "
                       "none, and linear or yarn for llama, qwen2, olmo2); use the model's own "
                       "HF checkpoint", m->path,
                       s->type == SS_SCALE_FREQ_FACTORS ? "rope_freqs.weight divisors"
                       : s->type == SS_SCALE_LONGROPE   ? "longrope factors"
                                                        : "linear / yarn");
    if (!root)
        return SS_OK;
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

static void add_number_or_null(cJSON *root, const char *key, double v, int present)
{
    if (present)
        cJSON_AddNumberToObject(root, key, v);
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
    const arch_form *f = form_of(c->arch);
    int bias;
    if (!f)
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: writing a %s model as a Hugging Face folder is not supported; use the "
                       "model's own HF checkpoint", m->path, ss_arch_name(c->arch));
    if (c->act != f->act)
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: its activation differs from what %s runs",
                       m->path, f->class_name);
    if (!f->head_dim_key && c->d_head * c->n_head != c->d_model)
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: head_dim %d is not hidden_size / heads, "
                       "which %s assumes", m->path, c->d_head, f->class_name);
    if (c->rotary_dim != c->d_head && c->arch != SS_ARCH_GPTNEOX)
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: partial rotary (%d of %d dims) has no %s "
                       "form", m->path, c->rotary_dim, c->d_head, f->class_name);
    if (c->arch == SS_ARCH_GPTNEOX && c->n_kv_head != c->n_head)
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: %s has no grouped-query attention",
                       m->path, f->class_name);
    ss_code rc = check_biases(m, f, &bias, err);
    return rc ? rc : rope_scaling(m, f, NULL, err);
}

/* The fields only some classes have. */
static void family_fields(const ss_model *m, cJSON *root)
{
    const ss_config *c = &m->cfg;
    ss_arch a = c->arch;
    int gemma = a == SS_ARCH_GEMMA || a == SS_ARCH_GEMMA2;
    if (gemma)
        cJSON_AddStringToObject(root, "hidden_activation", "gelu_pytorch_tanh");
    if (a == SS_ARCH_GPTNEOX) {
        cJSON_AddNumberToObject(root, "layer_norm_eps", f32_decimal(c->norm_eps));
        cJSON_AddNumberToObject(root, "rotary_pct", (double)c->rotary_dim / c->d_head);
        cJSON_AddNumberToObject(root, "rotary_emb_base", f32_decimal(m->rope.base));
        cJSON_AddBoolToObject(root, "use_parallel_residual", c->parallel_residual);
    } else {
        cJSON_AddNumberToObject(root, "rms_norm_eps", f32_decimal(c->norm_eps));
        cJSON_AddNumberToObject(root, "rope_theta", f32_decimal(m->rope.base));
    }
    if (a == SS_ARCH_QWEN2) {
        cJSON_AddBoolToObject(root, "use_sliding_window", 0);
        cJSON_AddNullToObject(root, "sliding_window");
    }
    if (a == SS_ARCH_PHI3) /* the class's; read only with longrope, which is refused */
        cJSON_AddNumberToObject(root, "original_max_position_embeddings",
                                c->scaling.original_ctx > 0 ? c->scaling.original_ctx : c->ctx_len);
    if (a == SS_ARCH_PHI3 || a == SS_ARCH_GEMMA2)
        add_number_or_null(root, "sliding_window", c->sliding_window, c->sliding_window > 0);
    if (a == SS_ARCH_GEMMA2) {
        /* scores x query_pre_attn_scalar^-1/2 */
        double q = 1.0 / (c->attn_scale * c->attn_scale);
        cJSON_AddNumberToObject(root, "query_pre_attn_scalar",
                                fabs(q - round(q)) < 1e-9 * q ? round(q) : q);
        add_number_or_null(root, "attn_logit_softcapping", f32_decimal(c->attn_softcap),
                           c->attn_softcap > 0);
        add_number_or_null(root, "final_logit_softcapping", f32_decimal(c->final_softcap),
                           c->final_softcap > 0);
    }
}

ss_code ss_hf_config_write(const ss_model *m, const char *path, ss_error *err)
{
    const ss_config *c = &m->cfg;
    ss_code rc = ss_hf_config_check(m, err);
    if (rc)
        return rc;
    const arch_form *f = form_of(c->arch);
    cJSON *root = cJSON_CreateObject();
    cJSON *arch = cJSON_AddArrayToObject(root, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString(f->class_name));
    cJSON_AddStringToObject(root, "model_type", f->model_type);
    cJSON_AddNumberToObject(root, "hidden_size", c->d_model);
    cJSON_AddNumberToObject(root, "intermediate_size", c->d_ff);
    cJSON_AddNumberToObject(root, "num_hidden_layers", c->n_layer);
    cJSON_AddNumberToObject(root, "num_attention_heads", c->n_head);
    if (c->arch != SS_ARCH_GPTNEOX)
        cJSON_AddNumberToObject(root, "num_key_value_heads", c->n_kv_head);
    if (f->head_dim_key)
        cJSON_AddNumberToObject(root, "head_dim", c->d_head);
    cJSON_AddNumberToObject(root, "vocab_size", c->vocab);
    cJSON_AddNumberToObject(root, "max_position_embeddings", c->ctx_len);
    family_fields(m, root);
    if (c->arch != SS_ARCH_GPTNEOX)
        rope_scaling(m, f, root, err); /* checked above */
    cJSON_AddStringToObject(root, "hidden_act", f->act_name);
    if (f->bias != 2) /* Qwen2's q/k/v biases are not a setting */
        cJSON_AddBoolToObject(root, "attention_bias",
                              f->bias == 3 || (f->bias == 1 && m->layers[0].bq != NULL));
    if (c->arch == SS_ARCH_LLAMA)
        cJSON_AddBoolToObject(root, "mlp_bias", 0);
    cJSON_AddBoolToObject(root, "tie_word_embeddings", m->output == m->tok_embd);
    add_number_or_null(root, "bos_token_id", c->bos_id, c->bos_id >= 0);
    add_number_or_null(root, "eos_token_id", c->eos_id, c->eos_id >= 0);
    cJSON_AddStringToObject(root, "torch_dtype", torch_dtype(m->dtype));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return ss_fail(err, SS_ERR_NOMEM, "%s: out of memory", path);
    rc = ss_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}
