/* GGUF reader (v1, v2, v3). Layout: "GGUF", u32 version, tensor count, kv
 * count, the key/values, the tensor infos, padding to `general.alignment`
 * (default 32), then the data section that tensor offsets are relative to.
 * v1 used 32-bit counts, string lengths and dimensions where v2+ use 64-bit.
 *
 * Every count and length comes from an untrusted file: each is checked
 * against the bytes that remain before anything is allocated from it, and
 * arrays grow as elements are actually read. */
#include "io/gguf.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

typedef struct {
    const uint8_t *b;
    size_t n, pos;
    const char *path;
    int wide; /* v2+: 64-bit counts and lengths */
    ss_error *err;
} reader;

static ss_code need(reader *r, uint64_t k, const char *what)
{
    if (k > r->n - r->pos)
        return ss_fail(r->err, SS_ERR_FORMAT, "%s: truncated: %s needs %llu bytes at offset %zu "
                       "but the file has %zu", r->path, what, (unsigned long long)k, r->pos,
                       r->n);
    return SS_OK;
}

static uint64_t le(const uint8_t *p, int k)
{
    uint64_t v = 0;
    for (int i = k - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static ss_code rd_uint(reader *r, int k, uint64_t *v, const char *what)
{
    ss_code rc = need(r, (uint64_t)k, what);
    if (rc)
        return rc;
    *v = le(r->b + r->pos, k);
    r->pos += (size_t)k;
    return SS_OK;
}

static ss_code rd_u32(reader *r, uint32_t *v, const char *what)
{
    uint64_t x = 0;
    ss_code rc = rd_uint(r, 4, &x, what);
    *v = (uint32_t)x;
    return rc;
}

/* A count or length: u32 in v1, u64 after. */
static ss_code rd_count(reader *r, uint64_t *v, const char *what)
{
    return rd_uint(r, r->wide ? 8 : 4, v, what);
}

static ss_code rd_str(reader *r, const uint8_t **s, uint64_t *len, const char *what)
{
    ss_code rc = rd_count(r, len, what);
    if (rc)
        return rc;
    if (*len > r->n - r->pos)
        return ss_fail(r->err, SS_ERR_FORMAT, "%s: %s: string length %llu at offset %zu runs "
                       "past the end of the file (%zu bytes)", r->path, what,
                       (unsigned long long)*len, r->pos, r->n);
    *s = r->b + r->pos;
    r->pos += (size_t)*len;
    return SS_OK;
}

/* A key or tensor name: copied NUL-terminated; embedded NULs would make two
 * different names compare equal, so they are refused. */
static ss_code rd_name(reader *r, char **out, const char *what)
{
    const uint8_t *s;
    uint64_t len;
    ss_code rc = rd_str(r, &s, &len, what);
    if (rc)
        return rc;
    if (memchr(s, 0, (size_t)len))
        return ss_fail(r->err, SS_ERR_FORMAT, "%s: %s at offset %zu contains a NUL byte", r->path,
                       what, r->pos - (size_t)len);
    char *c = ss_calloc((size_t)len + 1, 1, what, r->err);
    if (!c)
        return SS_ERR_NOMEM;
    memcpy(c, s, (size_t)len);
    *out = c;
    return SS_OK;
}

static int scalar_size(uint32_t t)
{
    switch (t) {
    case SS_GGUF_U8: case SS_GGUF_I8: case SS_GGUF_BOOL: return 1;
    case SS_GGUF_U16: case SS_GGUF_I16: return 2;
    case SS_GGUF_U32: case SS_GGUF_I32: case SS_GGUF_F32: return 4;
    case SS_GGUF_U64: case SS_GGUF_I64: case SS_GGUF_F64: return 8;
    default: return 0;
    }
}

static int is_signed(uint32_t t)
{
    return t == SS_GGUF_I8 || t == SS_GGUF_I16 || t == SS_GGUF_I32 || t == SS_GGUF_I64;
}

static int is_float(uint32_t t) { return t == SS_GGUF_F32 || t == SS_GGUF_F64; }

static int64_t sign_extend(uint64_t u, int k)
{
    int bits = 8 * k;
    if (bits == 64)
        return (int64_t)u;
    uint64_t m = 1ull << (bits - 1);
    return (int64_t)((u ^ m) - m);
}

static double as_double(uint64_t u, uint32_t t)
{
    if (t == SS_GGUF_F32) {
        uint32_t w = (uint32_t)u;
        float f;
        memcpy(&f, &w, 4);
        return f;
    }
    if (t == SS_GGUF_F64) {
        double d;
        memcpy(&d, &u, 8);
        return d;
    }
    if (is_signed(t))
        return (double)sign_extend(u, scalar_size(t));
    return (double)u;
}

static ss_code rd_scalar(reader *r, uint32_t t, ss_gguf_kv *kv)
{
    int k = scalar_size(t);
    uint64_t u;
    ss_code rc = rd_uint(r, k, &u, kv->key);
    if (rc)
        return rc;
    if (is_float(t))
        kv->num.f = as_double(u, t);
    else if (is_signed(t))
        kv->num.i = sign_extend(u, k);
    else
        kv->num.u = u;
    return SS_OK;
}

/* Array of strings in two passes: validate and size, then one allocation
 * (pointer table followed by the NUL-terminated bytes): vocabularies have
 * 50-130k entries and per-string mallocs would dominate loading. */
static ss_code rd_str_array(reader *r, ss_gguf_kv *kv)
{
    uint64_t count = kv->arr_len, total = 0;
    size_t start = r->pos;
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t *s;
        uint64_t len;
        ss_code rc = rd_str(r, &s, &len, kv->key);
        if (rc)
            return rc;
        total += len + 1; /* bounded by the file size: cannot overflow */
    }
    uint64_t bytes;
    if (!ss_mul_u64(count, sizeof(char *), &bytes) || !ss_add_u64(bytes, total, &bytes) ||
        bytes > SIZE_MAX)
        return ss_fail(r->err, SS_ERR_NOMEM, "%s: key '%s': string array too large", r->path,
                       kv->key);
    char **strs = ss_calloc((size_t)bytes, 1, "GGUF string array", r->err);
    uint64_t *lens = strs ? ss_calloc((size_t)(count ? count : 1), sizeof *lens,
                                      "GGUF string array", r->err) : NULL;
    if (!lens) {
        free(strs);
        return SS_ERR_NOMEM;
    }
    kv->strs = strs;
    kv->str_lens = lens;
    char *arena = (char *)(strs + count);
    r->pos = start;
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t *s;
        uint64_t len;
        rd_str(r, &s, &len, kv->key); /* already validated above */
        memcpy(arena, s, (size_t)len);
        arena[len] = '\0';
        strs[i] = arena;
        lens[i] = len;
        arena += len + 1;
    }
    return SS_OK;
}

