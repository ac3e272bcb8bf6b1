#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/escape.h"
#include "model/config.h"

static ss_code get_int(const ss_gguf *g, const char *arch, const char *key, int required,
                       long long def, long long *v, ss_error *err)
{
    char full[160];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    if (!ss_gguf_find(g, full)) {
        if (required)
            return ss_fail(err, SS_ERR_MISSING, "%s: metadata key '%s' is missing", g->path, full);
        *v = def;
        return SS_OK;
    }
    int64_t x;
    ss_code rc = ss_gguf_get_int(g, full, &x, err);
    if (rc)
        return rc;
    if (x < 0 || x > (1LL << 30))
        return ss_fail(err, SS_ERR_VALUE, "%s: metadata '%s' = %lld is out of range", g->path,
                       full, (long long)x);
    *v = x;
    return SS_OK;
}

static ss_code get_float(const ss_gguf *g, const char *arch, const char *key, double def,
                         double *v, ss_error *err)
{
    char full[160];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    if (!ss_gguf_find(g, full)) {
        *v = def;
        return SS_OK;
    }
    ss_code rc = ss_gguf_get_float(g, full, v, err);
    if (!rc && !isfinite(*v)) /* no epsilon, base or factor is infinite */
        return ss_fail(err, SS_ERR_VALUE, "%s: metadata '%s' = %g, expected a finite number",
                       g->path, full, *v);
    return rc;
}

static const char *const supported_archs = "llama, qwen2, gemma, gemma2, olmo2, gptneox, phi3";

static ss_code arch_from_name(const ss_gguf *g, const char *arch, ss_arch *out, ss_error *err)
{
    static const struct { const char *name; ss_arch arch; } known[] = {
        {"llama", SS_ARCH_LLAMA}, /* llama.cpp also files Mistral under "llama" */
        {"qwen2", SS_ARCH_QWEN2},   {"gemma", SS_ARCH_GEMMA},   {"gemma2", SS_ARCH_GEMMA2},
        {"olmo2", SS_ARCH_OLMO2},   {"gptneox", SS_ARCH_GPTNEOX}, {"phi3", SS_ARCH_PHI3},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(arch, known[i].name) == 0) {
            *out = known[i].arch;
            return SS_OK;
        }
    char safe[256]; /* the name comes from the file: no raw control bytes in messages */
    return ss_fail(err, SS_ERR_UNSUPPORTED,
                   "%s: general.architecture '%s' is not supported (supported: %s)", g->path,
                   ss_escape(arch, strlen(arch), safe, sizeof safe), supported_archs);
}

static ss_code get_bool(const ss_gguf *g, const char *arch, const char *key, int def, int *v,
                        ss_error *err)
{
    char full[160];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    const ss_gguf_kv *kv = ss_gguf_find(g, full);
    *v = def;
    if (!kv)
        return SS_OK;
    if (kv->type != SS_GGUF_BOOL)
        return ss_fail(err, SS_ERR_FORMAT, "%s: metadata '%s' must be a bool", g->path, full);
    *v = kv->num.u != 0;
    return SS_OK;
}

/* rope.scaling.*: linear and yarn; llama3 comes as the rope_freqs.weight
 * tensor and Phi-3's longrope as rope_factors_{short,long}.weight
 * (model.c reads those). */
static ss_code read_scaling(const ss_gguf *g, const char *arch, ss_config *cfg, ss_error *err)
{
    char key[160];
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    const ss_gguf_kv *st = ss_gguf_find(g, key);
    ss_rope_scaling *s = &cfg->scaling;
    long long orig;
    ss_code rc;
    if ((rc = get_int(g, arch, "rope.scaling.original_context_length", 0, cfg->ctx_len, &orig, err)) ||
        (rc = get_float(g, arch, "rope.scaling.attn_factor", 0, &s->attn_factor, err)))
        return rc;
    s->original_ctx = (int)orig;
    s->max_ctx = cfg->ctx_len;
    if (!st || st->type != SS_GGUF_STRING || strcmp(st->str, "none") == 0)
        return SS_OK;
    if (strcmp(st->str, "linear") == 0)
        s->type = SS_SCALE_LINEAR;
    else if (strcmp(st->str, "yarn") == 0)
        s->type = SS_SCALE_YARN;
    else
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: %s = '%s' is not supported (supported: none, linear, yarn; llama3 "
                       "comes as the rope_freqs.weight tensor, longrope as rope_factors_*)",
                       g->path, key, st->str);
    return get_float(g, arch, "rope.scaling.factor", 1.0, &s->factor, err);
}

