#include "model/hf_write.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/mem.h"
#include "common/path.h"
#include "common/progress.h"
#include "io/atomic_file.h"
#include "io/dequant.h"
#include "io/safetensors_shards.h"
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

/* One tensor of the written model: its header entry (out: HF name, dtype,
 * shape, nbytes; no data) and where its values come from. */
typedef struct {
    const ss_tensor *src;
    ss_tensor out;
    ss_tensor_kind kind;
    int layer;
    int f32; /* its values change (dequantized, shifted, rows replaced): written F32 */
} planned;

/* Every output tensor planned before any is converted, so the header can
 * go first and each tensor be made, written and freed in turn. */
typedef struct {
    const ss_model *m;
    const ss_hf_repl *repl;
    planned *t;
    const ss_tensor **list; /* &t[i].out: the safetensors header's view */
    int *shard_of;
    int n, shards;
} writer;

static int plain_dtype(ss_dtype t)
{
    return t == SS_DT_F32 || t == SS_DT_F16 || t == SS_DT_BF16;
}

/* Gemma's GGUF norms hold 1 + w (llama.cpp's converter added the one HF's
 * RMSNorm adds at run time): back to w; exact for 1 + w in [0.5, 2]
 * (Sterbenz), and HF's 1 + w is then the GGUF's value again. */
static int gemma_shift(const ss_model *m, ss_tensor_kind kind)
{
    return kind == SS_TK_NORM && m->format != SS_FMT_HF &&
           (m->cfg.arch == SS_ARCH_GEMMA || m->cfg.arch == SS_ARCH_GEMMA2);
}

/* Whether the tensor holds replaced W_Q (key 0) / W_K rows: a separate
 * projection (kind Q / K) or the fused q/k/v (QKV). */
static int replaces(const writer *w, ss_tensor_kind kind, int layer, int key)
{
    return layer >= 0 && w->repl && (kind == SS_TK_QKV || kind == (key ? SS_TK_K : SS_TK_Q)) &&
           w->repl->has(w->repl->ctx, layer, key);
}