static ss_code rd_array(reader *r, ss_gguf_kv *kv)
{
    uint32_t et;
    ss_code rc = rd_u32(r, &et, kv->key);
    if (!rc)
        rc = rd_count(r, &kv->arr_len, kv->key);
    if (rc)
        return rc;
    kv->arr_type = (ss_gguf_type)et;
    uint64_t remaining = r->n - r->pos;
    if (et == SS_GGUF_STRING) {
        if (kv->arr_len > remaining / (r->wide ? 8 : 4))
            return ss_fail(r->err, SS_ERR_FORMAT, "%s: key '%s': array of %llu strings cannot "
                           "fit in the remaining %llu bytes", r->path, kv->key,
                           (unsigned long long)kv->arr_len, (unsigned long long)remaining);
        return rd_str_array(r, kv);
    }
    if (et == SS_GGUF_ARRAY)
        return ss_fail(r->err, SS_ERR_UNSUPPORTED, "%s: key '%s': nested arrays are not "
                       "supported", r->path, kv->key);
    int k = scalar_size(et);
    if (!k)
        return ss_fail(r->err, SS_ERR_FORMAT, "%s: key '%s': unknown array element type %u",
                       r->path, kv->key, et);
    if (kv->arr_len > remaining / (uint64_t)k)
        return ss_fail(r->err, SS_ERR_FORMAT, "%s: key '%s': array of %llu elements of %d bytes "
                       "runs past the end of the file (%llu bytes remain)", r->path, kv->key,
                       (unsigned long long)kv->arr_len, k, (unsigned long long)remaining);
    double *nums = ss_calloc((size_t)(kv->arr_len ? kv->arr_len : 1), sizeof *nums,
                             "GGUF array", r->err);
    if (!nums)
        return SS_ERR_NOMEM;
    kv->nums = nums;
    for (uint64_t i = 0; i < kv->arr_len; i++) {
        nums[i] = as_double(le(r->b + r->pos, k), et);
        r->pos += (size_t)k;
    }
    return SS_OK;
}

