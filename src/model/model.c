#include "model/model.h"

#include <ctype.h>
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
    case SS_ARCH_QWEN3: return "qwen3";
    case SS_ARCH_GEMMA2: return "gemma2";
    case SS_ARCH_GEMMA3: return "gemma3";
    case SS_ARCH_OLMO2: return "olmo2";
    case SS_ARCH_GPTNEOX: return "gpt_neox";
    case SS_ARCH_PHI3: return "phi3";
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

/* ---- tensor names per format and architecture ----------------------- */

enum role {
    R_ATTN_NORM, R_ATTN_NORM_B, R_Q, R_K, R_V, R_QKV, R_BQ, R_BK, R_BV, R_BQKV, R_O, R_BO,
    R_Q_NORM, R_K_NORM, R_POST_ATTN_NORM, R_FFN_NORM, R_FFN_NORM_B, R_GATE, R_UP, R_GATE_UP,
    R_DOWN, R_B_UP, R_B_DOWN, R_POST_FFN_NORM, R_COUNT
};

/* Name of a layer tensor (printf format with the layer index) in this
 * format and architecture, or NULL if the architecture has no such tensor.
 * *optional: may be absent (biases of Llama-style models). */
static const char *hf_role_name(ss_arch a, int r, int *optional)
{
    *optional = 0;
    if (a == SS_ARCH_GPTNEOX) {
        switch (r) {
        case R_ATTN_NORM: return "gpt_neox.layers.%d.input_layernorm.weight";
        case R_ATTN_NORM_B: return "gpt_neox.layers.%d.input_layernorm.bias";
        case R_QKV: return "gpt_neox.layers.%d.attention.query_key_value.weight";
        case R_BQKV: return "gpt_neox.layers.%d.attention.query_key_value.bias";
        case R_O: return "gpt_neox.layers.%d.attention.dense.weight";
        case R_BO: return "gpt_neox.layers.%d.attention.dense.bias";
        case R_FFN_NORM: return "gpt_neox.layers.%d.post_attention_layernorm.weight";
        case R_FFN_NORM_B: return "gpt_neox.layers.%d.post_attention_layernorm.bias";
        case R_UP: return "gpt_neox.layers.%d.mlp.dense_h_to_4h.weight";
        case R_B_UP: return "gpt_neox.layers.%d.mlp.dense_h_to_4h.bias";
        case R_DOWN: return "gpt_neox.layers.%d.mlp.dense_4h_to_h.weight";
        case R_B_DOWN: return "gpt_neox.layers.%d.mlp.dense_4h_to_h.bias";
        default: return NULL;
        }
    }
    int post = a == SS_ARCH_GEMMA2 || a == SS_ARCH_GEMMA3 || a == SS_ARCH_OLMO2;
    int phi3 = a == SS_ARCH_PHI3;
    int qk_norm = a == SS_ARCH_QWEN3 || a == SS_ARCH_GEMMA3 || a == SS_ARCH_OLMO2;
    switch (r) {
    case R_ATTN_NORM: return a == SS_ARCH_OLMO2 ? NULL : "model.layers.%d.input_layernorm.weight";
    case R_Q: return phi3 ? NULL : "model.layers.%d.self_attn.q_proj.weight";
    case R_K: return phi3 ? NULL : "model.layers.%d.self_attn.k_proj.weight";
    case R_V: return phi3 ? NULL : "model.layers.%d.self_attn.v_proj.weight";
    case R_QKV: return phi3 ? "model.layers.%d.self_attn.qkv_proj.weight" : NULL;
    case R_BQ: *optional = 1; return phi3 ? NULL : "model.layers.%d.self_attn.q_proj.bias";
    case R_BK: *optional = 1; return phi3 ? NULL : "model.layers.%d.self_attn.k_proj.bias";
    case R_BV: *optional = 1; return phi3 ? NULL : "model.layers.%d.self_attn.v_proj.bias";
    case R_O: return "model.layers.%d.self_attn.o_proj.weight";
    case R_BO: *optional = 1; return "model.layers.%d.self_attn.o_proj.bias";
    case R_Q_NORM: return qk_norm ? "model.layers.%d.self_attn.q_norm.weight" : NULL;
    case R_K_NORM: return qk_norm ? "model.layers.%d.self_attn.k_norm.weight" : NULL;
    case R_POST_ATTN_NORM: return post ? "model.layers.%d.post_attention_layernorm.weight" : NULL;
    case R_FFN_NORM:
        return a == SS_ARCH_OLMO2 ? NULL
               : post             ? "model.layers.%d.pre_feedforward_layernorm.weight"
                                  : "model.layers.%d.post_attention_layernorm.weight";
    case R_GATE: return phi3 ? NULL : "model.layers.%d.mlp.gate_proj.weight";
    case R_UP: return phi3 ? NULL : "model.layers.%d.mlp.up_proj.weight";
    case R_GATE_UP: return phi3 ? "model.layers.%d.mlp.gate_up_proj.weight" : NULL;
    case R_DOWN: return "model.layers.%d.mlp.down_proj.weight";
    case R_B_UP: *optional = 1; return phi3 ? NULL : "model.layers.%d.mlp.up_proj.bias";
    case R_B_DOWN: *optional = 1; return "model.layers.%d.mlp.down_proj.bias";
    case R_POST_FFN_NORM: return post ? "model.layers.%d.post_feedforward_layernorm.weight" : NULL;
    default: return NULL;
    }
}

