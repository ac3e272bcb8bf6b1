#include <math.h>
#include <string.h>

#include "io/json.h"
#include "model/config.h"

static const char *const supported_types = "llama, mistral, qwen2, gemma";

static ss_code arch_from_model_type(const char *type, const char *file, ss_arch *arch,
                                    ss_error *err)
{
    if (strcmp(type, "llama") == 0)
        *arch = SS_ARCH_LLAMA;
    else if (strcmp(type, "mistral") == 0)
        *arch = SS_ARCH_MISTRAL;
    else if (strcmp(type, "qwen2") == 0)
        *arch = SS_ARCH_QWEN2;
    else if (strcmp(type, "gemma") == 0)
        *arch = SS_ARCH_GEMMA;
    else
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: model_type '%s' is not supported (supported: %s)", file, type,
                       supported_types);
    return SS_OK;
}

static ss_code read_rope_scaling(const cJSON *json, const char *file, ss_rope_scaling *s,
                                 ss_error *err)
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
    s->factor = 1.0;
    if ((rc = ss_json_num(rs, file, "factor", 1, &s->factor, err)))
        return rc;
    if (strcmp(type, "linear") == 0) {
        s->type = SS_SCALE_LINEAR;
        return SS_OK;
    }
    if (strcmp(type, "llama3") == 0) {
        long long orig = 0;
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
                   "%s: rope_scaling type '%s' is not supported (supported: default, linear, llama3)",
                   file, type);
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

ss_code ss_config_from_hf(const cJSON *json, const char *file, ss_config *cfg, double *rope_base,
                          ss_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    const char *type = NULL;
    ss_code rc = ss_json_str(json, file, "model_type", 1, &type, err);
    if (rc || (rc = arch_from_model_type(type, file, &cfg->arch, err)))
        return rc;
    const long long big = 1LL << 30;
    long long hidden = 0, inter = 0, layers = 0, heads = 0, kv = -1, head_dim = -1, vocab = 0;
    long long ctx = 2048, bos = -1, eos = -1;
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

    cfg->norm_eps = 1e-6;
    *rope_base = 10000.0;
    if ((rc = ss_json_num(json, file, "rms_norm_eps", 0, &cfg->norm_eps, err)) ||
        (rc = ss_json_num(json, file, "rope_theta", 0, rope_base, err)) ||
        (rc = read_rope_scaling(json, file, &cfg->scaling, err)))
        return rc;

    /* Defaults follow each transformers config class. */
    int tied = cfg->arch == SS_ARCH_GEMMA;
    if ((rc = ss_json_bool(json, file, "tie_word_embeddings", 0, &tied, err)))
        return rc;
    cfg->tied_output = tied;
    int bias = cfg->arch == SS_ARCH_QWEN2;
    if (cfg->arch != SS_ARCH_QWEN2 && (rc = ss_json_bool(json, file, "attention_bias", 0, &bias, err)))
        return rc;
    cfg->has_qkv_bias = bias;

    cfg->act = cfg->arch == SS_ARCH_GEMMA ? SS_ACT_GELU_TANH : SS_ACT_SILU;
    const char *act = NULL;
    if ((rc = ss_json_str(json, file, "hidden_activation", 0, &act, err)))
        return rc;
    if (!act && (rc = ss_json_str(json, file, "hidden_act", 0, &act, err)))
        return rc;
    if (act) {
        if (strcmp(act, "silu") == 0 || strcmp(act, "swish") == 0)
            cfg->act = SS_ACT_SILU;
        else if (strcmp(act, "gelu_pytorch_tanh") == 0 || strcmp(act, "gelu_tanh") == 0 ||
                 (cfg->arch == SS_ARCH_GEMMA && strcmp(act, "gelu") == 0))
            /* Gemma v1 configs say "gelu" but transformers runs the tanh form. */
            cfg->act = SS_ACT_GELU_TANH;
        else
            return ss_fail(err, SS_ERR_UNSUPPORTED,
                           "%s: activation '%s' is not supported (supported: silu, gelu_pytorch_tanh)",
                           file, act);
    }

    cfg->attn_scale = 1.0 / sqrt((double)cfg->d_head);
    double qpas = 0;
    if ((rc = ss_json_num(json, file, "query_pre_attn_scalar", 0, &qpas, err)))
        return rc;
    if (qpas > 0)
        cfg->attn_scale = 1.0 / sqrt(qpas);

    /* Mistral's window (null or absent: none); Qwen2 declares one but
     * applies it only with use_sliding_window, to some layers: refuse that */
    if (cfg->arch == SS_ARCH_MISTRAL) {
        long long window = 0;
        if ((rc = ss_json_int(json, file, "sliding_window", 0, 1, 1LL << 30, &window, err)))
            return rc;
        cfg->sliding_window = (int)window;
    }
    int qwen_window = 0;
    if (cfg->arch == SS_ARCH_QWEN2 &&
        (rc = ss_json_bool(json, file, "use_sliding_window", 0, &qwen_window, err)))
        return rc;
    if (qwen_window)
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: use_sliding_window = true (per-layer sliding windows) is not supported",
                       file);

    cfg->norm_add_one = cfg->arch == SS_ARCH_GEMMA;
    cfg->embed_scale = cfg->arch == SS_ARCH_GEMMA ? (double)(float)sqrt((double)cfg->d_model) : 1.0;
    cfg->pairing = SS_PAIR_HALF;
    return SS_OK;
}
