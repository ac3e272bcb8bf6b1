#include <math.h>
#include <string.h>

#include "io/json.h"
#include "model/config.h"

static const char *const supported_types =
    "llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3_text, olmo2, gpt_neox, phi3";

static ss_code arch_from_model_type(const char *type, const char *file, ss_arch *arch,
                                    ss_error *err)
{
    static const struct { const char *name; ss_arch arch; } known[] = {
        {"llama", SS_ARCH_LLAMA},   {"mistral", SS_ARCH_MISTRAL}, {"qwen2", SS_ARCH_QWEN2},
        {"qwen3", SS_ARCH_QWEN3},   {"gemma", SS_ARCH_GEMMA},     {"gemma2", SS_ARCH_GEMMA2},
        {"gemma3_text", SS_ARCH_GEMMA3}, {"olmo2", SS_ARCH_OLMO2}, {"gpt_neox", SS_ARCH_GPTNEOX},
        {"phi3", SS_ARCH_PHI3},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(type, known[i].name) == 0) {
            *arch = known[i].arch;
            return SS_OK;
        }
    if (strcmp(type, "gemma3") == 0)
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: model_type 'gemma3' is the multimodal checkpoint; only the text model "
                       "(model_type 'gemma3_text', Gemma3ForCausalLM) is supported (supported: %s)",
                       file, supported_types);
    return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: model_type '%s' is not supported (supported: %s)",
                   file, type, supported_types);
}

/* A number that may be present, absent (default) or null (0 = disabled):
 * Gemma 2's softcaps default to 50 / 30 but null switches them off. */
static ss_code num_or_null(const cJSON *json, const char *file, const char *key, double def,
                           double *v, ss_error *err)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(json, key);
    *v = def;
    if (x && cJSON_IsNull(x)) {
        *v = 0;
        return SS_OK;
    }
    return ss_json_num(json, file, key, 0, v, err);
}

/* sliding_window: absent keeps the default, null means none. */
static ss_code num_or_null_int(const cJSON *json, const char *file, const char *key, long long *v,
                               ss_error *err)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(json, key);
    if (x && cJSON_IsNull(x)) {
        *v = 0;
        return SS_OK;
    }
    return ss_json_int(json, file, key, 0, 1, 1LL << 30, v, err);
}

static ss_code factor_list(const cJSON *rs, const char *file, const char *key, double *out,
                           int *n, ss_error *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(rs, key);
    if (!cJSON_IsArray(a))
        return ss_fail(err, SS_ERR_MISSING, "%s: rope_scaling.%s must be a list of numbers", file,
                       key);
    int count = cJSON_GetArraySize(a);
    if (count < 1 || count > SS_ROPE_MAX_FREQ)
        return ss_fail(err, SS_ERR_VALUE, "%s: rope_scaling.%s has %d entries (1..%d expected)",
                       file, key, count, SS_ROPE_MAX_FREQ);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e))
            return ss_fail(err, SS_ERR_FORMAT, "%s: rope_scaling.%s[%d] must be a number", file,
                           key, i);
        out[i++] = e->valuedouble;
    }
    *n = count;
    return SS_OK;
}

static ss_code read_yarn(const cJSON *rs, const char *file, ss_rope_scaling *s, ss_error *err)
{
    ss_code rc;
    if ((rc = ss_json_num(rs, file, "beta_fast", 0, &s->beta_fast, err)) ||
        (rc = ss_json_num(rs, file, "beta_slow", 0, &s->beta_slow, err)) ||
        (rc = ss_json_num(rs, file, "attention_factor", 0, &s->attn_factor, err)) ||
        (rc = ss_json_num(rs, file, "mscale", 0, &s->mscale, err)) ||
        (rc = ss_json_num(rs, file, "mscale_all_dim", 0, &s->mscale_all_dim, err)))
        return rc;
    int truncate = 1;
    if ((rc = ss_json_bool(rs, file, "truncate", 0, &truncate, err)))
        return rc;
    if (!truncate)
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: rope_scaling.truncate = false (yarn without a whole-number correction "
                       "range) is not supported", file);
    return SS_OK;
}

