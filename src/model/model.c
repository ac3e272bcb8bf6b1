#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/path.h"
#include "io/dequant.h"
#include "io/json.h"
#include "io/llama2c.h"
#include "io/safetensors.h"
#include "model/config.h"

const char *ss_arch_name(ss_arch a)
{
    switch (a) {
    case SS_ARCH_LLAMA: return "llama";
    case SS_ARCH_MISTRAL: return "mistral";
    case SS_ARCH_QWEN2: return "qwen2";
    case SS_ARCH_GEMMA: return "gemma";
    }
    return "?";
}

const char *ss_format_name(ss_format f)
{
    switch (f) {
    case SS_FMT_HF: return "huggingface";
    case SS_FMT_GGUF: return "gguf";
    case SS_FMT_LLAMA2C: return "llama2c";
    }
    return "?";
}

/* ---- tensor names per format ------------------------------------------ */

typedef struct {
    const char *embd, *out_norm, *output;
    const char *layer_fmt[12]; /* printf with the layer index, in ss_layer_weights order */
} name_scheme;

static const name_scheme hf_names = {
    "model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
    {"model.layers.%d.input_layernorm.weight", "model.layers.%d.self_attn.q_proj.weight",
     "model.layers.%d.self_attn.k_proj.weight", "model.layers.%d.self_attn.v_proj.weight",
     "model.layers.%d.self_attn.o_proj.weight", "model.layers.%d.self_attn.q_proj.bias",
     "model.layers.%d.self_attn.k_proj.bias", "model.layers.%d.self_attn.v_proj.bias",
     "model.layers.%d.post_attention_layernorm.weight", "model.layers.%d.mlp.gate_proj.weight",
     "model.layers.%d.mlp.up_proj.weight", "model.layers.%d.mlp.down_proj.weight"}};

static const name_scheme gguf_names = {
    "token_embd.weight", "output_norm.weight", "output.weight",
    {"blk.%d.attn_norm.weight", "blk.%d.attn_q.weight", "blk.%d.attn_k.weight",
     "blk.%d.attn_v.weight", "blk.%d.attn_output.weight", "blk.%d.attn_q.bias",
     "blk.%d.attn_k.bias", "blk.%d.attn_v.bias", "blk.%d.ffn_norm.weight",
     "blk.%d.ffn_gate.weight", "blk.%d.ffn_up.weight", "blk.%d.ffn_down.weight"}};

enum { W_ATTN_NORM, W_Q, W_K, W_V, W_O, B_Q, B_K, B_V, W_FFN_NORM, W_GATE, W_UP, W_DOWN };

static const ss_tensor **layer_slot(ss_layer_weights *lw, int which)
{
    const ss_tensor **slots[12] = {&lw->attn_norm, &lw->wq, &lw->wk, &lw->wv, &lw->wo, &lw->bq,
                                   &lw->bk, &lw->bv, &lw->ffn_norm, &lw->w_gate, &lw->w_up,
                                   &lw->w_down};
    return slots[which];
}

/* Expected shape of each tensor, row-major. */
static void expected_shape(const ss_config *c, int which, int64_t shape[2], int *ndim)
{
    int64_t q = (int64_t)c->n_head * c->d_head, kv = (int64_t)c->n_kv_head * c->d_head;
    *ndim = 2;
    switch (which) {
    case W_ATTN_NORM: case W_FFN_NORM: *ndim = 1; shape[0] = c->d_model; break;
    case W_Q: shape[0] = q; shape[1] = c->d_model; break;
    case W_K: case W_V: shape[0] = kv; shape[1] = c->d_model; break;
    case W_O: shape[0] = c->d_model; shape[1] = q; break;
    case B_Q: *ndim = 1; shape[0] = q; break;
    case B_K: case B_V: *ndim = 1; shape[0] = kv; break;
    case W_GATE: case W_UP: shape[0] = c->d_ff; shape[1] = c->d_model; break;
    case W_DOWN: shape[0] = c->d_model; shape[1] = c->d_ff; break;
    }
}

