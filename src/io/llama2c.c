/* llama2.c checkpoints (karpathy/llama2.c run.c, runq.c, export.py).
 *
 * Legacy (version 0): 7 int32 (dim, hidden_dim, n_layers, n_heads,
 * n_kv_heads, vocab_size, seq_len; vocab_size < 0 = separate classifier),
 * then fp32, all layers of one kind together (run.c memory_map_weights):
 *   token_embd [vocab, dim], rms_att [L, dim], wq [L, q_dim, dim],
 *   wk [L, kv_dim, dim], wv [L, kv_dim, dim], wo [L, dim, q_dim],
 *   rms_ffn [L, dim], w1 [L, hidden, dim], w2 [L, dim, hidden],
 *   w3 [L, hidden, dim], rms_final [dim], freq_cis_real and _imag
 *   (seq_len * head_size/2 each, unused), wcls [vocab, dim] if not shared.
 * Matrices are [out, in] row-major (run.c matmul: W (d,n) @ x (n)).
 *
 * "ak42" versions (export.py version1_export / version2_export): u32 magic
 * 0x616b3432, int32 version, the same 7 int32, a u8 shared_classifier flag,
 * (v2: int32 group_size), zero padding to 256 bytes. Then
 *   v1: rms_att [L, dim], rms_ffn [L, dim], rms_final [dim], token_embd,
 *       wq, wk, wv, wo, w1, w2, w3 (each [L, ...]), wcls if not shared; fp32.
 *   v2: the three norms in fp32, then for each of token_embd, wq[l]..., wk[l]...,
 *       wv, wo, w1, w2, w3 (one tensor per layer) and wcls if not shared:
 *       int8 q[numel] followed by fp32 scales[numel / group_size]
 *       (runq.c init_quantized_tensors); value = q[i] * scale[i / group_size].
 *       The scales are fp32 and stored apart from the int8 values, which no
 *       ss_dtype describes, so v2 matrices are dequantized once at load into
 *       an anonymous mapping of fp32 (exactly runq.c's dequantize()).
 *
 * The file size must equal exactly what the header implies: a checkpoint
 * with trailing bytes is as suspicious as a truncated one. */
#include "io/llama2c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/le.h"
#include "common/mem.h"

#define AK42_MAGIC 0x616b3432u
#define AK42_HEADER 256
#define LEGACY_HEADER 28
#define MAX_DIM (1 << 24) /* per header field; sizes are then overflow-checked */

static ss_code check_field(const char *path, const char *name, long long v, long long max,
                           ss_error *err)
{
    if (v < 1 || v > max)
        return ss_fail(err, SS_ERR_FORMAT, "%s: llama2.c header field '%s' is %lld, expected 1 to "
                       "%lld", path, name, v, max);
    return SS_OK;
}

static ss_code check_header(const char *path, ss_llama2c *m, ss_error *err)
{
    ss_code rc = check_field(path, "dim", m->dim, MAX_DIM, err);
    if (!rc)
        rc = check_field(path, "hidden_dim", m->hidden_dim, MAX_DIM, err);
    if (!rc)
        rc = check_field(path, "n_layers", m->n_layers, 1 << 16, err);
    if (!rc)
        rc = check_field(path, "n_heads", m->n_heads, 1 << 16, err);
    if (!rc)
        rc = check_field(path, "n_kv_heads", m->n_kv_heads, 1 << 16, err);
    if (!rc)
        rc = check_field(path, "vocab_size (absolute value)", m->vocab_size, MAX_DIM, err);
    if (!rc)
        rc = check_field(path, "seq_len", m->seq_len, MAX_DIM, err);
    if (rc)
        return rc;
    if (m->dim % m->n_heads != 0)
        return ss_fail(err, SS_ERR_FORMAT, "%s: llama2.c header: n_heads %d does not divide dim "
                       "%d", path, m->n_heads, m->dim);
    if (m->n_heads % m->n_kv_heads != 0)
        return ss_fail(err, SS_ERR_FORMAT, "%s: llama2.c header: n_kv_heads %d does not divide "
                       "n_heads %d", path, m->n_kv_heads, m->n_heads);
    if ((m->dim / m->n_heads) % 2 != 0)
        return ss_fail(err, SS_ERR_FORMAT, "%s: llama2.c header: head size %d (dim / n_heads) is "
                       "odd; rotary pairs need an even size", path, m->dim / m->n_heads);
    return SS_OK;
}

