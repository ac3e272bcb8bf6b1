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

ss_code ss_config_from_gguf(const ss_gguf *g, ss_config *cfg, double *rope_base, ss_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    const char *arch = NULL;
    ss_code rc = ss_gguf_get_str(g, "general.architecture", &arch, err);
    if (rc)
        return rc;
    if (strcmp(arch, "llama") == 0)
        cfg->arch = SS_ARCH_LLAMA; /* llama.cpp also files Mistral under "llama" */
    else if (strcmp(arch, "qwen2") == 0)
        cfg->arch = SS_ARCH_QWEN2;
    else if (strcmp(arch, "gemma") == 0)
        cfg->arch = SS_ARCH_GEMMA;
    else {
        char safe[256]; /* the name comes from the file: no raw control bytes in messages */
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: general.architecture '%s' is not supported (supported: llama, qwen2, gemma)",
                       g->path, ss_escape(arch, strlen(arch), safe, sizeof safe));
    }
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
    if (rot_dim != key_len)
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: partial rotary embedding (%s.rope.dimension_count %lld < head size %lld) "
                       "is not supported", g->path, arch, rot_dim, key_len);
    cfg->n_layer = (int)layers;
    cfg->d_model = (int)d;
    cfg->d_ff = (int)ff;
    cfg->n_head = (int)heads;
    cfg->n_kv_head = (int)kv;
    cfg->d_head = (int)key_len;
    cfg->ctx_len = (int)ctx;
    if ((rc = get_float(g, arch, "attention.layer_norm_rms_epsilon", 1e-5, &cfg->norm_eps, err)) ||
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

    char key[160];
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    const ss_gguf_kv *st = ss_gguf_find(g, key);
    if (st && st->type == SS_GGUF_STRING && strcmp(st->str, "none") != 0) {
        if (strcmp(st->str, "linear") != 0)
            return ss_fail(err, SS_ERR_UNSUPPORTED,
                           "%s: %s = '%s' is not supported (supported: none, linear; llama3 comes "
                           "as the rope_freqs.weight tensor)", g->path, key, st->str);
        cfg->scaling.type = SS_SCALE_LINEAR;
        if ((rc = get_float(g, arch, "rope.scaling.factor", 1.0, &cfg->scaling.factor, err)))
            return rc;
    }

    /* llama.cpp's conventions per architecture: LLAMA rotates adjacent
     * pairs (its converter permuted q/k), QWEN2 and GEMMA are NEOX (half). */
    cfg->pairing = cfg->arch == SS_ARCH_LLAMA ? SS_PAIR_INTERLEAVED : SS_PAIR_HALF;
    cfg->act = cfg->arch == SS_ARCH_GEMMA ? SS_ACT_GELU_TANH : SS_ACT_SILU;
    cfg->norm_add_one = 0; /* the converter stored Gemma's norms as 1 + w */
    cfg->embed_scale = cfg->arch == SS_ARCH_GEMMA ? (double)(float)sqrt((double)cfg->d_model) : 1.0;
    cfg->attn_scale = 1.0 / sqrt((double)cfg->d_head);
    /* vocab, tied output and biases are settled from the tensors (model.c). */
    return SS_OK;
}