static ss_code check_shape(const ss_tensor *t, int ndim, const int64_t *shape, ss_error *err)
{
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = t->shape[i] == shape[i];
    if (ok)
        return SS_OK;
    char want[64], got[64];
    snprintf(want, sizeof want, ndim == 1 ? "[%lld]" : "[%lld, %lld]", (long long)shape[0],
             (long long)(ndim > 1 ? shape[1] : 0));
    int len = snprintf(got, sizeof got, "[");
    for (int i = 0; i < t->ndim && i < 4; i++)
        len += snprintf(got + len, sizeof got - len, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    snprintf(got + len, sizeof got - len, "]");
    return ss_fail(err, SS_ERR_SHAPE, "%s: tensor '%s' has shape %s, the config implies %s",
                   t->file ? t->file : "model", t->name, got, want);
}

static ss_code find_required(const ss_model *m, const char *name, const ss_tensor **out,
                             ss_error *err)
{
    *out = ss_tensor_list_find(&m->tensors, name);
    if (!*out)
        return ss_fail(err, SS_ERR_MISSING, "%s: required tensor '%s' is missing", m->path, name);
    return SS_OK;
}

static ss_code bind_weights(ss_model *m, const name_scheme *names, ss_error *err)
{
    ss_config *c = &m->cfg;
    ss_code rc = find_required(m, names->embd, &m->tok_embd, err);
    if (rc)
        return rc;
    if (m->format != SS_FMT_HF) /* GGUF and llama2.c do not state the vocabulary size */
        c->vocab = (int)m->tok_embd->shape[0];
    int64_t emb[2] = {c->vocab, c->d_model};
    if ((rc = check_shape(m->tok_embd, 2, emb, err)) ||
        (rc = find_required(m, names->out_norm, &m->out_norm, err)))
        return rc;
    int64_t norm[1] = {c->d_model};
    if ((rc = check_shape(m->out_norm, 1, norm, err)))
        return rc;
    m->output = ss_tensor_list_find(&m->tensors, names->output);
    if (!m->output) {
        if (m->format == SS_FMT_HF && !c->tied_output)
            return ss_fail(err, SS_ERR_MISSING,
                           "%s: required tensor '%s' is missing (config says tie_word_embeddings "
                           "is false)", m->path, names->output);
        m->output = m->tok_embd;
        c->tied_output = 1;
    } else if ((rc = check_shape(m->output, 2, emb, err))) {
        return rc;
    }
    /* every layer has several tensors, so a layer count above the file's
     * tensor count is a wrong header (a GGUF block_count of 2^30 would
     * otherwise allocate a 100 GB layer table before any tensor is missed) */
    if (c->n_layer > m->tensors.count)
        return ss_fail(err, SS_ERR_VALUE, "%s: the header says %d layers but the file holds only "
                       "%d tensors (block_count / num_hidden_layers / n_layers is wrong)", m->path,
                       c->n_layer, m->tensors.count);
    m->layers = ss_calloc((size_t)c->n_layer, sizeof *m->layers, "layer table", err);
    if (!m->layers)
        return SS_ERR_NOMEM;
    int any_bias = 0;
    for (int l = 0; l < c->n_layer; l++) {
        for (int w = 0; w < 12; w++) {
            char name[160];
            snprintf(name, sizeof name, names->layer_fmt[w], l);
            const ss_tensor *t = ss_tensor_list_find(&m->tensors, name);
            int is_bias = w == B_Q || w == B_K || w == B_V;
            if (!t && !is_bias)
                return ss_fail(err, SS_ERR_MISSING, "%s: required tensor '%s' is missing", m->path,
                               name);
            if (!t)
                continue;
            int64_t shape[2];
            int ndim;
            expected_shape(c, w, shape, &ndim);
            if ((rc = check_shape(t, ndim, shape, err)))
                return rc;
            *layer_slot(&m->layers[l], w) = t;
            any_bias |= is_bias;
        }
    }
    if (m->format == SS_FMT_HF && c->has_qkv_bias && !m->layers[0].bq)
        return ss_fail(err, SS_ERR_MISSING, "%s: the config promises q/k/v biases but '%s' is missing",
                       m->path, "model.layers.0.self_attn.q_proj.bias");
    c->has_qkv_bias = any_bias;
    m->dtype = m->layers[0].wq->dtype;
    return SS_OK;
}

/* ---- format detection and loading ------------------------------------- */

static int has_gguf_magic(const char *path)
{
    ss_error ignored = {0};
    int fd = ss_open_regular(path, &ignored); /* the loader reports what is wrong */
    if (fd < 0)
        return 0;
    char magic[4] = {0};
    ssize_t got = read(fd, magic, 4);
    close(fd);
    return got == 4 && memcmp(magic, "GGUF", 4) == 0;
}

/* model.safetensors.index.json: {"weight_map": {tensor: shard file}}; every
 * distinct shard is loaded once. */
static ss_code load_hf_shards(ss_model *m, const char *index_path, ss_error *err)
{
    cJSON *index = NULL;
    ss_code rc = ss_json_load(index_path, (size_t)64 << 20, &index, err);
    if (rc)
        return rc;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(index, "weight_map");
    if (!cJSON_IsObject(map)) {
        cJSON_Delete(index);
        return ss_fail(err, SS_ERR_FORMAT, "%s: field 'weight_map' must be an object", index_path);
    }
    char **seen = NULL;
    int n_seen = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, map) {
        if (!cJSON_IsString(entry) || strchr(entry->valuestring, '/')) {
            rc = ss_fail(err, SS_ERR_FORMAT,
                         "%s: weight_map['%s'] must be a file name in the same folder", index_path,
                         entry->string);
            break;
        }
        int known = 0;
        for (int i = 0; i < n_seen && !known; i++)
            known = strcmp(seen[i], entry->valuestring) == 0;
        if (known)
            continue;
        char **grown = ss_realloc_array(seen, (size_t)n_seen + 1, sizeof *seen, "shard list", err);
        if (!grown) {
            rc = SS_ERR_NOMEM;
            break;
        }
        seen = grown;
        seen[n_seen++] = entry->valuestring;
        char shard[4096];
        snprintf(shard, sizeof shard, "%s/%s", m->path, entry->valuestring);
        if ((rc = ss_safetensors_load(shard, &m->tensors, err)))
            break;
    }
    free(seen);
    cJSON_Delete(index);
    return rc;
}