/* llama.cpp's names (also used for llama2.c checkpoints, see io/llama2c.c). */
static const char *gguf_role_name(ss_arch a, int r, int *optional)
{
    int neox = a == SS_ARCH_GPTNEOX, fused = neox || a == SS_ARCH_PHI3;
    int post = a == SS_ARCH_GEMMA2 || a == SS_ARCH_OLMO2;
    *optional = !neox && (r == R_BQ || r == R_BK || r == R_BV || r == R_BO || r == R_B_UP ||
                          r == R_B_DOWN);
    switch (r) {
    case R_ATTN_NORM: return a == SS_ARCH_OLMO2 ? NULL : "blk.%d.attn_norm.weight";
    case R_ATTN_NORM_B: return neox ? "blk.%d.attn_norm.bias" : NULL;
    case R_Q: return fused ? NULL : "blk.%d.attn_q.weight";
    case R_K: return fused ? NULL : "blk.%d.attn_k.weight";
    case R_V: return fused ? NULL : "blk.%d.attn_v.weight";
    case R_QKV: return fused ? "blk.%d.attn_qkv.weight" : NULL;
    case R_BQ: return fused ? NULL : "blk.%d.attn_q.bias";
    case R_BK: return fused ? NULL : "blk.%d.attn_k.bias";
    case R_BV: return fused ? NULL : "blk.%d.attn_v.bias";
    case R_BQKV: return neox ? "blk.%d.attn_qkv.bias" : NULL;
    case R_O: return "blk.%d.attn_output.weight";
    case R_BO: return "blk.%d.attn_output.bias";
    case R_Q_NORM: return a == SS_ARCH_OLMO2 ? "blk.%d.attn_q_norm.weight" : NULL;
    case R_K_NORM: return a == SS_ARCH_OLMO2 ? "blk.%d.attn_k_norm.weight" : NULL;
    case R_POST_ATTN_NORM: return post ? "blk.%d.post_attention_norm.weight" : NULL;
    case R_FFN_NORM: return a == SS_ARCH_OLMO2 ? NULL : "blk.%d.ffn_norm.weight";
    case R_FFN_NORM_B: return neox ? "blk.%d.ffn_norm.bias" : NULL;
    case R_GATE: return fused ? NULL : "blk.%d.ffn_gate.weight";
    case R_UP: return a == SS_ARCH_PHI3 ? NULL : "blk.%d.ffn_up.weight";
    case R_GATE_UP: return a == SS_ARCH_PHI3 ? "blk.%d.ffn_up.weight" : NULL;
    case R_DOWN: return "blk.%d.ffn_down.weight";
    case R_B_UP: return "blk.%d.ffn_up.bias";
    case R_B_DOWN: return "blk.%d.ffn_down.bias";
    case R_POST_FFN_NORM: return post ? "blk.%d.post_ffw_norm.weight" : NULL;
    default: return NULL;
    }
}