/* Element counts of the per-layer matrices. */
typedef struct {
    uint64_t dim, hidden, L, q_dim, kv_dim, vocab, head;
} dims;

static dims dims_of(const ss_llama2c *m)
{
    dims d;
    d.dim = (uint64_t)m->dim;
    d.hidden = (uint64_t)m->hidden_dim;
    d.L = (uint64_t)m->n_layers;
    d.head = d.dim / (uint64_t)m->n_heads;
    d.q_dim = d.head * (uint64_t)m->n_heads;
    d.kv_dim = d.head * (uint64_t)m->n_kv_heads;
    d.vocab = (uint64_t)m->vocab_size;
    return d;
}

/* The 7 per-layer matrix kinds in file order, with their [rows, cols]. */
enum { WQ, WK, WV, WO, W1, W2, W3, N_MAT };
static const char *mat_names[N_MAT] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                       "ffn_gate", "ffn_down", "ffn_up"};

static void mat_shape(const dims *d, int k, uint64_t *rows, uint64_t *cols)
{
    switch (k) {
    case WQ: *rows = d->q_dim; *cols = d->dim; break;
    case WK: case WV: *rows = d->kv_dim; *cols = d->dim; break;
    case WO: *rows = d->dim; *cols = d->q_dim; break;
    case W1: case W3: *rows = d->hidden; *cols = d->dim; break;
    default: *rows = d->dim; *cols = d->hidden; break; /* W2 */
    }
}

/* Checked running byte offset: every product and sum is overflow-checked,
 * so a hostile header yields an error, never a wrapped size. */
typedef struct {
    uint64_t off;
    int overflow;
} cursor;

static uint64_t take(cursor *c, uint64_t a, uint64_t b, uint64_t elem_bytes)
{
    uint64_t n, start = c->off;
    if (!ss_mul_u64(a, b, &n) || !ss_mul_u64(n, elem_bytes, &n) || !ss_add_u64(c->off, n, &c->off))
        c->overflow = 1;
    return start;
}

typedef struct {
    ss_llama2c *m;
    const uint8_t *b;
    int map;
    const char *path;
    ss_error *err;
} adder;

static ss_code add_f32(adder *a, const char *name, int ndim, uint64_t d0, uint64_t d1,
                       const uint8_t *data)
{
    ss_tensor t = {0};
    t.name = (char *)name;
    t.dtype = SS_DT_F32;
    t.ndim = ndim;
    t.shape[0] = (int64_t)d0;
    t.shape[1] = (int64_t)d1;
    t.data = data;
    t.nbytes = 4 * d0 * (ndim == 2 ? d1 : 1);
    return ss_tensor_list_add(&a->m->tensors, &t, a->map, a->err);
}

static ss_code add_layer_vec(adder *a, const char *kind, uint64_t off, uint64_t dim)
{
    char name[64];
    for (int l = 0; l < a->m->n_layers; l++) {
        snprintf(name, sizeof name, "blk.%d.%s.weight", l, kind);
        ss_code rc = add_f32(a, name, 1, dim, 0, a->b + off + 4 * dim * (uint64_t)l);
        if (rc)
            return rc;
    }
    return SS_OK;
}

static ss_code check_size(const char *path, uint64_t want, size_t n, const char *what,
                          ss_error *err)
{
    if (want != n)
        return ss_fail(err, SS_ERR_FORMAT, "%s: the llama2.c %s header implies exactly %llu bytes "
                       "but the file has %zu (%s)", path, what, (unsigned long long)want, n,
                       n < want ? "truncated" : "trailing bytes");
    return SS_OK;
}

