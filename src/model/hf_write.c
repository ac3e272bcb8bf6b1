#include "model/hf_write.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/mem.h"
#include "common/path.h"
#include "io/atomic_file.h"
#include "io/dequant.h"
#include "io/safetensors_write.h"
#include "model/hf_write_config.h"

/* Weights in another format than the one written (pytorch_model.bin, a
 * GGUF, ...): stale beside the compressed model, and possibly gigabytes. */
static int other_weights(const char *name)
{
    static const char *const tails[] = {".safetensors", ".safetensors.index.json", ".bin",
                                        ".bin.index.json", ".pt", ".pth", ".gguf", ".msgpack",
                                        ".h5"};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++)
        if (ss_ends_with(name, tails[i]))
            return 1;
    return 0;
}

/* The folder's regular files other than weights and checksums. */
static ss_code copy_side_files(const char *src, const char *dir, ss_error *err)
{
    DIR *d = opendir(src);
    if (!d)
        return ss_fail(err, SS_ERR_IO, "%s: cannot list the model folder", src);
    ss_code rc = SS_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        const char *name = e->d_name;
        if (name[0] == '.' || other_weights(name) ||
            !strcmp(name, "SHA256SUMS")) /* a result folder's manifest: the new one gets its own */
            continue;
        char from[4096], to[4096];
        struct stat st;
        if (snprintf(from, sizeof from, "%s/%s", src, name) >= (int)sizeof from ||
            snprintf(to, sizeof to, "%s/%s", dir, name) >= (int)sizeof to) {
            rc = ss_fail(err, SS_ERR_USAGE, "%s/%s: path too long", src, name);
            break;
        }
        if (stat(from, &st) || !S_ISREG(st.st_mode))
            continue;
        char *data;
        size_t n;
        if (!(rc = ss_read_file(from, (size_t)1 << 30, &data, &n, err))) {
            rc = ss_write_file_atomic(to, data, n, err);
            free(data);
        }
    }
    closedir(d);
    return rc;
}

/* The tensors to write: renamed views of the source's bytes or buffers of
 * their own (own[i], freed at the end). */
typedef struct {
    const ss_model *m;
    const ss_tensor *const *repl;
    ss_tensor *out;
    const ss_tensor **list;
    void **own;
    int n;
} writer;

static int plain_dtype(ss_dtype t)
{
    return t == SS_DT_F32 || t == SS_DT_F16 || t == SS_DT_BF16;
}

/* Row r of the HF tensor comes from row (*order)[r] of the source (*order
 * NULL: the same row): interleaved q/k rows to HF's half-split order
 * (within a head, HF row j hd/2 + i = interleaved row 2i + j: the inverse
 * of the permutation transformers' and llama.cpp's converters apply), and
 * GPT-NeoX's blocked q/k/v (GGUF attn_qkv: all q, all k, all v) to HF's
 * per-head [n_head, 3, d_head]. */
static ss_code row_order(const ss_model *m, ss_tensor_kind kind, int64_t rows, int64_t **order,
                         ss_error *err)
{
    const ss_config *c = &m->cfg;
    int dh = c->d_head;
    int qk = kind == SS_TK_Q || kind == SS_TK_K || kind == SS_TK_BQ || kind == SS_TK_BK;
    int fused = kind == SS_TK_QKV || kind == SS_TK_BQKV;
    int permute = qk && c->pairing == SS_PAIR_INTERLEAVED;
    int regroup = fused && m->format != SS_FMT_HF && c->arch == SS_ARCH_GPTNEOX;
    *order = NULL;
    if (!permute && !regroup)
        return SS_OK;
    int64_t *o = ss_calloc((size_t)rows, sizeof *o, "row order", err);
    if (!o)
        return SS_ERR_NOMEM;
    for (int64_t r = 0; r < rows; r++) {
        int64_t h = r / dh, i = r % dh;
        if (permute) {
            int64_t j = i / (dh / 2), p = i % (dh / 2);
            o[r] = h * dh + 2 * p + j;
        } else { /* r = (head * 3 + part) * dh + i */
            int64_t head = h / 3, part = h % 3;
            o[r] = (part * c->n_head + head) * dh + i;
        }
    }
    *order = o;
    return SS_OK;
}

/* Puts layer `layer`'s replaced W_Q / W_K rows into x (the tensor's values
 * as F32, rows of d_model), a separate projection (kind Q / K) or the
 * fused q/k/v (QKV) in the source's own row layout. Returns whether any. */
static int place_replacements(const writer *w, ss_tensor_kind kind, int layer, float *x)
{
    const ss_config *c = &w->m->cfg;
    int dh = c->d_head, d = c->d_model, any = 0;
    int per_head = w->m->format == SS_FMT_HF && c->qkv_layout == SS_QKV_PER_HEAD;
    for (int key = 0; key < 2; key++) {
        const ss_tensor *r = w->repl[2 * layer + key];
        int heads = key ? c->n_kv_head : c->n_head;
        if (!r || !(kind == SS_TK_QKV || kind == (key ? SS_TK_K : SS_TK_Q)))
            continue;
        for (int h = 0; h < heads; h++) {
            /* head h's first q (k) row in the tensor */
            int64_t row = kind != SS_TK_QKV ? (int64_t)h * dh
                          : per_head        ? ((int64_t)h * 3 + key) * dh
                                            : ((int64_t)key * c->n_head + h) * dh;
            memcpy(x + row * d, (const float *)r->data + (size_t)h * dh * d,
                   (size_t)dh * d * sizeof *x);
        }
        any = 1;
    }
    return any;
}