/* What llama.cpp c392e50 hard-codes per architecture beyond the keys. */
static ss_code read_family(const ss_gguf *g, const char *arch, ss_config *cfg, ss_error *err)
{
    ss_arch a = cfg->arch;
    int gemma = a == SS_ARCH_GEMMA || a == SS_ARCH_GEMMA2;
    long long window = 0;
    ss_code rc;
    /* LLAMA rotates adjacent pairs (its converter permuted q/k); the others
     * are NEOX (half) */
    cfg->pairing = a == SS_ARCH_LLAMA ? SS_PAIR_INTERLEAVED : SS_PAIR_HALF;
    /* GPT-NeoX: llama.cpp runs the tanh GELU, the HF model (the reference)
     * the erf one that Pythia's "gelu" means; we follow HF (docs/formats.md) */
    cfg->act = gemma ? SS_ACT_GELU_TANH : a == SS_ARCH_GPTNEOX ? SS_ACT_GELU_ERF : SS_ACT_SILU;
    cfg->norm_type = a == SS_ARCH_GPTNEOX ? SS_NORM_LAYER : SS_NORM_RMS;
    cfg->gated_mlp = a != SS_ARCH_GPTNEOX;
    if (a == SS_ARCH_GPTNEOX &&
        (rc = get_bool(g, arch, "use_parallel_residual", 1, &cfg->parallel_residual, err)))
        return rc;
    cfg->qk_norm = a == SS_ARCH_OLMO2 ? SS_QKNORM_PROJ : SS_QKNORM_NONE;
    cfg->qkv_layout = SS_QKV_SEPARATE; /* attn_qkv, if present, is blocked (model.c) */
    cfg->norm_add_one = 0; /* the converter stored Gemma's norms as 1 + w */
    cfg->embed_scale = gemma ? (double)(float)sqrt((double)cfg->d_model) : 1.0;
    cfg->attn_scale = 1.0 / sqrt((double)cfg->d_head);
    if (a == SS_ARCH_GEMMA2) {
        /* llama.cpp takes the query scale from the model size: 1/sqrt(head_dim)
         * except the 46-layer 27B, 1/sqrt(hidden/heads); the GGUF has no key */
        if (cfg->n_layer == 46)
            cfg->attn_scale = 1.0 / sqrt((double)cfg->d_model / cfg->n_head);
        if ((rc = get_float(g, arch, "attn_logit_softcapping", 0, &cfg->attn_softcap, err)) ||
            (rc = get_float(g, arch, "final_logit_softcapping", 0, &cfg->final_softcap, err)))
            return rc;
    }
    if ((a == SS_ARCH_GEMMA2 || a == SS_ARCH_PHI3) &&
        (rc = get_int(g, arch, "attention.sliding_window", 0, 0, &window, err)))
        return rc;
    cfg->sliding_window = (int)window;
    if (a == SS_ARCH_GEMMA2 && window > 0) {
        if (cfg->n_layer > SS_MAX_LAYERS)
            return ss_fail(err, SS_ERR_UNSUPPORTED,
                           "%s: %d layers with alternating sliding windows; at most %d are "
                           "supported", g->path, cfg->n_layer, SS_MAX_LAYERS);
        cfg->per_layer = 1; /* llama.cpp: even layers are the sliding ones */
        for (int i = 0; i < cfg->n_layer; i++)
            cfg->layer_local[i] = i % 2 == 0;
    }
    return SS_OK;
}

ss_code ss_config_from_gguf(const ss_gguf *g, ss_config *cfg, double *rope_base, ss_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    const char *arch = NULL;
    ss_code rc = ss_gguf_get_str(g, "general.architecture", &arch, err);
    if (rc || (rc = arch_from_name(g, arch, &cfg->arch, err)))
        return rc;
    long long layers, d, ff, heads, kv, ctx, key_len, rot_dim, bos, eos;
    if ((rc = get_int(g, arch, "block_count", 1, 0, &layers, err)) ||
        (rc = get_int(g, arch, "embedding_length", 1, 0, &d, err)) ||
        (rc = get_int(g, arch, "feed_forward_length", 1, 0, &ff, err)) ||
        (rc = get_int(g, arch, "attention.head_count", 1, 0, &heads, err)) ||
        (rc = get_int(g, arch, "attention.head_count_kv", 0, heads, &kv, err)) ||
        (rc = get_int(g, arch, "context_length", 0, 2048, &ctx, err)))
        return rc;
    if (heads <= 0)
        return ss_fail(err, SS_ERR_VALUE, "%s: %s.attention.head_count must be positive", g->path, arch);
    if ((rc = get_int(g, arch, "attention.key_length", 0, d / heads, &key_len, err)) ||
        (rc = get_int(g, arch, "rope.dimension_count", 0, key_len, &rot_dim, err)))
        return rc;
    if (rot_dim > key_len || rot_dim < 2 || rot_dim % 2)
        return ss_fail(err, SS_ERR_VALUE,
                       "%s: %s.rope.dimension_count %lld must be even, at least 2 and at most the "
                       "head size %lld", g->path, arch, rot_dim, key_len);
    cfg->n_layer = (int)layers;
    cfg->d_model = (int)d;
    cfg->d_ff = (int)ff;
    cfg->n_head = (int)heads;
    cfg->n_kv_head = (int)kv;
    cfg->d_head = (int)key_len;
    cfg->rotary_dim = (int)rot_dim;
    cfg->ctx_len = (int)ctx;
    if ((rc = get_float(g, arch,
                        cfg->arch == SS_ARCH_GPTNEOX ? "attention.layer_norm_epsilon"
                                                     : "attention.layer_norm_rms_epsilon",
                        1e-5, &cfg->norm_eps, err)) ||
        (rc = get_float(g, arch, "rope.freq_base", 10000.0, rope_base, err)))
        return rc;
    bos = eos = -1;
    if (ss_gguf_find(g, "tokenizer.ggml.bos_token_id") &&
        (rc = get_int(g, "tokenizer", "ggml.bos_token_id", 0, -1, &bos, err)))
        return rc;
    if (ss_gguf_find(g, "tokenizer.ggml.eos_token_id") &&
        (rc = get_int(g, "tokenizer", "ggml.eos_token_id", 0, -1, &eos, err)))
        return rc;
    cfg->bos_id = (int)bos;
    cfg->eos_id = (int)eos;
    if ((rc = read_scaling(g, arch, cfg, err)))
        return rc;
    /* vocab, tied output and biases are settled from the tensors (model.c). */
    return read_family(g, arch, cfg, err);
}