/* Legacy and v1: all fp32, differing only in order and header size. */
static ss_code parse_fp32(adder *a, size_t n)
{
    ss_llama2c *m = a->m;
    dims d = dims_of(m);
    cursor c = {m->version == 0 ? LEGACY_HEADER : AK42_HEADER, 0};
    uint64_t o_emb, o_att, o_ffn, o_fin, o_mat[N_MAT], o_cls = 0;
    if (m->version == 0) {
        o_emb = take(&c, d.vocab, d.dim, 4);
        o_att = take(&c, d.L, d.dim, 4);
        for (int k = WQ; k <= WO; k++) {
            uint64_t r, cc;
            mat_shape(&d, k, &r, &cc);
            o_mat[k] = take(&c, d.L, r * cc, 4);
        }
        o_ffn = take(&c, d.L, d.dim, 4);
        for (int k = W1; k <= W3; k++) {
            uint64_t r, cc;
            mat_shape(&d, k, &r, &cc);
            o_mat[k] = take(&c, d.L, r * cc, 4);
        }
        o_fin = take(&c, 1, d.dim, 4);
        take(&c, (uint64_t)m->seq_len, d.head, 4); /* freq_cis_real + imag: head/2 each */
    } else {
        o_att = take(&c, d.L, d.dim, 4);
        o_ffn = take(&c, d.L, d.dim, 4);
        o_fin = take(&c, 1, d.dim, 4);
        o_emb = take(&c, d.vocab, d.dim, 4);
        for (int k = 0; k < N_MAT; k++) {
            uint64_t r, cc;
            mat_shape(&d, k, &r, &cc);
            o_mat[k] = take(&c, d.L, r * cc, 4);
        }
    }
    if (!m->shared_classifier)
        o_cls = take(&c, d.vocab, d.dim, 4);
    if (c.overflow)
        return ss_fail(a->err, SS_ERR_FORMAT, "%s: llama2.c header dimensions overflow the file "
                       "size computation", a->path);
    ss_code rc = check_size(a->path, c.off, n, m->version == 0 ? "legacy" : "version 1", a->err);
    if (!rc)
        rc = add_f32(a, "token_embd.weight", 2, d.vocab, d.dim, a->b + o_emb);
    if (!rc)
        rc = add_layer_vec(a, "attn_norm", o_att, d.dim);
    if (!rc)
        rc = add_layer_vec(a, "ffn_norm", o_ffn, d.dim);
    for (int k = 0; k < N_MAT && !rc; k++) {
        uint64_t r, cc;
        mat_shape(&d, k, &r, &cc);
        for (int l = 0; l < m->n_layers && !rc; l++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, mat_names[k]);
            rc = add_f32(a, name, 2, r, cc, a->b + o_mat[k] + 4 * r * cc * (uint64_t)l);
        }
    }
    if (!rc)
        rc = add_f32(a, "output_norm.weight", 1, d.dim, 0, a->b + o_fin);
    if (!rc && !m->shared_classifier)
        rc = add_f32(a, "output.weight", 2, d.vocab, d.dim, a->b + o_cls);
    return rc;
}

/* One v2 tensor: int8 values then fp32 group scales, dequantized into dst. */
static void dequant_q8(const uint8_t *src, uint64_t numel, uint64_t gs, float *dst)
{
    const int8_t *q = (const int8_t *)src;
    const uint8_t *s = src + numel;
    for (uint64_t g = 0; g < numel / gs; g++) {
        float scale = ss_le_f32(s + 4 * g);
        for (uint64_t i = g * gs; i < (g + 1) * gs; i++)
            dst[i] = q[i] * scale;
    }
}

/* Element count of the i-th quantized tensor of a v2 file, in file order:
 * token_embd, then each matrix kind for every layer, then wcls. */
static uint64_t v2_numel(const dims *d, int i)
{
    if (i == 0 || i > N_MAT * (int)d->L)
        return d->vocab * d->dim;
    uint64_t r, cc;
    mat_shape(d, (i - 1) / (int)d->L, &r, &cc);
    return r * cc;
}