/* rope_scaling of any family. `max_ctx` is max_position_embeddings and
 * `top_orig` a top-level original_max_position_embeddings (Phi-3), 0 if
 * absent. */
static ss_code read_rope_scaling(const cJSON *json, const char *file, int max_ctx, int top_orig,
                                 ss_rope_scaling *s, ss_error *err)
{
    memset(s, 0, sizeof *s);
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(json, "rope_scaling");
    if (!rs || cJSON_IsNull(rs))
        return SS_OK;
    if (!cJSON_IsObject(rs))
        return ss_fail(err, SS_ERR_FORMAT, "%s: field 'rope_scaling' must be an object or null", file);
    const char *type = NULL;
    ss_code rc = ss_json_str(rs, file, "rope_type", 0, &type, err);
    if (!rc && !type)
        rc = ss_json_str(rs, file, "type", 0, &type, err);
    if (rc)
        return rc;
    if (!type || strcmp(type, "default") == 0)
        return SS_OK;
    int is_longrope = strcmp(type, "longrope") == 0 || strcmp(type, "su") == 0;
    long long orig = top_orig > 0 ? top_orig : max_ctx;
    s->factor = 1.0;
    s->max_ctx = max_ctx;
    if ((rc = ss_json_num(rs, file, "factor", !is_longrope, &s->factor, err)) ||
        (rc = ss_json_int(rs, file, "original_max_position_embeddings", 0, 1, 1 << 30, &orig, err)))
        return rc;
    s->original_ctx = (int)orig;
    if (strcmp(type, "linear") == 0) {
        s->type = SS_SCALE_LINEAR;
        return SS_OK;
    }
    if (strcmp(type, "dynamic") == 0) {
        s->type = SS_SCALE_DYNAMIC;
        return SS_OK;
    }
    if (strcmp(type, "yarn") == 0) {
        s->type = SS_SCALE_YARN;
        return read_yarn(rs, file, s, err);
    }
    if (is_longrope) {
        /* HF: the attention factor comes from max / original when the
         * config has a top-level original_max_position_embeddings (Phi-3) */
        s->type = SS_SCALE_LONGROPE;
        if (top_orig > 0)
            s->original_ctx = top_orig;
        int ns = 0, nl = 0;
        if ((rc = factor_list(rs, file, "short_factor", s->short_factor, &ns, err)) ||
            (rc = factor_list(rs, file, "long_factor", s->long_factor, &nl, err)) ||
            (rc = ss_json_num(rs, file, "attention_factor", 0, &s->attn_factor, err)))
            return rc;
        if (ns != nl)
            return ss_fail(err, SS_ERR_VALUE,
                           "%s: rope_scaling.short_factor has %d entries but long_factor %d", file,
                           ns, nl);
        s->n_factors = ns;
        if (top_orig <= 0) { /* factor = max / original */
            double mx = s->factor * s->original_ctx;
            if (!(mx >= 1 && mx <= (double)(1 << 30)))
                return ss_fail(err, SS_ERR_VALUE,
                               "%s: rope_scaling.factor %g x original_max_position_embeddings "
                               "%d must be a context from 1 to 2^30", file, s->factor,
                               s->original_ctx);
            s->max_ctx = (int)mx;
        }
        return SS_OK;
    }
    if (strcmp(type, "llama3") == 0) {
        s->type = SS_SCALE_LLAMA3;
        s->low_freq_factor = 1.0;
        s->high_freq_factor = 4.0;
        if ((rc = ss_json_num(rs, file, "low_freq_factor", 1, &s->low_freq_factor, err)) ||
            (rc = ss_json_num(rs, file, "high_freq_factor", 1, &s->high_freq_factor, err)) ||
            (rc = ss_json_int(rs, file, "original_max_position_embeddings", 1, 1, 1 << 30, &orig,
                              err)))
            return rc;
        s->original_ctx = (int)orig;
        return SS_OK;
    }
    return ss_fail(err, SS_ERR_UNSUPPORTED,
                   "%s: rope_scaling type '%s' is not supported (supported: default, linear, "
                   "llama3, yarn, dynamic, longrope)", file, type);
}