static ss_code rd_kv(reader *r, ss_gguf_kv *kv)
{
    ss_code rc = rd_name(r, &kv->key, "metadata key");
    if (rc)
        return rc;
    uint32_t t;
    rc = rd_u32(r, &t, kv->key);
    if (rc)
        return rc;
    kv->type = (ss_gguf_type)t;
    if (t == SS_GGUF_STRING) {
        const uint8_t *s;
        rc = rd_str(r, &s, &kv->str_len, kv->key);
        if (rc)
            return rc;
        kv->str = ss_calloc((size_t)kv->str_len + 1, 1, "GGUF string", r->err);
        if (!kv->str)
            return SS_ERR_NOMEM;
        memcpy(kv->str, s, (size_t)kv->str_len);
        return SS_OK;
    }
    if (t == SS_GGUF_ARRAY)
        return rd_array(r, kv);
    if (!scalar_size(t))
        return ss_fail(r->err, SS_ERR_FORMAT, "%s: key '%s' has unknown value type %u", r->path,
                       kv->key, t);
    return rd_scalar(r, t, kv);
}

static void kv_free(ss_gguf_kv *kv)
{
    free(kv->key);
    free(kv->str);
    free(kv->nums);
    free(kv->strs);
    free(kv->str_lens);
}

static int kv_cmp(const void *a, const void *b)
{
    return strcmp((*(ss_gguf_kv *const *)a)->key, (*(ss_gguf_kv *const *)b)->key);
}

static ss_code check_unique_keys(const ss_gguf *g, ss_error *err)
{
    if (g->n_kv < 2)
        return SS_OK;
    ss_gguf_kv **p = ss_calloc((size_t)g->n_kv, sizeof *p, "GGUF keys", err);
    if (!p)
        return SS_ERR_NOMEM;
    for (int64_t i = 0; i < g->n_kv; i++)
        p[i] = &g->kvs[i];
    qsort(p, (size_t)g->n_kv, sizeof *p, kv_cmp);
    ss_code rc = SS_OK;
    for (int64_t i = 1; i < g->n_kv && !rc; i++)
        if (strcmp(p[i - 1]->key, p[i]->key) == 0)
            rc = ss_fail(err, SS_ERR_FORMAT, "%s: duplicate metadata key '%s'", g->path,
                         p[i]->key);
    free(p);
    return rc;
}

static ss_code rd_kvs(reader *r, ss_gguf *g, uint64_t n_kv)
{
    int64_t cap = 0;
    for (uint64_t i = 0; i < n_kv; i++) {
        if (g->n_kv == cap) { /* grow with what was actually read */
            cap = cap ? 2 * cap : 32;
            ss_gguf_kv *p = ss_realloc_array(g->kvs, (size_t)cap, sizeof *p, "GGUF metadata",
                                             r->err);
            if (!p)
                return SS_ERR_NOMEM;
            g->kvs = p;
        }
        ss_gguf_kv *kv = &g->kvs[g->n_kv];
        memset(kv, 0, sizeof *kv);
        g->n_kv++;
        ss_code rc = rd_kv(r, kv);
        if (rc)
            return rc;
    }
    return check_unique_keys(g, r->err);
}