static ss_code parse_v2(adder *a, size_t n)
{
    ss_llama2c *m = a->m;
    dims d = dims_of(m);
    int32_t gs_i = ss_le_i32(a->b + 37);
    if (gs_i < 1 || d.dim % (uint64_t)gs_i != 0)
        return ss_fail(a->err, SS_ERR_FORMAT, "%s: llama2.c version 2 group_size %d must be "
                       "positive and divide dim %d", a->path, gs_i, m->dim);
    /* Every matrix has dim as a factor of its element count, so group_size
     * divides them all. */
    uint64_t gs = (uint64_t)gs_i;
    int n_q = 1 + N_MAT * m->n_layers + (m->shared_classifier ? 0 : 1);
    cursor c = {AK42_HEADER, 0};
    uint64_t o_att = take(&c, d.L, d.dim, 4);
    uint64_t o_ffn = take(&c, d.L, d.dim, 4);
    uint64_t o_fin = take(&c, 1, d.dim, 4);
    uint64_t q_start = c.off, total = 0, per_layer = 0;
    /* The quantized tensors' size in closed form (every count is a multiple
     * of gs, so their scales take 4 total / gs bytes), checked against the
     * file before anything walks the layers: a header claiming 65,487
     * layers is refused in O(1). */
    for (int k = 0; k < N_MAT; k++) {
        uint64_t r, cc;
        mat_shape(&d, k, &r, &cc);
        if (!ss_mul_u64(r, cc, &r) || !ss_add_u64(per_layer, r, &per_layer))
            c.overflow = 1;
    }
    uint64_t embd = d.vocab * d.dim; /* both < 2^31 (check_header) */
    if (!ss_mul_u64(per_layer, d.L, &total) || !ss_add_u64(total, embd, &total) ||
        (!m->shared_classifier && !ss_add_u64(total, embd, &total)))
        c.overflow = 1;
    take(&c, total, 1, 1);
    take(&c, total / gs, 1, 4);
    if (c.overflow || total > SIZE_MAX / 4)
        return ss_fail(a->err, SS_ERR_FORMAT, "%s: llama2.c header dimensions overflow the file "
                       "size computation", a->path);
    ss_code rc = check_size(a->path, c.off, n, "version 2", a->err);
    if (rc)
        return rc;
    ss_mmap anon;
    int amap;
    char label[600];
    snprintf(label, sizeof label, "%.500s (dequantized int8 weights)", a->path);
    rc = ss_mmap_anon(label, (size_t)total * 4, &anon, a->err);
    if (!rc)
        rc = ss_tensor_list_add_map(&m->tensors, &anon, &amap, a->err);
    if (rc)
        return rc;
    float *f = m->tensors.maps[amap].base;
    const uint8_t *src = a->b + q_start;
    uint64_t fo = 0;
    for (int i = 0; i < n_q; i++) {
        uint64_t ne = v2_numel(&d, i);
        dequant_q8(src, ne, gs, f + fo);
        src += ne + 4 * (ne / gs);
        fo += ne;
    }
    ss_mmap_seal(&m->tensors.maps[amap]);
    /* Norms from the file, matrices from the dequantized copy. */
    rc = add_layer_vec(a, "attn_norm", o_att, d.dim);
    if (!rc)
        rc = add_layer_vec(a, "ffn_norm", o_ffn, d.dim);
    if (!rc)
        rc = add_f32(a, "output_norm.weight", 1, d.dim, 0, a->b + o_fin);
    adder q = *a;
    q.map = amap;
    if (!rc)
        rc = add_f32(&q, "token_embd.weight", 2, d.vocab, d.dim, (const uint8_t *)f);
    fo = d.vocab * d.dim;
    for (int j = 0; j < N_MAT && !rc; j++) {
        uint64_t r, cc;
        mat_shape(&d, j, &r, &cc);
        for (int l = 0; l < m->n_layers && !rc; l++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, mat_names[j]);
            rc = add_f32(&q, name, 2, r, cc, (const uint8_t *)(f + fo));
            fo += r * cc;
        }
    }
    if (!rc && !m->shared_classifier)
        rc = add_f32(&q, "output.weight", 2, d.vocab, d.dim, (const uint8_t *)(f + fo));
    return rc;
}

/* The ak42 fields a header read needs: magic, version, 7 int32, the
 * shared-classifier byte at 36. */