/* A special token id: absent or null (-1), a whole number, or a list of them
 * (Llama 3.1's eos_token_id; the first is kept). */
static ss_code token_id(const cJSON *json, const char *file, const char *key, long long *id,
                        ss_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, key);
    *id = -1;
    if (cJSON_IsArray(v))
        v = cJSON_GetArrayItem(v, 0);
    if (!v || cJSON_IsNull(v))
        return SS_OK;
    double x = cJSON_IsNumber(v) ? v->valuedouble : -1;
    if (!(x >= 0 && x <= 2147483647.0 && x == (double)(long long)x))
        return ss_fail(err, SS_ERR_FORMAT,
                       "%s: field '%s' must be a token id (a whole number from 0 to 2147483647) or "
                       "a list of them", file, key);
    *id = (long long)x;
    return SS_OK;
}

static int is_gemma(ss_arch a)
{
    return a == SS_ARCH_GEMMA || a == SS_ARCH_GEMMA2 || a == SS_ARCH_GEMMA3;
}

static ss_code read_activation(const cJSON *json, const char *file, ss_config *cfg, ss_error *err)
{
    cfg->act = is_gemma(cfg->arch) ? SS_ACT_GELU_TANH
               : cfg->arch == SS_ARCH_GPTNEOX ? SS_ACT_GELU_ERF : SS_ACT_SILU;
    const char *act = NULL;
    ss_code rc = ss_json_str(json, file, "hidden_activation", 0, &act, err);
    if (!rc && !act)
        rc = ss_json_str(json, file, "hidden_act", 0, &act, err);
    if (rc || !act)
        return rc;
    if (strcmp(act, "silu") == 0 || strcmp(act, "swish") == 0)
        cfg->act = SS_ACT_SILU;
    else if (strcmp(act, "gelu_pytorch_tanh") == 0 || strcmp(act, "gelu_tanh") == 0 ||
             strcmp(act, "gelu_new") == 0 || strcmp(act, "gelu_fast") == 0 ||
             (cfg->arch == SS_ARCH_GEMMA && strcmp(act, "gelu") == 0))
        /* Gemma v1 configs say "gelu" but transformers runs the tanh form */
        cfg->act = SS_ACT_GELU_TANH;
    else if (strcmp(act, "gelu") == 0)
        cfg->act = SS_ACT_GELU_ERF; /* PyTorch's exact erf GELU (Pythia) */
    else
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: activation '%s' is not supported (supported: silu, gelu, "
                       "gelu_pytorch_tanh, gelu_new)", file, act);
    return SS_OK;
}

/* Which layers are local: `layer_types` when given, else the family's rule
 * (Gemma 2: even layers; Gemma 3: unless (i + 1) % pattern == 0; Qwen2/3:
 * layers from max_window_layers on, only with use_sliding_window). */