static int replaced(const writer *w, ss_tensor_kind kind, int layer)
{
    return replaces(w, kind, layer, 0) || replaces(w, kind, layer, 1);
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

/* Source row s of a tensor with replaced rows comes from (*rows)[s] (NULL:
 * the source's own): every replaced head's d_head rows of d_model, in the
 * source's row layout (separate projection, or the fused q/k/v per head
 * for an HF folder, blocked all q, all k, all v otherwise). made[key]: the
 * replacement matrices, made here, for the caller to free. */
static ss_code replaced_rows(const writer *w, const planned *p, int64_t rows,
                             const float ***out, float *made[2], ss_error *err)
{
    const ss_config *c = &w->m->cfg;
    int dh = c->d_head, d = c->d_model, layer = p->layer;
    int per_head = w->m->format == SS_FMT_HF && c->qkv_layout == SS_QKV_PER_HEAD;
    *out = NULL;
    made[0] = made[1] = NULL;
    if (!replaced(w, p->kind, layer))
        return SS_OK;
    const float **rr = ss_calloc((size_t)rows, sizeof *rr, "replaced rows", err);
    if (!rr)
        return SS_ERR_NOMEM;
    ss_code rc = SS_OK;
    for (int key = 0; !rc && key < 2; key++) {
        int heads = key ? c->n_kv_head : c->n_head;
        if (!replaces(w, p->kind, layer, key) ||
            (rc = w->repl->make(w->repl->ctx, layer, key, &made[key], err)))
            continue;
        for (int h = 0; h < heads; h++) {
            /* head h's first q (k) row in the tensor */
            int64_t row = p->kind != SS_TK_QKV ? (int64_t)h * dh
                          : per_head          ? ((int64_t)h * 3 + key) * dh
                                              : ((int64_t)key * c->n_head + h) * dh;
            for (int i = 0; i < dh && row + i < rows; i++)
                rr[row + i] = made[key] + ((size_t)h * dh + i) * d;
        }
    }
    *out = rr;
    return rc;
}

/* One source tensor's header entry (nothing when it is not written). */
static ss_code plan_tensor(writer *w, const ss_tensor *t, ss_error *err)
{
    const ss_model *m = w->m;
    planned *p = &w->t[w->n];
    char name[512];
    if (!ss_model_tensor_hf(m, t->name, name, sizeof name, &p->layer, &p->kind)) {
        if (m->format != SS_FMT_HF) /* GGUF's rope tables: config.json states the schedule */
            return SS_OK;
        snprintf(name, sizeof name, "%s", t->name); /* an HF tensor we do not bind: kept */
        p->kind = SS_TK_OTHER;
        p->layer = -1;
    }
    p->src = t;
    p->out = *t;
    p->out.data = NULL;
    if (!(p->out.name = ss_strdup(name, err)))
        return SS_ERR_NOMEM;
    p->f32 = !plain_dtype(t->dtype) || gemma_shift(m, p->kind) || replaced(w, p->kind, p->layer);
    if (p->f32) {
        p->out.dtype = SS_DT_F32;
        p->out.nbytes = (uint64_t)ss_tensor_numel(t) * sizeof(float);
    }
    w->list[w->n] = &p->out;
    w->n++;
    return SS_OK;
}

/* A tensor that changes, as F32 rows of cols: source row s's values
 * (dequantized from its own rows, the last dimension, so a 1-D tensor is
 * converted whole into *whole), Gemma's shift applied, or its
 * replacement. */
typedef struct {
    const ss_tensor *src;
    const float **repl_row;
    const float *whole;
    int64_t cols;
    int shift;
} f32_rows;

static void row_f32(const f32_rows *f, int64_t s, float *dst)
{
    if (f->repl_row && f->repl_row[s]) {
        memcpy(dst, f->repl_row[s], (size_t)f->cols * sizeof *dst);
        return;
    }
    if (f->whole)
        memcpy(dst, f->whole + s * f->cols, (size_t)f->cols * sizeof *dst);
    else
        ss_dequant(f->src->dtype, f->src->data, s * f->cols, f->cols, dst);
    for (int64_t i = 0; f->shift && i < f->cols; i++)
        dst[i] -= 1.0f;
}

/* Appends the rows in the output order: the source's bytes (moved when
 * order), or each row converted into a row buffer. */
static ss_code put_rows(ss_safetensors_out *o, const planned *p, const f32_rows *f,
                        const int64_t *order, int64_t rows, ss_error *err)
{
    uint64_t rb = rows ? p->out.nbytes / (uint64_t)rows : 0;
    if (!f && !order)
        return ss_safetensors_put(o, p->src->data, p->src->nbytes, err);
    float *buf = f ? ss_calloc((size_t)(f->cols ? f->cols : 1), sizeof *buf, "tensor row", err)
                   : NULL;
    ss_code rc = f && !buf ? SS_ERR_NOMEM : SS_OK;
    for (int64_t r = 0; !rc && r < rows; r++) {
        int64_t s = order ? order[r] : r;
        if (f)
            row_f32(f, s, buf);
        rc = ss_safetensors_put(o, f ? (const void *)buf
                                     : (const uint8_t *)p->src->data + (uint64_t)s * rb,
                                rb, err);
    }
    free(buf);
    return rc;
}

/* One planned tensor converted and appended to its shard; what it needed
 * is freed before the next. */
static ss_code write_tensor(const writer *w, const planned *p, ss_safetensors_out *o,
                            ss_error *err)
{
    const ss_tensor *t = p->src;
    int64_t numel = ss_tensor_numel(t), cols = t->ndim >= 2 ? t->shape[t->ndim - 1] : 1;
    int64_t rows = cols ? numel / cols : 0, *order = NULL;
    f32_rows f = {.src = t, .cols = cols, .shift = gemma_shift(w->m, p->kind)};
    float *whole = NULL, *made[2] = {NULL, NULL};
    ss_code rc = row_order(w->m, p->kind, rows, &order, err);
    if (!rc && p->f32)
        rc = replaced_rows(w, p, rows, &f.repl_row, made, err);
    if (!rc && p->f32 && t->ndim < 2) { /* one row of the source: converted whole */
        if (!(whole = ss_calloc((size_t)(numel ? numel : 1), sizeof *whole, "tensor copy", err)))
            rc = SS_ERR_NOMEM;
        else
            ss_dequant(t->dtype, t->data, 0, numel, whole);
        f.whole = whole;
    }
    if (!rc)
        rc = put_rows(o, p, p->f32 ? &f : NULL, order, rows, err);
    free(whole);
    free(made[0]);
    free(made[1]);
    free((void *)f.repl_row);
    free(order);
    return rc;
}

/* Shard k: its header, then its tensors one at a time (*done: the bytes
 * written so far, for the progress line). */
static ss_code write_shard(const writer *w, int k, const char *dir, ss_progress *pr,
                           uint64_t *done, ss_error *err)
{
    char name[64], path[4096];
    ss_shard_name(k, w->shards, name, sizeof name);
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return ss_fail(err, SS_ERR_USAGE, "%s: path too long", dir);
    const ss_tensor **mine = ss_calloc((size_t)w->n + 1, sizeof *mine, "shard list", err);
    if (!mine)
        return SS_ERR_NOMEM;
    int n = 0;
    for (int i = 0; i < w->n; i++)
        if (w->shard_of[i] == k)
            mine[n++] = w->list[i];
    ss_safetensors_out o;
    ss_code rc = ss_safetensors_open(&o, path, mine, n, err);
    for (int i = 0; !rc && i < w->n; i++)
        if (w->shard_of[i] == k && !(rc = write_tensor(w, &w->t[i], &o, err))) {
            *done += w->t[i].out.nbytes;
            ss_progress_update(pr, (int64_t)(*done / 1000000), NULL);
        }
    free(mine);
    if (rc) {
        ss_safetensors_abort(&o);
        return rc;
    }
    return ss_safetensors_close(&o, err);
}

static void free_writer(writer *w)
{
    for (int i = 0; i < w->n; i++)
        free(w->t[i].out.name);
    free(w->t);
    free(w->list);
    free(w->shard_of);
}

ss_code ss_hf_model_check(const ss_model *m, ss_error *err)
{
    return m->format == SS_FMT_HF ? SS_OK : ss_hf_config_check(m, err);
}

ss_code ss_hf_model_write(const ss_model *m, const ss_hf_repl *repl, const char *dir,
                          const ss_hf_write_opts *o, ss_error *err)
{
    int hf = m->format == SS_FMT_HF;
    ss_code rc = ss_hf_model_check(m, err);
    if (rc)
        return rc;
    writer w = {.m = m, .repl = repl};
    size_t cap = (size_t)m->tensors.count + 1;
    w.t = ss_calloc(cap, sizeof *w.t, "tensor list", err);
    w.list = ss_calloc(cap, sizeof *w.list, "tensor list", err);
    w.shard_of = ss_calloc(cap, sizeof *w.shard_of, "tensor list", err);
    rc = w.t && w.list && w.shard_of ? SS_OK : SS_ERR_NOMEM;
    for (int i = 0; !rc && i < m->tensors.count; i++)
        rc = plan_tensor(&w, &m->tensors.items[i], err);
    if (!rc)
        w.shards = ss_shard_plan(w.list, w.n, o->max_shard ? o->max_shard
                                                           : SS_SHARD_DEFAULT_BYTES, w.shard_of);
    char path[4096];
    if (!rc && snprintf(path, sizeof path, "%s/%s", dir, "model.safetensors.index.json") >=
                   (int)sizeof path)
        rc = ss_fail(err, SS_ERR_USAGE, "%s: path too long", dir);
    if (!rc) {
        snprintf(path, sizeof path, "%s/config.json", dir);
        rc = hf ? copy_side_files(m->path, dir, err) : ss_hf_config_write(m, path, err);
    }
    uint64_t total = 0, done = 0;
    for (int i = 0; i < w.n; i++)
        total += w.t[i].out.nbytes;
    ss_progress pr;
    ss_progress_start(&pr, o->quiet, "writing the model", (int64_t)(total / 1000000), "MB");
    for (int k = 0; !rc && k < w.shards; k++)
        rc = write_shard(&w, k, dir, &pr, &done, err);
    ss_progress_end(&pr);
    if (!rc && w.shards > 1) {
        snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
        rc = ss_shard_index_write(path, w.list, w.n, w.shard_of, w.shards, err);
    }
    free_writer(&w);
    return rc;
}