/* Expected shape of each tensor, row-major. */
static void expected_shape(const ss_config *c, int r, int64_t shape[2], int *ndim)
{
    int64_t q = (int64_t)c->n_head * c->d_head, kv = (int64_t)c->n_kv_head * c->d_head;
    int per_head = c->qk_norm == SS_QKNORM_HEAD;
    *ndim = 1;
    switch (r) {
    case R_Q: *ndim = 2; shape[0] = q; shape[1] = c->d_model; break;
    case R_K: case R_V: *ndim = 2; shape[0] = kv; shape[1] = c->d_model; break;
    case R_QKV: *ndim = 2; shape[0] = q + 2 * kv; shape[1] = c->d_model; break;
    case R_O: *ndim = 2; shape[0] = c->d_model; shape[1] = q; break;
    case R_BQ: shape[0] = q; break;
    case R_BK: case R_BV: shape[0] = kv; break;
    case R_BQKV: shape[0] = q + 2 * kv; break;
    case R_Q_NORM: shape[0] = per_head ? c->d_head : q; break;
    case R_K_NORM: shape[0] = per_head ? c->d_head : kv; break;
    case R_GATE: case R_UP: *ndim = 2; shape[0] = c->d_ff; shape[1] = c->d_model; break;
    case R_GATE_UP: *ndim = 2; shape[0] = 2 * (int64_t)c->d_ff; shape[1] = c->d_model; break;
    case R_DOWN: *ndim = 2; shape[0] = c->d_model; shape[1] = c->d_ff; break;
    case R_B_UP: shape[0] = c->d_ff; break;
    default: shape[0] = c->d_model; break; /* norms, their biases, bo, b_down */
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

/* ---- fused projections: row views ------------------------------------ */

/* Rows [row0, row0 + rows) of t as a tensor of its own (same bytes). */
static ss_code row_view(ss_model *m, const ss_tensor *t, int64_t row0, int64_t rows,
                        const char *part, const ss_tensor **out, ss_error *err)
{
    int64_t cols = t->ndim == 2 ? t->shape[1] : 1;
    uint64_t row_bytes = ss_dtype_bytes(t->dtype, (uint64_t)cols);
    if (!row_bytes)
        return ss_fail(err, SS_ERR_SHAPE, "%s: tensor '%s' cannot be split into rows (%s)",
                       m->path, t->name, ss_dtype_name(t->dtype));
    ss_tensor *v = &m->views[m->n_views];
    size_t len = strlen(t->name) + strlen(part) + 3;
    if (!(v->name = ss_calloc(len, 1, "tensor name", err)))
        return SS_ERR_NOMEM;
    m->n_views++;
    snprintf(v->name, len, "%s[%s]", t->name, part);
    v->dtype = t->dtype;
    v->ndim = t->ndim;
    v->shape[0] = rows;
    v->shape[1] = cols;
    v->data = (const uint8_t *)t->data + (uint64_t)row0 * row_bytes;
    v->nbytes = (uint64_t)rows * row_bytes;
    v->file = t->file;
    *out = v;
    return SS_OK;
}

/* GPT-NeoX's HF query_key_value rows are [n_head, 3, d_head]; copy them to
 * the blocked order [3, n_head, d_head] (what llama.cpp's converter writes)
 * once, so that q, k and v become plain row ranges. */
static ss_code regroup_per_head(ss_model *m, const ss_tensor *t, const ss_tensor **out,
                                ss_error *err)
{
    const ss_config *c = &m->cfg;
    int64_t cols = t->ndim == 2 ? t->shape[1] : 1;
    uint64_t row_bytes = ss_dtype_bytes(t->dtype, (uint64_t)cols);
    if (!row_bytes || c->n_kv_head != c->n_head)
        return ss_fail(err, SS_ERR_SHAPE, "%s: tensor '%s' cannot be regrouped per head", m->path,
                       t->name);
    ss_mmap anon;
    int map;
    ss_code rc = ss_mmap_anon(t->name, t->nbytes, &anon, err);
    if (rc || (rc = ss_tensor_list_add_map(&m->owned, &anon, &map, err)))
        return rc;
    uint8_t *dst = m->owned.maps[map].base;
    size_t head_bytes = (size_t)c->d_head * row_bytes;
    for (int h = 0; h < c->n_head; h++)
        for (int j = 0; j < 3; j++)
            memcpy(dst + ((size_t)j * c->n_head + h) * head_bytes,
                   (const uint8_t *)t->data + ((size_t)h * 3 + j) * head_bytes, head_bytes);
    ss_mmap_seal(&m->owned.maps[map]);
    ss_tensor copy = *t;
    copy.data = dst;
    if ((rc = ss_tensor_list_add(&m->owned, &copy, map, err)))
        return rc;
    *out = ss_tensor_list_find(&m->owned, t->name);
    return SS_OK;
}

static ss_code split_qkv(ss_model *m, const ss_tensor *t, const ss_tensor **q, const ss_tensor **k,
                         const ss_tensor **v, ss_error *err)
{
    const ss_config *c = &m->cfg;
    int64_t qd = (int64_t)c->n_head * c->d_head, kvd = (int64_t)c->n_kv_head * c->d_head;
    ss_code rc = SS_OK;
    if (m->format == SS_FMT_HF && c->qkv_layout == SS_QKV_PER_HEAD)
        rc = regroup_per_head(m, t, &t, err);
    if (rc || (rc = row_view(m, t, 0, qd, "q", q, err)) ||
        (rc = row_view(m, t, qd, kvd, "k", k, err)))
        return rc;
    return row_view(m, t, qd + kvd, kvd, "v", v, err);
}

/* Puts a bound tensor where the engine looks for it. */
static ss_code place(ss_model *m, ss_layer_weights *lw, int r, const ss_tensor *t, ss_error *err)
{
    switch (r) {
    case R_ATTN_NORM: lw->attn_norm = t; break;
    case R_ATTN_NORM_B: lw->attn_norm_b = t; break;
    case R_Q: lw->wq = t; break;
    case R_K: lw->wk = t; break;
    case R_V: lw->wv = t; break;
    case R_QKV: return split_qkv(m, t, &lw->wq, &lw->wk, &lw->wv, err);
    case R_BQ: lw->bq = t; break;
    case R_BK: lw->bk = t; break;
    case R_BV: lw->bv = t; break;
    case R_BQKV: return split_qkv(m, t, &lw->bq, &lw->bk, &lw->bv, err);
    case R_O: lw->wo = t; break;
    case R_BO: lw->bo = t; break;
    case R_Q_NORM: lw->q_norm = t; break;
    case R_K_NORM: lw->k_norm = t; break;
    case R_POST_ATTN_NORM: lw->post_attn_norm = t; break;
    case R_FFN_NORM: lw->ffn_norm = t; break;
    case R_FFN_NORM_B: lw->ffn_norm_b = t; break;
    case R_GATE: lw->w_gate = t; break;
    case R_UP: lw->w_up = t; break;
    case R_GATE_UP: {
        /* first d_ff rows the gate, then up (HF and llama.cpp alike) */
        ss_code rc = row_view(m, t, 0, m->cfg.d_ff, "gate", &lw->w_gate, err);
        return rc ? rc : row_view(m, t, m->cfg.d_ff, m->cfg.d_ff, "up", &lw->w_up, err);
    }
    case R_DOWN: lw->w_down = t; break;
    case R_B_UP: lw->b_up = t; break;
    case R_B_DOWN: lw->b_down = t; break;
    case R_POST_FFN_NORM: lw->post_ffn_norm = t; break;
    }
    return SS_OK;
}

static ss_code bind_layer(ss_model *m, int l, int *any_bias, ss_error *err)
{
    ss_config *c = &m->cfg;
    for (int r = 0; r < R_COUNT; r++) {
        int optional;
        const char *fmt = m->format == SS_FMT_HF ? hf_role_name(c->arch, r, &optional)
                                                 : gguf_role_name(c->arch, r, &optional);
        if (!fmt)
            continue;
        char name[160];
        snprintf(name, sizeof name, fmt, l);
        const ss_tensor *t = ss_tensor_list_find(&m->tensors, name);
        if (!t && !optional)
            return ss_fail(err, SS_ERR_MISSING, "%s: required tensor '%s' is missing", m->path, name);
        if (!t)
            continue;
        int64_t shape[2];
        int ndim;
        expected_shape(c, r, shape, &ndim);
        ss_code rc = check_shape(t, ndim, shape, err);
        if (rc || (rc = place(m, &m->layers[l], r, t, err)))
            return rc;
        *any_bias |= r == R_BQ || r == R_BK || r == R_BV || r == R_BQKV;
    }
    return SS_OK;
}

/* The tensors outside the layers, in the order of enum global_tensor. */
enum global_tensor { G_EMBD, G_OUT_NORM, G_OUT_NORM_B, G_OUTPUT, G_COUNT };

/* Name of a global tensor in a format (hf: HF, else GGUF / llama2.c), or
 * NULL if the architecture has none. */
static const char *global_name(int hf, ss_arch a, int g)
{
    int neox = a == SS_ARCH_GPTNEOX;
    switch (g) {
    case G_EMBD:
        return hf ? (neox ? "gpt_neox.embed_in.weight" : "model.embed_tokens.weight")
                  : "token_embd.weight";
    case G_OUT_NORM:
        return hf ? (neox ? "gpt_neox.final_layer_norm.weight" : "model.norm.weight")
                  : "output_norm.weight";
    case G_OUT_NORM_B:
        return !neox ? NULL : hf ? "gpt_neox.final_layer_norm.bias" : "output_norm.bias";
    default:
        return hf ? (neox ? "embed_out.weight" : "lm_head.weight") : "output.weight";
    }
}

static ss_code bind_weights(ss_model *m, ss_error *err)
{
    ss_config *c = &m->cfg;
    int hf = m->format == SS_FMT_HF;
    const char *embd = global_name(hf, c->arch, G_EMBD);
    const char *out_norm = global_name(hf, c->arch, G_OUT_NORM);
    const char *out_norm_b = global_name(hf, c->arch, G_OUT_NORM_B);
    const char *output = global_name(hf, c->arch, G_OUTPUT);
    ss_code rc = find_required(m, embd, &m->tok_embd, err);
    if (rc)
        return rc;
    if (m->format != SS_FMT_HF) /* GGUF and llama2.c do not state the vocabulary size */
        c->vocab = (int)m->tok_embd->shape[0];
    int64_t emb[2] = {c->vocab, c->d_model};
    if ((rc = check_shape(m->tok_embd, 2, emb, err)) ||
        (rc = find_required(m, out_norm, &m->out_norm, err)))
        return rc;
    int64_t norm[1] = {c->d_model};
    if ((rc = check_shape(m->out_norm, 1, norm, err)))
        return rc;
    if (out_norm_b && ((rc = find_required(m, out_norm_b, &m->out_norm_b, err)) ||
                       (rc = check_shape(m->out_norm_b, 1, norm, err))))
        return rc;
    m->output = ss_tensor_list_find(&m->tensors, output);
    if (!m->output) {
        if (m->format == SS_FMT_HF && !c->tied_output)
            return ss_fail(err, SS_ERR_MISSING,
                           "%s: required tensor '%s' is missing (config says tie_word_embeddings "
                           "is false)", m->path, output);
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
    m->views = m->layers ? ss_calloc((size_t)c->n_layer * 8, sizeof *m->views, "tensor views", err)
                         : NULL;
    if (!m->views)
        return SS_ERR_NOMEM;
    int any_bias = 0;
    for (int l = 0; l < c->n_layer; l++)
        if ((rc = bind_layer(m, l, &any_bias, err)))
            return rc;
    if (m->format == SS_FMT_HF && c->has_qkv_bias && !m->layers[0].bq)
        return ss_fail(err, SS_ERR_MISSING, "%s: the config promises q/k/v biases but '%s' is missing",
                       m->path, c->arch == SS_ARCH_GPTNEOX ? "gpt_neox.layers.0.attention.query_key_value.bias"
                                     : "model.layers.0.self_attn.q_proj.bias");
    c->has_qkv_bias = any_bias;
    m->dtype = m->layers[0].wq->dtype;
    return SS_OK;
}

/* ---- a checkpoint tensor under Hugging Face's name (model/hf_write.c) -- */

/* name = fmt with its one %d replaced by a layer number below n_layer. */
static int match_layer(const char *fmt, const char *name, int n_layer, int *layer)
{
    const char *pct = strstr(fmt, "%d");
    size_t pre = (size_t)(pct - fmt);
    if (strncmp(name, fmt, pre) || !isdigit((unsigned char)name[pre]))
        return 0;
    char *end;
    long l = strtol(name + pre, &end, 10);
    if (strcmp(end, pct + 2) || l >= n_layer)
        return 0;
    *layer = (int)l;
    return 1;
}

static ss_tensor_kind role_kind(int r)
{
    switch (r) {
    case R_Q: return SS_TK_Q;
    case R_K: return SS_TK_K;
    case R_QKV: return SS_TK_QKV;
    case R_BQ: return SS_TK_BQ;
    case R_BK: return SS_TK_BK;
    case R_BQKV: return SS_TK_BQKV;
    case R_ATTN_NORM: case R_Q_NORM: case R_K_NORM: case R_POST_ATTN_NORM: case R_FFN_NORM:
    case R_POST_FFN_NORM:
        return SS_TK_NORM;
    default: return SS_TK_OTHER;
    }
}

int ss_model_tensor_hf(const ss_model *m, const char *name, char *hf, size_t cap, int *layer,
                       ss_tensor_kind *kind)
{
    ss_arch a = m->cfg.arch;
    int own = m->format == SS_FMT_HF, optional;
    *layer = -1;
    for (int g = 0; g < G_COUNT; g++) {
        const char *n = global_name(own, a, g);
        if (n && !strcmp(n, name)) {
            *kind = g == G_OUT_NORM ? SS_TK_NORM : SS_TK_OTHER;
            return snprintf(hf, cap, "%s", global_name(1, a, g)) < (int)cap;
        }
    }
    for (int r = 0; r < R_COUNT; r++) {
        const char *fmt = own ? hf_role_name(a, r, &optional) : gguf_role_name(a, r, &optional);
        const char *to = hf_role_name(a, r, &optional);
        if (fmt && to && match_layer(fmt, name, m->cfg.n_layer, layer)) {
            *kind = role_kind(r);
            return snprintf(hf, cap, to, *layer) < (int)cap;
        }
    }
    *layer = -1;
    return 0;
}

/* Sliding window of layer l. */
int ss_layer_window(const ss_config *c, int l)
{
    if (c->sliding_window <= 0)
        return 0;
    return !c->per_layer || (l < SS_MAX_LAYERS && c->layer_local[l]) ? c->sliding_window : 0;
}

int ss_layer_is_local_rope(const ss_config *c, int l)
{
    return c->rope_local_base > 0 && c->per_layer && l < SS_MAX_LAYERS && c->layer_local[l];
}

const ss_rope *ss_layer_rope(const ss_model *m, int l)
{
    return ss_layer_is_local_rope(&m->cfg, l) ? &m->rope_local : &m->rope;
}

const ss_rope *ss_layer_rope_override(const ss_model *m, int l, const ss_rope *override,
                                      ss_rope *scratch)
{
    const ss_rope *own = ss_layer_rope(m, l);
    if (!override)
        return own;
    if (own == &m->rope)
        return override;
    *scratch = *own;
    for (int f = 0; f < scratch->n_freq && f < override->n_freq; f++)
        scratch->active[f] = override->active[f];
    return scratch;
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
    return bind_weights(m, err);
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
    return bind_weights(m, err);
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
    return bind_weights(m, err);
}

/* A GGUF tensor of F32 per-frequency divisors, checked; NULL if absent. */
static ss_code freq_tensor(const ss_model *m, const char *name, int n, float *out, int *found,
                           ss_error *err)
{
    const ss_tensor *t = m->has_gguf ? ss_tensor_list_find(&m->tensors, name) : NULL;
    *found = t != NULL;
    if (!t)
        return SS_OK;
    if (t->dtype != SS_DT_F32 || ss_tensor_numel(t) != n)
        return ss_fail(err, SS_ERR_SHAPE, "%s: %s must be F32 with %d values", m->path, name, n);
    ss_dequant(SS_DT_F32, t->data, 0, n, out);
    for (int i = 0; i < n; i++)
        if (!(out[i] > 0) || !isfinite(out[i]))
            return ss_fail(err, SS_ERR_VALUE, "%s: %s[%d] = %g must be positive", m->path, name, i,
                           out[i]);
    return SS_OK;
}

/* Phi-3 GGUF: longrope as two divisor tensors (llama.cpp's converter). */
static ss_code gguf_longrope(ss_model *m, ss_error *err)
{
    int F = m->cfg.rotary_dim / 2, has_s, has_l;
    float sf[SS_ROPE_MAX_FREQ], lf[SS_ROPE_MAX_FREQ];
    if (F > SS_ROPE_MAX_FREQ)
        return SS_OK; /* ss_rope_standard reports it */
    ss_code rc = freq_tensor(m, "rope_factors_short.weight", F, sf, &has_s, err);
    if (rc || (rc = freq_tensor(m, "rope_factors_long.weight", F, lf, &has_l, err)))
        return rc;
    if (!has_s && !has_l)
        return SS_OK;
    if (!has_s || !has_l)
        return ss_fail(err, SS_ERR_MISSING, "%s: rope_factors_short.weight and "
                       "rope_factors_long.weight come as a pair", m->path);
    ss_rope_scaling *s = &m->cfg.scaling;
    s->type = SS_SCALE_LONGROPE;
    s->n_factors = F;
    for (int f = 0; f < F; f++) {
        s->short_factor[f] = sf[f];
        s->long_factor[f] = lf[f];
    }
    return SS_OK;
}

static ss_code build_rope(ss_model *m, double base, ss_error *err)
{
    ss_config *c = &m->cfg;
    if (!c->rotary_dim)
        c->rotary_dim = c->d_head;
    ss_code rc = gguf_longrope(m, err);
    if (rc || (rc = ss_rope_standard(&m->rope, c->rotary_dim, base, &c->scaling, err)))
        return rc;
    if (c->rope_local_base > 0 &&
        (rc = ss_rope_standard(&m->rope_local, c->rotary_dim, c->rope_local_base, NULL, err)))
        return rc;
    float f[SS_ROPE_MAX_FREQ];
    int found;
    if ((rc = freq_tensor(m, "rope_freqs.weight", m->rope.n_freq, f, &found, err)) || !found)
        return rc;
    ss_rope_apply_freq_factors(&m->rope, f);
    c->scaling.type = SS_SCALE_FREQ_FACTORS;
    m->rope.scaling.type = SS_SCALE_FREQ_FACTORS;
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
    if (m->release) {
        m->release(m);
        return;
    }
    if (m->has_gguf)
        ss_gguf_free(&m->gguf); /* owns m->tensors */
    else
        ss_tensor_list_free(&m->tensors);
    for (int i = 0; i < m->n_views; i++)
        free(m->views[i].name);
    free(m->views);
    ss_tensor_list_free(&m->owned);
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