static ss_code open_hf(ss_model *m, double *rope_base, ss_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", m->path);
    cJSON *config = NULL;
    ss_code rc = ss_json_load(path, (size_t)16 << 20, &config, err);
    if (rc)
        return rc;
    rc = ss_config_from_hf(config, path, &m->cfg, rope_base, err);
    cJSON_Delete(config);
    if (rc)
        return rc;
    char single[4096], index[4096];
    snprintf(single, sizeof single, "%s/model.safetensors", m->path);
    snprintf(index, sizeof index, "%s/model.safetensors.index.json", m->path);
    if (ss_is_file(single))
        rc = ss_safetensors_load(single, &m->tensors, err);
    else if (ss_is_file(index))
        rc = load_hf_shards(m, index, err);
    else
        return ss_fail(err, SS_ERR_MISSING,
                       "%s: no model.safetensors or model.safetensors.index.json in the folder",
                       m->path);
    if (rc)
        return rc;
    return bind_weights(m, &hf_names, err);
}

static ss_code open_gguf(ss_model *m, double *rope_base, ss_error *err)
{
    ss_code rc = ss_gguf_load(m->path, &m->gguf, err);
    if (rc)
        return rc;
    m->has_gguf = 1;
    /* the tensors stay owned by the gguf; the model borrows the list */
    m->tensors = m->gguf.tensors;
    if ((rc = ss_config_from_gguf(&m->gguf, &m->cfg, rope_base, err)))
        return rc;
    if (m->gguf.tensors.count == 0)
        return ss_fail(err, SS_ERR_MISSING,
                       "%s: this GGUF holds no tensors (a vocabulary-only file?); it can be used "
                       "with 'tokenize' but not run", m->path);
    return bind_weights(m, &gguf_names, err);
}

static ss_code open_llama2c(ss_model *m, double *rope_base, ss_error *err)
{
    ss_llama2c l2c;
    ss_code rc = ss_llama2c_load(m->path, &l2c, err);
    if (rc == SS_ERR_FORMAT || rc == SS_ERR_VALUE) {
        /* llama2.c's legacy header has no magic: say what else it could have been */
        char detail[sizeof err->msg];
        snprintf(detail, sizeof detail, "%s", err->msg);
        ss_error_clear(err);
        return ss_fail(err, rc,
                       "%s: not a recognised model file (no GGUF magic, not a Hugging Face folder, "
                       "and as a llama2.c checkpoint: %s)", m->path, detail);
    }
    if (rc)
        return rc;
    ss_config_from_llama2c(&l2c, &m->cfg, rope_base);
    m->tensors = l2c.tensors; /* take ownership */
    return bind_weights(m, &gguf_names, err);
}

