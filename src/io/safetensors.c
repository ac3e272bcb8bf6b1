/* safetensors reader. Layout: u64 little-endian N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *  "__metadata__": {...}}, then the data section; offsets are relative to it.
 * Everything is validated before the first tensor is added, so a rejected
 * file leaves the list as it was. */
#include "io/safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/mem.h"
#include "io/json.h"

/* The reference implementation's limit; a larger header is hostile. */
#define MAX_HEADER_BYTES 100000000ull

typedef struct {
    const char *name; /* inside the cJSON tree */
    ss_dtype dtype;
    int ndim;
    int64_t shape[4];
    uint64_t begin, end;
} entry;

static int parse_dtype(const char *s, ss_dtype *t)
{
    if (strcmp(s, "F32") == 0)
        *t = SS_DT_F32;
    else if (strcmp(s, "F16") == 0)
        *t = SS_DT_F16;
    else if (strcmp(s, "BF16") == 0)
        *t = SS_DT_BF16;
    else
        return 0;
    return 1;
}

/* A JSON number that is a non-negative integer exactly representable in a
 * double (2^53): anything else in a shape or offset is malformed. */
static int json_u64(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || d != floor(d))
        return 0;
    *out = (uint64_t)d;
    return 1;
}

static ss_code parse_entry(const char *path, const cJSON *it, uint64_t data_len, entry *e,
                           ss_error *err)
{
    const char *name = it->string;
    e->name = name;
    if (!cJSON_IsObject(it))
        return ss_fail(err, SS_ERR_FORMAT, "%s: header entry '%s' is not an object", path, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
    if (!cJSON_IsString(dt))
        return ss_fail(err, SS_ERR_FORMAT, "%s: tensor '%s': 'dtype' missing or not a string",
                       path, name);
    if (!parse_dtype(dt->valuestring, &e->dtype))
        return ss_fail(err, SS_ERR_UNSUPPORTED,
                       "%s: tensor '%s' has dtype '%.32s'; supported: F32, F16, BF16", path, name,
                       dt->valuestring);
    if (!cJSON_IsArray(sh))
        return ss_fail(err, SS_ERR_FORMAT, "%s: tensor '%s': 'shape' missing or not an array",
                       path, name);
    int nd = cJSON_GetArraySize(sh);
    if (nd > 4)
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: tensor '%s' has %d dimensions, at most 4 "
                       "supported", path, name, nd);
    e->ndim = nd;
    uint64_t numel = 1;
    int i = 0;
    for (const cJSON *d = sh->child; d; d = d->next, i++) {
        uint64_t v;
        if (!json_u64(d, &v))
            return ss_fail(err, SS_ERR_FORMAT, "%s: tensor '%s': shape entry %d is not a "
                           "non-negative integer", path, name, i);
        e->shape[i] = (int64_t)v;
        if (!ss_mul_u64(numel, v, &numel))
            return ss_fail(err, SS_ERR_FORMAT, "%s: tensor '%s': shape overflows", path, name);
    }
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || !json_u64(off->child, &e->begin) ||
        !json_u64(off->child->next, &e->end))
        return ss_fail(err, SS_ERR_FORMAT, "%s: tensor '%s': 'data_offsets' must be two "
                       "non-negative integers [begin, end]", path, name);
    if (e->begin > e->end || e->end > data_len)
        return ss_fail(err, SS_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] not "
                       "inside the %llu-byte data section", path, name,
                       (unsigned long long)e->begin, (unsigned long long)e->end,
                       (unsigned long long)data_len);
    uint64_t want;
    if (!ss_mul_u64(numel, (uint64_t)ss_dtype_block_bytes(e->dtype), &want) ||
        want != e->end - e->begin)
        return ss_fail(err, SS_ERR_SHAPE, "%s: tensor '%s': shape of %llu %s elements needs "
                       "%llu bytes but data_offsets span %llu", path, name,
                       (unsigned long long)numel, ss_dtype_name(e->dtype),
                       (unsigned long long)want, (unsigned long long)(e->end - e->begin));
    return SS_OK;
}