/* ggml type ids (ggml.h enum ggml_type) -> names, for messages. */
static const char *ggml_type_name(uint32_t t)
{
    static const char *names[] = {
        "F32", "F16", "Q4_0", "Q4_1", "Q4_2 (removed)", "Q4_3 (removed)", "Q5_0", "Q5_1",
        "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS",
        "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64",
        "F64", "IQ1_M", "BF16", "Q4_0_4_4 (removed)", "Q4_0_4_8 (removed)",
        "Q4_0_8_8 (removed)", "TQ1_0", "TQ2_0", "IQ4_NL_4_4 (removed)",
        "IQ4_NL_4_8 (removed)", "IQ4_NL_8_8 (removed)", "MXFP4"};
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

static int ggml_to_dtype(uint32_t t, ss_dtype *d)
{
    switch (t) {
    case 0: *d = SS_DT_F32; return 1;
    case 1: *d = SS_DT_F16; return 1;
    case 2: *d = SS_DT_Q4_0; return 1;
    case 8: *d = SS_DT_Q8_0; return 1;
    case 12: *d = SS_DT_Q4_K; return 1;
    case 14: *d = SS_DT_Q6_K; return 1;
    case 30: *d = SS_DT_BF16; return 1;
    default: return 0;
    }
}

typedef struct {
    ss_tensor t;
    uint64_t offset;
} tinfo;

static ss_code rd_tensor_info(reader *r, tinfo *ti)
{
    ss_code rc = rd_name(r, &ti->t.name, "tensor name");
    if (rc)
        return rc;
    const char *name = ti->t.name;
    uint32_t nd;
    rc = rd_u32(r, &nd, name);
    if (rc)
        return rc;
    if (nd < 1 || nd > 4)
        return ss_fail(r->err, SS_ERR_FORMAT, "%s: tensor '%s' has %u dimensions, expected 1 to "
                       "4", r->path, name, nd);
    ti->t.ndim = (int)nd;
    uint64_t numel = 1;
    for (uint32_t i = 0; i < nd; i++) {
        uint64_t ne;
        rc = rd_count(r, &ne, name);
        if (rc)
            return rc;
        if (!ss_mul_u64(numel, ne, &numel) || numel > (uint64_t)INT64_MAX)
            return ss_fail(r->err, SS_ERR_FORMAT, "%s: tensor '%s': dimensions overflow", r->path,
                           name);
        /* ggml ne0 is the fastest dimension: it becomes the last. */
        ti->t.shape[nd - 1 - i] = (int64_t)ne;
    }
    uint32_t type;
    rc = rd_u32(r, &type, name);
    if (!rc)
        rc = rd_uint(r, 8, &ti->offset, name);
    if (rc)
        return rc;
    if (!ggml_to_dtype(type, &ti->t.dtype))
        return ss_fail(r->err, SS_ERR_UNSUPPORTED, "%s: tensor '%s' has ggml type %u (%s); "
                       "supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K", r->path, name, type,
                       ggml_type_name(type));
    int be = ss_dtype_block_elems(ti->t.dtype);
    if (ti->t.shape[nd - 1] % be != 0)
        return ss_fail(r->err, SS_ERR_FORMAT, "%s: tensor '%s': row length %lld is not a "
                       "multiple of the %s block size %d", r->path, name,
                       (long long)ti->t.shape[nd - 1], ss_dtype_name(ti->t.dtype), be);
    ti->t.nbytes = ss_dtype_bytes(ti->t.dtype, numel);
    if (numel && !ti->t.nbytes)
        return ss_fail(r->err, SS_ERR_FORMAT, "%s: tensor '%s': byte size overflows", r->path,
                       name);
    return SS_OK;
}

static ss_code rd_alignment(ss_gguf *g, ss_error *err)
{
    g->alignment = 32;
    const ss_gguf_kv *kv = ss_gguf_find(g, "general.alignment");
    if (!kv)
        return SS_OK;
    int64_t a;
    ss_code rc = ss_gguf_get_int(g, "general.alignment", &a, err);
    if (rc)
        return rc;
    if (a <= 0 || a > (1 << 30) || (a & (a - 1)) != 0)
        return ss_fail(err, SS_ERR_FORMAT, "%s: general.alignment is %lld, expected a power of "
                       "two", g->path, (long long)a);
    g->alignment = (uint64_t)a;
    return SS_OK;
}

static ss_code parse_core(const char *path, const uint8_t *b, size_t n, int map_index, ss_gguf *g,
                          ss_error *err)
{
    reader r = {b, n, 0, path, 1, err};
    g->path = ss_strdup(path, err);
    if (!g->path)
        return SS_ERR_NOMEM;
    if (n < 4 || memcmp(b, "GGUF", 4) != 0) {
        if (n < 4)
            return ss_fail(err, SS_ERR_FORMAT, "%s: file is %zu bytes, too short for a GGUF "
                           "header", path, n);
        return ss_fail(err, SS_ERR_FORMAT, "%s: not a GGUF file (magic %02x %02x %02x %02x, "
                       "expected 'GGUF')", path, b[0], b[1], b[2], b[3]);
    }
    r.pos = 4;
    ss_code rc = rd_u32(&r, &g->version, "version");
    if (rc)
        return rc;
    if (g->version < 1 || g->version > 3)
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: GGUF version %u%s; supported: 1, 2, 3", path,
                       g->version, g->version > 0xffff ? " (a big-endian file?)" : "");
    r.wide = g->version >= 2;
    uint64_t n_tensors, n_kv;
    rc = rd_count(&r, &n_tensors, "tensor count");
    if (!rc)
        rc = rd_count(&r, &n_kv, "metadata count");
    if (rc)
        return rc;
    /* smallest key/value: key length + empty key + type + 1-byte value */
    uint64_t min_kv = (r.wide ? 8 : 4) + 4 + 1;
    if (n_kv > (n - r.pos) / min_kv)
        return ss_fail(err, SS_ERR_FORMAT, "%s: metadata count %llu is impossible: the remaining "
                       "%zu bytes hold at most %llu", path, (unsigned long long)n_kv, n - r.pos,
                       (unsigned long long)((n - r.pos) / min_kv));
    /* smallest tensor info: name length + n_dims + one dim + type + offset */
    uint64_t min_ti = (r.wide ? 8 : 4) + 4 + (r.wide ? 8 : 4) + 4 + 8;
    if (n_tensors > (n - r.pos) / min_ti || n_tensors > INT_MAX / 4)
        return ss_fail(err, SS_ERR_FORMAT, "%s: tensor count %llu is impossible: the remaining "
                       "%zu bytes hold at most %llu", path, (unsigned long long)n_tensors,
                       n - r.pos, (unsigned long long)((n - r.pos) / min_ti));
    rc = rd_kvs(&r, g, n_kv);
    if (!rc)
        rc = rd_alignment(g, err);
    if (rc)
        return rc;
    tinfo *ti = NULL;
    uint64_t n_ti = 0, cap = 0;
    for (uint64_t i = 0; i < n_tensors && !rc; i++) {
        if (n_ti == cap) {
            cap = cap ? 2 * cap : 64;
            tinfo *p = ss_realloc_array(ti, (size_t)cap, sizeof *p, "GGUF tensor infos", err);
            if (!p) {
                rc = SS_ERR_NOMEM;
                break;
            }
            ti = p;
        }
        memset(&ti[n_ti], 0, sizeof ti[n_ti]);
        n_ti++;
        rc = rd_tensor_info(&r, &ti[n_ti - 1]);
    }
    /* The data section starts at the next multiple of the alignment. */
    uint64_t data_start = (r.pos + g->alignment - 1) / g->alignment * g->alignment;
    if (!rc && n_tensors > 0 && data_start > n)
        rc = ss_fail(err, SS_ERR_FORMAT, "%s: data section would start at byte %llu, past the "
                     "end of the file (%zu bytes)", path, (unsigned long long)data_start, n);
    for (uint64_t i = 0; i < n_ti && !rc; i++) {
        ss_tensor *t = &ti[i].t;
        uint64_t end;
        if (ti[i].offset % g->alignment != 0)
            rc = ss_fail(err, SS_ERR_FORMAT, "%s: tensor '%s': offset %llu is not a multiple of "
                         "the alignment %llu", path, t->name, (unsigned long long)ti[i].offset,
                         (unsigned long long)g->alignment);
        else if (!ss_add_u64(ti[i].offset, t->nbytes, &end) || end > n - data_start)
            rc = ss_fail(err, SS_ERR_FORMAT, "%s: tensor '%s': bytes [%llu, +%llu) of the data "
                         "section lie beyond the end of the file (data section is %llu bytes)",
                         path, t->name, (unsigned long long)ti[i].offset,
                         (unsigned long long)t->nbytes,
                         (unsigned long long)(n - data_start));
        else {
            t->data = b + data_start + ti[i].offset;
            rc = ss_tensor_list_add(&g->tensors, t, map_index, err);
        }
    }
    for (uint64_t i = 0; i < n_ti; i++)
        free(ti[i].t.name);
    free(ti);
    return rc;
}