static ss_code build_rope(ss_model *m, double base, ss_error *err)
{
    ss_code rc = ss_rope_standard(&m->rope, m->cfg.d_head, base, &m->cfg.scaling, err);
    if (rc)
        return rc;
    const ss_tensor *factors = m->has_gguf ? ss_tensor_list_find(&m->tensors, "rope_freqs.weight") : NULL;
    if (factors) {
        if (factors->dtype != SS_DT_F32 || ss_tensor_numel(factors) != m->rope.n_freq)
            return ss_fail(err, SS_ERR_SHAPE, "%s: rope_freqs.weight must be F32 with %d values",
                           m->path, m->rope.n_freq);
        float f[SS_ROPE_MAX_FREQ];
        ss_dequant(SS_DT_F32, factors->data, 0, m->rope.n_freq, f);
        for (int i = 0; i < m->rope.n_freq; i++)
            if (!(f[i] > 0) || !isfinite(f[i]))
                return ss_fail(err, SS_ERR_VALUE, "%s: rope_freqs.weight[%d] = %g must be positive",
                               m->path, i, f[i]);
        ss_rope_apply_freq_factors(&m->rope, f);
        m->cfg.scaling.type = SS_SCALE_FREQ_FACTORS;
    }
    return SS_OK;
}

ss_code ss_model_open(const char *path, ss_model **out, ss_error *err)
{
    *out = NULL;
    ss_model *m = ss_calloc(1, sizeof *m, "model", err);
    if (!m)
        return SS_ERR_NOMEM;
    if (!(m->path = ss_strdup(path, err))) {
        free(m);
        return SS_ERR_NOMEM;
    }
    double base = 10000.0;
    ss_code rc;
    if (ss_is_dir(path)) {
        m->format = SS_FMT_HF;
        char cfg[4096];
        snprintf(cfg, sizeof cfg, "%s/config.json", path);
        rc = ss_is_file(cfg) ? open_hf(m, &base, err)
                              : ss_fail(err, SS_ERR_MISSING,
                                        "%s: a model folder needs config.json (Hugging Face layout)",
                                        path);
    } else if (!ss_is_file(path)) {
        rc = ss_fail(err, SS_ERR_IO, "%s: %s, expected a model folder, a .gguf file or a llama2.c "
                     ".bin", path, ss_path_kind(path));
    } else if (has_gguf_magic(path)) {
        m->format = SS_FMT_GGUF;
        rc = open_gguf(m, &base, err);
    } else {
        m->format = SS_FMT_LLAMA2C;
        rc = open_llama2c(m, &base, err);
    }
    if (!rc)
        rc = ss_config_validate(&m->cfg, path, err);
    if (!rc)
        rc = build_rope(m, base, err);
    if (rc) {
        ss_model_close(m);
        return rc;
    }
    *out = m;
    return SS_OK;
}

void ss_model_close(ss_model *m)
{
    if (!m)
        return;
    if (m->has_gguf)
        ss_gguf_free(&m->gguf); /* owns m->tensors */
    else
        ss_tensor_list_free(&m->tensors);
    free(m->layers);
    free(m->path);
    free(m);
}

ss_code ss_tensor_check_finite(const ss_tensor *t, ss_error *err)
{
    int64_t cols = t->ndim ? t->shape[t->ndim - 1] : 1;
    int64_t rows = cols ? ss_tensor_numel(t) / cols : 0;
    float *row = ss_calloc((size_t)(cols ? cols : 1), sizeof *row, "row buffer", err);
    if (!row)
        return SS_ERR_NOMEM;
    ss_code rc = SS_OK;
    for (int64_t r = 0; r < rows && !rc; r++) {
        ss_dequant(t->dtype, t->data, r * cols, cols, row);
        for (int64_t j = 0; j < cols; j++)
            if (!isfinite(row[j])) {
                rc = ss_fail(err, SS_ERR_VALUE,
                             "%s: tensor '%s' holds a non-finite weight (%g) at row %lld, column %lld",
                             t->file ? t->file : "model", t->name, row[j], (long long)r,
                             (long long)j);
                break;
            }
    }
    free(row);
    return rc;
}

void ss_weight_rows_f32(const ss_tensor *t, int64_t row0, int64_t nrows, float *dst)
{
    ss_tensor_rows_f32(t, row0, nrows, dst);
}

void ss_weight_elems_f32(const ss_tensor *t, int64_t first, int64_t n, float *dst)
{
    ss_dequant(t->dtype, t->data, first, n, dst);
}