static int by_begin(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Parses and checks the header; on success *out holds n entries (names
 * point into *root). */
static ss_code parse_header(const char *path, const uint8_t *b, size_t n, cJSON **root_out,
                            entry **out, int *n_out, uint64_t *data_start, ss_error *err)
{
    *root_out = NULL;
    *out = NULL;
    *n_out = 0;
    if (n < 8)
        return ss_fail(err, SS_ERR_FORMAT, "%s: file is %zu bytes, too short for a safetensors "
                       "header (8-byte length)", path, n);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | b[i];
    if (hlen > n - 8)
        return ss_fail(err, SS_ERR_FORMAT, "%s: header length %llu runs past the end of the "
                       "file (%zu bytes)", path, (unsigned long long)hlen, n);
    if (hlen > MAX_HEADER_BYTES)
        return ss_fail(err, SS_ERR_FORMAT, "%s: header length %llu exceeds the %llu-byte limit",
                       path, (unsigned long long)hlen, MAX_HEADER_BYTES);
    if (hlen < 2 || b[8] != '{')
        return ss_fail(err, SS_ERR_FORMAT, "%s: not a safetensors file (header does not start "
                       "with '{')", path);
    cJSON *root;
    ss_code rc = ss_json_parse(path, "JSON header", (const char *)b + 8, (size_t)hlen, &root, err);
    if (rc)
        return rc;
    *root_out = root;
    if (!cJSON_IsObject(root))
        return ss_fail(err, SS_ERR_FORMAT, "%s: JSON header is not an object", path);
    *data_start = 8 + hlen;
    uint64_t data_len = n - *data_start;
    int cnt = cJSON_GetArraySize(root);
    entry *es = ss_calloc((size_t)(cnt > 0 ? cnt : 1), sizeof *es, "safetensors header", err);
    if (!es)
        return SS_ERR_NOMEM;
    *out = es;
    int k = 0;
    for (const cJSON *it = root->child; it; it = it->next) {
        if (!it->string)
            return ss_fail(err, SS_ERR_FORMAT, "%s: header entry without a name", path);
        if (strcmp(it->string, "__metadata__") == 0)
            continue;
        ss_code rc = parse_entry(path, it, data_len, &es[k], err);
        if (rc)
            return rc;
        k++;
    }
    *n_out = k;
    /* Tensors may not share bytes: sort by offset and check neighbours. */
    entry *sorted = ss_calloc((size_t)(k > 0 ? k : 1), sizeof *sorted, "safetensors header", err);
    if (!sorted)
        return SS_ERR_NOMEM;
    memcpy(sorted, es, (size_t)k * sizeof *es);
    qsort(sorted, (size_t)k, sizeof *sorted, by_begin);
    for (int i = 1; i < k; i++) {
        if (sorted[i].begin < sorted[i - 1].end) {
            ss_code rc = ss_fail(err, SS_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap in the "
                                 "data section", path, sorted[i - 1].name, sorted[i].name);
            free(sorted);
            return rc;
        }
    }
    free(sorted);
    return SS_OK;
}

ss_code ss_safetensors_parse(const char *path, const void *bytes, size_t n, int map_index,
                             ss_tensor_list *list, ss_error *err)
{
    cJSON *root;
    entry *es;
    int k;
    uint64_t data_start = 0;
    ss_code rc = parse_header(path, bytes, n, &root, &es, &k, &data_start, err);
    int count0 = list->count;
    for (int i = 0; rc == SS_OK && i < k; i++) {
        ss_tensor t = {0};
        t.name = (char *)es[i].name;
        t.dtype = es[i].dtype;
        t.ndim = es[i].ndim;
        memcpy(t.shape, es[i].shape, sizeof t.shape);
        t.data = (const uint8_t *)bytes + data_start + es[i].begin;
        t.nbytes = es[i].end - es[i].begin;
        rc = ss_tensor_list_add(list, &t, map_index, err);
    }
    if (rc)
        ss_tensor_list_truncate(list, count0, list->n_maps);
    free(es);
    cJSON_Delete(root);
    return rc;
}

ss_code ss_safetensors_load(const char *path, ss_tensor_list *list, ss_error *err)
{
    ss_mmap m;
    ss_code rc = ss_mmap_open(path, &m, err);
    if (rc)
        return rc;
    int n_maps0 = list->n_maps, idx;
    rc = ss_tensor_list_add_map(list, &m, &idx, err);
    if (rc)
        return rc;
    rc = ss_safetensors_parse(path, list->maps[idx].base, list->maps[idx].size, idx, list, err);
    if (rc)
        ss_tensor_list_truncate(list, list->count, n_maps0);
    return rc;
}