static ss_code read_layer_types(const cJSON *json, const char *file, ss_config *cfg, ss_error *err)
{
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(json, "layer_types");
    long long pattern = 6, max_window = 28; /* the config classes' defaults */
    ss_code rc;
    if (cfg->arch == SS_ARCH_GEMMA3 &&
        (rc = ss_json_int(json, file, "sliding_window_pattern", 0, 1, 1 << 30, &pattern, err)))
        return rc;
    if ((cfg->arch == SS_ARCH_QWEN2 || cfg->arch == SS_ARCH_QWEN3) &&
        (rc = ss_json_int(json, file, "max_window_layers", 0, 0, 1 << 30, &max_window, err)))
        return rc;
    if (cfg->n_layer > SS_MAX_LAYERS)
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: %d layers with per-layer attention types; at most %d are supported",
                       file, cfg->n_layer, SS_MAX_LAYERS);
    cfg->per_layer = 1;
    if (lt && !cJSON_IsNull(lt)) {
        if (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != cfg->n_layer)
            return ss_fail(err, SS_ERR_FORMAT,
                           "%s: field 'layer_types' must list one type per layer (%d)", file,
                           cfg->n_layer);
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, lt) {
            const char *t = cJSON_IsString(e) ? e->valuestring : "";
            if (strcmp(t, "sliding_attention") != 0 && strcmp(t, "full_attention") != 0)
                return ss_fail(err, SS_ERR_UNSUPPORTED,
                               "%s: layer_types[%d] = '%s' (supported: sliding_attention, "
                               "full_attention)", file, i, t);
            cfg->layer_local[i++] = t[0] == 's';
        }
        return SS_OK;
    }
    for (int i = 0; i < cfg->n_layer; i++)
        cfg->layer_local[i] = cfg->arch == SS_ARCH_GEMMA2   ? i % 2 == 0
                              : cfg->arch == SS_ARCH_GEMMA3 ? (i + 1) % pattern != 0
                                                            : i >= max_window;
    return SS_OK;
}

/* Sliding windows. Mistral: every layer; Gemma 2/3: their local layers;
 * Qwen2/3: only with use_sliding_window; Phi-3: every layer. */
static ss_code read_windows(const cJSON *json, const char *file, ss_config *cfg, ss_error *err)
{
    long long window = 0;
    ss_code rc;
    if (cfg->arch == SS_ARCH_GEMMA2 || cfg->arch == SS_ARCH_GEMMA3)
        window = 4096; /* the config classes' default */
    int use = cfg->arch != SS_ARCH_QWEN2 && cfg->arch != SS_ARCH_QWEN3;
    if ((cfg->arch == SS_ARCH_QWEN2 || cfg->arch == SS_ARCH_QWEN3) &&
        (rc = ss_json_bool(json, file, "use_sliding_window", 0, &use, err)))
        return rc;
    if (!use || cfg->arch == SS_ARCH_GPTNEOX || cfg->arch == SS_ARCH_OLMO2 ||
        cfg->arch == SS_ARCH_LLAMA || cfg->arch == SS_ARCH_GEMMA)
        return SS_OK;
    if ((rc = num_or_null_int(json, file, "sliding_window", &window, err)))
        return rc;
    cfg->sliding_window = (int)window;
    /* Gemma 3's local layers also carry the local RoPE, window or not */
    if (cfg->arch == SS_ARCH_MISTRAL || cfg->arch == SS_ARCH_PHI3 ||
        (window <= 0 && cfg->arch != SS_ARCH_GEMMA3))
        return SS_OK;
    return read_layer_types(json, file, cfg, err);
}