/* t's values as F32 when they must change (dequantized, or W_Q / W_K rows
 * replaced): *x NULL when the source's bytes serve. */
static ss_code values_f32(const writer *w, const ss_tensor *t, ss_tensor_kind kind, int layer,
                          float **x, ss_error *err)
{
    const ss_model *m = w->m;
    int proj = kind == SS_TK_Q || kind == SS_TK_K || kind == SS_TK_QKV;
    int quant = !plain_dtype(t->dtype), repl = layer >= 0 && proj && w->repl &&
                                                  (w->repl[2 * layer] || w->repl[2 * layer + 1]);
    /* Gemma's GGUF norms hold 1 + w (llama.cpp's converter added the one
     * HF's RMSNorm adds at run time): back to w; exact for 1 + w in
     * [0.5, 2] (Sterbenz), and HF's 1 + w is then the GGUF's value again */
    int shift = kind == SS_TK_NORM && m->format != SS_FMT_HF &&
                (m->cfg.arch == SS_ARCH_GEMMA || m->cfg.arch == SS_ARCH_GEMMA2);
    int64_t numel = ss_tensor_numel(t);
    *x = NULL;
    if (!quant && !repl && !shift)
        return SS_OK;
    if (!(*x = ss_calloc((size_t)(numel ? numel : 1), sizeof **x, "tensor copy", err)))
        return SS_ERR_NOMEM;
    ss_dequant(t->dtype, t->data, 0, numel, *x);
    for (int64_t i = 0; shift && i < numel; i++)
        (*x)[i] -= 1.0f;
    if (!(repl && place_replacements(w, kind, layer, *x)) && !quant && !shift) {
        free(*x); /* only the other projection of this layer is replaced */
        *x = NULL;
    }
    return SS_OK;
}

/* One source tensor as it goes into the HF file. */
static ss_code add_tensor(writer *w, const ss_tensor *t, ss_error *err)
{
    const ss_model *m = w->m;
    int layer;
    ss_tensor_kind kind;
    char name[512];
    if (!ss_model_tensor_hf(m, t->name, name, sizeof name, &layer, &kind)) {
        if (m->format != SS_FMT_HF) /* GGUF's rope tables: config.json states the schedule */
            return SS_OK;
        snprintf(name, sizeof name, "%s", t->name); /* an HF tensor we do not bind: kept */
        kind = SS_TK_OTHER;
        layer = -1;
    }
    ss_tensor *o = &w->out[w->n];
    *o = *t;
    if (!(o->name = ss_strdup(name, err)))
        return SS_ERR_NOMEM;
    w->list[w->n++] = o;
    int64_t numel = ss_tensor_numel(t), cols = t->ndim >= 2 ? t->shape[t->ndim - 1] : 1;
    int64_t rows = cols ? numel / cols : 0, *order;
    float *x;
    ss_code rc = values_f32(w, t, kind, layer, &x, err);
    if (rc || (rc = row_order(m, kind, rows, &order, err))) {
        free(x);
        return rc;
    }
    if (x) {
        o->dtype = SS_DT_F32;
        o->nbytes = (uint64_t)numel * sizeof *x;
        o->data = w->own[w->n - 1] = x;
    }
    if (!order)
        return SS_OK;
    uint64_t rb = rows ? o->nbytes / (uint64_t)rows : 0;
    uint8_t *moved = ss_calloc((size_t)(o->nbytes ? o->nbytes : 1), 1, "tensor copy", err);
    for (int64_t r = 0; moved && r < rows; r++)
        memcpy(moved + r * rb, (const uint8_t *)o->data + order[r] * rb, rb);
    free(order);
    free(x);
    o->data = w->own[w->n - 1] = moved;
    return moved ? SS_OK : SS_ERR_NOMEM;
}

static void free_writer(writer *w)
{
    for (int i = 0; i < w->n; i++) {
        free(w->out[i].name);
        free(w->own[i]);
    }
    free(w->out);
    free(w->list);
    free(w->own);
}

ss_code ss_hf_model_check(const ss_model *m, ss_error *err)
{
    return m->format == SS_FMT_HF ? SS_OK : ss_hf_config_check(m, err);
}

ss_code ss_hf_model_write(const ss_model *m, const ss_tensor *const *repl, const char *dir,
                          ss_error *err)
{
    int hf = m->format == SS_FMT_HF;
    ss_code rc = ss_hf_model_check(m, err);
    if (rc)
        return rc;
    writer w = {.m = m, .repl = repl};
    w.out = ss_calloc((size_t)m->tensors.count + 1, sizeof *w.out, "tensor list", err);
    w.list = ss_calloc((size_t)m->tensors.count + 1, sizeof *w.list, "tensor list", err);
    w.own = ss_calloc((size_t)m->tensors.count + 1, sizeof *w.own, "tensor list", err);
    rc = w.out && w.list && w.own ? SS_OK : SS_ERR_NOMEM;
    for (int i = 0; !rc && i < m->tensors.count; i++)
        rc = add_tensor(&w, &m->tensors.items[i], err);
    char path[4096];
    if (!rc && snprintf(path, sizeof path, "%s/config.json", dir) >= (int)sizeof path)
        rc = ss_fail(err, SS_ERR_USAGE, "%s: path too long", dir);
    if (!rc)
        rc = hf ? copy_side_files(m->path, dir, err) : ss_hf_config_write(m, path, err);
    if (!rc)
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!rc)
        rc = ss_safetensors_write(path, w.list, w.n, err);
    free_writer(&w);
    return rc;
}