ss_code ss_gguf_parse(const char *path, const void *bytes, size_t n, ss_gguf *g, ss_error *err)
{
    memset(g, 0, sizeof *g);
    ss_mmap m;
    int idx;
    ss_code rc = ss_mmap_borrow(path, bytes, n, &m, err);
    if (!rc)
        rc = ss_tensor_list_add_map(&g->tensors, &m, &idx, err);
    if (!rc)
        rc = parse_core(path, bytes, n, idx, g, err);
    if (rc)
        ss_gguf_free(g);
    return rc;
}

ss_code ss_gguf_load(const char *path, ss_gguf *g, ss_error *err)
{
    memset(g, 0, sizeof *g);
    ss_mmap m;
    int idx;
    ss_code rc = ss_mmap_open(path, &m, err);
    if (rc)
        return rc;
    rc = ss_tensor_list_add_map(&g->tensors, &m, &idx, err);
    if (!rc)
        rc = parse_core(path, g->tensors.maps[idx].base, g->tensors.maps[idx].size, idx, g, err);
    if (rc)
        ss_gguf_free(g);
    return rc;
}

void ss_gguf_free(ss_gguf *g)
{
    for (int64_t i = 0; i < g->n_kv; i++)
        kv_free(&g->kvs[i]);
    free(g->kvs);
    ss_tensor_list_free(&g->tensors);
    free(g->path);
    memset(g, 0, sizeof *g);
}