static ss_code read_dims(const cJSON *json, const char *file, ss_config *cfg, ss_error *err)
{
    const long long big = 1LL << 30;
    long long hidden = 0, inter = 0, layers = 0, heads = 0, kv = -1, head_dim = -1, vocab = 0;
    long long ctx = 2048, bos = -1, eos = -1;
    ss_code rc;
    if ((rc = ss_json_int(json, file, "hidden_size", 1, 1, big, &hidden, err)) ||
        (rc = ss_json_int(json, file, "intermediate_size", 1, 1, big, &inter, err)) ||
        (rc = ss_json_int(json, file, "num_hidden_layers", 1, 1, 100000, &layers, err)) ||
        (rc = ss_json_int(json, file, "num_attention_heads", 1, 1, 65536, &heads, err)) ||
        (rc = ss_json_int(json, file, "num_key_value_heads", 0, 1, 65536, &kv, err)) ||
        (rc = ss_json_int(json, file, "head_dim", 0, 2, 65536, &head_dim, err)) ||
        (rc = ss_json_int(json, file, "vocab_size", 1, 1, big, &vocab, err)) ||
        (rc = ss_json_int(json, file, "max_position_embeddings", 0, 1, big, &ctx, err)))
        return rc;
    if ((rc = token_id(json, file, "bos_token_id", &bos, err)) ||
        (rc = token_id(json, file, "eos_token_id", &eos, err)))
        return rc;
    cfg->d_model = (int)hidden;
    cfg->d_ff = (int)inter;
    cfg->n_layer = (int)layers;
    cfg->n_head = (int)heads;
    cfg->n_kv_head = kv > 0 ? (int)kv : (int)heads;
    if (head_dim <= 0 && hidden % heads)
        return ss_fail(err, SS_ERR_FORMAT,
                       "%s: hidden_size %lld is not a multiple of num_attention_heads %lld and no "
                       "head_dim is given", file, hidden, heads);
    cfg->d_head = head_dim > 0 ? (int)head_dim : (int)(hidden / heads);
    cfg->vocab = (int)vocab;
    cfg->ctx_len = (int)ctx;
    cfg->bos_id = (int)bos;
    cfg->eos_id = (int)eos;
    return SS_OK;
}

/* RoPE: base, partial rotary, scaling, Gemma 3's local base. */
static ss_code read_rope(const cJSON *json, const char *file, ss_config *cfg, double *rope_base,
                         ss_error *err)
{
    ss_code rc;
    *rope_base = 10000.0;
    double frac = cfg->arch == SS_ARCH_GPTNEOX ? 0.25 : 1.0;
    long long top_orig = 0;
    if ((cfg->arch == SS_ARCH_GPTNEOX &&
         (rc = ss_json_num(json, file, "rotary_emb_base", 0, rope_base, err))) ||
        (rc = ss_json_num(json, file, "rope_theta", 0, rope_base, err)) ||
        (cfg->arch == SS_ARCH_GPTNEOX &&
         (rc = ss_json_num(json, file, "rotary_pct", 0, &frac, err))) ||
        (rc = ss_json_num(json, file, "partial_rotary_factor", 0, &frac, err)) ||
        (rc = ss_json_int(json, file, "original_max_position_embeddings", 0, 1, 1 << 30,
                          &top_orig, err)))
        return rc;
    if (!(frac > 0 && frac <= 1))
        return ss_fail(err, SS_ERR_VALUE, "%s: the rotary fraction %g must be in (0, 1]", file, frac);
    /* HF: int(head_dim * partial_rotary_factor) */
    cfg->rotary_dim = (int)(cfg->d_head * frac);
    if (cfg->rotary_dim < 2 || cfg->rotary_dim % 2)
        return ss_fail(err, SS_ERR_VALUE,
                       "%s: the rotary part of each head (%d of head_dim %d) must be even and at "
                       "least 2", file, cfg->rotary_dim, cfg->d_head);
    if ((rc = read_rope_scaling(json, file, cfg->ctx_len, (int)top_orig, &cfg->scaling, err)))
        return rc;
    if (cfg->arch == SS_ARCH_GEMMA3) {
        cfg->rope_local_base = 10000.0;
        if ((rc = ss_json_num(json, file, "rope_local_base_freq", 0, &cfg->rope_local_base, err)))
            return rc;
    }
    return SS_OK;
}