#define AK42_FIELDS 40

ss_code ss_llama2c_header(const char *path, const void *bytes, size_t n, ss_llama2c *m,
                          ss_error *err)
{
    const uint8_t *b = bytes;
    if (n >= 4 && memcmp(b, "GGUF", 4) == 0)
        return ss_fail(err, SS_ERR_FORMAT, "%s: is a GGUF file, not a llama2.c checkpoint", path);
    if (n < LEGACY_HEADER)
        return ss_fail(err, SS_ERR_FORMAT, "%s: file is %zu bytes, too short for a llama2.c "
                       "header (%d bytes)", path, n, LEGACY_HEADER);
    const uint8_t *h = b;
    if (ss_le_u32(b) == AK42_MAGIC) {
        if (n < AK42_FIELDS)
            return ss_fail(err, SS_ERR_FORMAT, "%s: file is %zu bytes, too short for a llama2.c "
                           "'ak42' header (%d bytes)", path, n, AK42_HEADER);
        m->version = ss_le_i32(b + 4);
        if (m->version != 1 && m->version != 2)
            return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: llama2.c checkpoint version %d; "
                           "supported: legacy (no magic), 1 (fp32), 2 (int8 groups)", path,
                           m->version);
        h = b + 8;
    }
    m->dim = ss_le_i32(h);
    m->hidden_dim = ss_le_i32(h + 4);
    m->n_layers = ss_le_i32(h + 8);
    m->n_heads = ss_le_i32(h + 12);
    m->n_kv_heads = ss_le_i32(h + 16);
    int32_t vocab = ss_le_i32(h + 20);
    m->seq_len = ss_le_i32(h + 24);
    if (m->version == 0) {
        /* run.c: a negative vocab_size flags a separate classifier */
        m->shared_classifier = vocab > 0;
        m->vocab_size = vocab == INT32_MIN ? 0 : (vocab < 0 ? -vocab : vocab);
    } else {
        m->shared_classifier = b[36] != 0;
        m->vocab_size = vocab;
    }
    return check_header(path, m, err);
}

static ss_code parse_core(const char *path, const uint8_t *b, size_t n, int map, ss_llama2c *m,
                          ss_error *err)
{
    if (n >= 4 && ss_le_u32(b) == AK42_MAGIC && n < AK42_HEADER)
        return ss_fail(err, SS_ERR_FORMAT, "%s: file is %zu bytes, too short for a llama2.c "
                       "'ak42' header (%d bytes)", path, n, AK42_HEADER);
    ss_code rc = ss_llama2c_header(path, b, n, m, err);
    if (rc)
        return rc;
    adder a = {m, b, map, path, err};
    return m->version == 2 ? parse_v2(&a, n) : parse_fp32(&a, n);
}

ss_code ss_llama2c_parse(const char *path, const void *bytes, size_t n, ss_llama2c *m,
                         ss_error *err)
{
    memset(m, 0, sizeof *m);
    ss_mmap mm;
    int idx;
    ss_code rc = ss_mmap_borrow(path, bytes, n, &mm, err);
    if (!rc)
        rc = ss_tensor_list_add_map(&m->tensors, &mm, &idx, err);
    if (!rc)
        rc = parse_core(path, bytes, n, idx, m, err);
    if (rc)
        ss_llama2c_free(m);
    return rc;
}

ss_code ss_llama2c_load(const char *path, ss_llama2c *m, ss_error *err)
{
    memset(m, 0, sizeof *m);
    ss_mmap mm;
    int idx;
    ss_code rc = ss_mmap_open(path, &mm, err);
    if (rc)
        return rc;
    rc = ss_tensor_list_add_map(&m->tensors, &mm, &idx, err);
    if (!rc)
        rc = parse_core(path, m->tensors.maps[idx].base, m->tensors.maps[idx].size, idx, m, err);
    if (rc)
        ss_llama2c_free(m);
    return rc;
}

void ss_llama2c_free(ss_llama2c *m)
{
    ss_tensor_list_free(&m->tensors);
    memset(m, 0, sizeof *m);
}