const ss_gguf_kv *ss_gguf_find(const ss_gguf *g, const char *key)
{
    for (int64_t i = 0; i < g->n_kv; i++)
        if (strcmp(g->kvs[i].key, key) == 0)
            return &g->kvs[i];
    return NULL;
}

static const char *type_name(ss_gguf_type t)
{
    static const char *names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                  "bool", "string", "array", "u64", "i64", "f64"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

static ss_code lookup(const ss_gguf *g, const char *key, const ss_gguf_kv **kv, ss_error *err)
{
    *kv = ss_gguf_find(g, key);
    if (!*kv)
        return ss_fail(err, SS_ERR_MISSING, "%s: GGUF key '%s' is missing", g->path, key);
    return SS_OK;
}

ss_code ss_gguf_get_int(const ss_gguf *g, const char *key, int64_t *v, ss_error *err)
{
    const ss_gguf_kv *kv;
    ss_code rc = lookup(g, key, &kv, err);
    if (rc)
        return rc;
    if (!scalar_size(kv->type) || is_float(kv->type) || kv->type == SS_GGUF_BOOL)
        return ss_fail(err, SS_ERR_FORMAT, "%s: GGUF key '%s' is a %s, expected an integer",
                       g->path, key, type_name(kv->type));
    if (is_signed(kv->type)) {
        *v = kv->num.i;
    } else {
        if (kv->num.u > (uint64_t)INT64_MAX)
            return ss_fail(err, SS_ERR_FORMAT, "%s: GGUF key '%s' = %" PRIu64 " is too large",
                           g->path, key, kv->num.u);
        *v = (int64_t)kv->num.u;
    }
    return SS_OK;
}

ss_code ss_gguf_get_float(const ss_gguf *g, const char *key, double *v, ss_error *err)
{
    const ss_gguf_kv *kv;
    ss_code rc = lookup(g, key, &kv, err);
    if (rc)
        return rc;
    if (is_float(kv->type)) {
        *v = kv->num.f;
        return SS_OK;
    }
    /* an integer is a number too (e.g. a rope base written as u32) */
    int64_t i;
    if (scalar_size(kv->type) && kv->type != SS_GGUF_BOOL &&
        ss_gguf_get_int(g, key, &i, err) == SS_OK) {
        *v = (double)i;
        return SS_OK;
    }
    return ss_fail(err, SS_ERR_FORMAT, "%s: GGUF key '%s' is a %s, expected a number", g->path,
                   key, type_name(kv->type));
}

ss_code ss_gguf_get_str(const ss_gguf *g, const char *key, const char **v, ss_error *err)
{
    const ss_gguf_kv *kv;
    ss_code rc = lookup(g, key, &kv, err);
    if (rc)
        return rc;
    if (kv->type != SS_GGUF_STRING)
        return ss_fail(err, SS_ERR_FORMAT, "%s: GGUF key '%s' is a %s, expected a string",
                       g->path, key, type_name(kv->type));
    *v = kv->str;
    return SS_OK;
}