/* Layer structure and attention details of each family. */
static ss_code read_family(const cJSON *json, const char *file, ss_config *cfg, ss_error *err)
{
    ss_arch a = cfg->arch;
    ss_code rc;
    cfg->norm_type = a == SS_ARCH_GPTNEOX ? SS_NORM_LAYER : SS_NORM_RMS;
    cfg->gated_mlp = a != SS_ARCH_GPTNEOX;
    cfg->parallel_residual = a == SS_ARCH_GPTNEOX;
    if (a == SS_ARCH_GPTNEOX &&
        (rc = ss_json_bool(json, file, "use_parallel_residual", 0, &cfg->parallel_residual, err)))
        return rc;
    cfg->qk_norm = a == SS_ARCH_QWEN3 || a == SS_ARCH_GEMMA3 ? SS_QKNORM_HEAD
                   : a == SS_ARCH_OLMO2                    ? SS_QKNORM_PROJ
                                                           : SS_QKNORM_NONE;
    cfg->qkv_layout = a == SS_ARCH_PHI3 ? SS_QKV_BLOCKED
                      : a == SS_ARCH_GPTNEOX ? SS_QKV_PER_HEAD : SS_QKV_SEPARATE;

    /* Defaults follow each transformers config class. */
    int tied = is_gemma(a);
    if ((rc = ss_json_bool(json, file, "tie_word_embeddings", 0, &tied, err)))
        return rc;
    cfg->tied_output = tied;
    int bias = a == SS_ARCH_QWEN2 || a == SS_ARCH_GPTNEOX;
    if (a != SS_ARCH_QWEN2 && (rc = ss_json_bool(json, file, "attention_bias", 0, &bias, err)))
        return rc;
    cfg->has_qkv_bias = bias;
    if ((rc = read_activation(json, file, cfg, err)))
        return rc;

    cfg->attn_scale = 1.0 / sqrt((double)cfg->d_head);
    double qpas = a == SS_ARCH_GEMMA2 || a == SS_ARCH_GEMMA3 ? 256 : 0;
    if ((rc = ss_json_num(json, file, "query_pre_attn_scalar", 0, &qpas, err)))
        return rc;
    if (qpas < 0 || !isfinite(qpas))
        return ss_fail(err, SS_ERR_VALUE, "%s: query_pre_attn_scalar %g must be positive", file, qpas);
    if (qpas > 0)
        cfg->attn_scale = 1.0 / sqrt(qpas);
    if ((rc = num_or_null(json, file, "attn_logit_softcapping", a == SS_ARCH_GEMMA2 ? 50.0 : 0,
                          &cfg->attn_softcap, err)) ||
        (rc = num_or_null(json, file, "final_logit_softcapping", a == SS_ARCH_GEMMA2 ? 30.0 : 0,
                          &cfg->final_softcap, err)))
        return rc;
    if (cfg->attn_softcap < 0 || cfg->final_softcap < 0)
        return ss_fail(err, SS_ERR_VALUE, "%s: softcapping values must be positive or null", file);
    return read_windows(json, file, cfg, err);
}

ss_code ss_config_from_hf(const cJSON *json, const char *file, ss_config *cfg, double *rope_base,
                          ss_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    const char *type = NULL;
    ss_code rc = ss_json_str(json, file, "model_type", 1, &type, err);
    if (rc || (rc = arch_from_model_type(type, file, &cfg->arch, err)) ||
        (rc = read_dims(json, file, cfg, err)))
        return rc;
    cfg->norm_eps = cfg->arch == SS_ARCH_GPTNEOX ? 1e-5 : 1e-6;
    if ((rc = ss_json_num(json, file, cfg->arch == SS_ARCH_GPTNEOX ? "layer_norm_eps" : "rms_norm_eps",
                          0, &cfg->norm_eps, err)) ||
        (rc = read_rope(json, file, cfg, rope_base, err)) ||
        (rc = read_family(json, file, cfg, err)))
        return rc;
    cfg->norm_add_one = is_gemma(cfg->arch);
    cfg->embed_scale = is_gemma(cfg->arch) ? (double)(float)sqrt((double)cfg->d_model) : 1.0;
    cfg->pairing = SS_PAIR_HALF;
    return SS_OK;
}
