/* Dtype table, read-only file mappings, and the tensor list every loader
 * fills. The list is where the invariants every consumer relies on are
 * enforced once: unique names, bytes inside a live mapping, and a byte count
 * that matches shape and dtype. */
#include "io/tensor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/path.h"

static const struct {
    const char *name;
    int block_elems, block_bytes;
} dtype_table[SS_DT_COUNT] = {
    [SS_DT_F32] = {"F32", 1, 4},
    [SS_DT_F16] = {"F16", 1, 2},
    [SS_DT_BF16] = {"BF16", 1, 2},
    [SS_DT_Q8_0] = {"Q8_0", 32, 34},
    [SS_DT_Q4_0] = {"Q4_0", 32, 18},
    [SS_DT_Q4_K] = {"Q4_K", 256, 144},
    [SS_DT_Q6_K] = {"Q6_K", 256, 210},
};

static int dtype_valid(ss_dtype t) { return (unsigned)t < SS_DT_COUNT; }

const char *ss_dtype_name(ss_dtype t) { return dtype_valid(t) ? dtype_table[t].name : "?"; }
int ss_dtype_block_elems(ss_dtype t) { return dtype_valid(t) ? dtype_table[t].block_elems : 0; }
int ss_dtype_block_bytes(ss_dtype t) { return dtype_valid(t) ? dtype_table[t].block_bytes : 0; }

uint64_t ss_dtype_bytes(ss_dtype t, uint64_t n)
{
    if (!dtype_valid(t))
        return 0;
    uint64_t be = (uint64_t)dtype_table[t].block_elems, out;
    if (n % be != 0 || !ss_mul_u64(n / be, (uint64_t)dtype_table[t].block_bytes, &out))
        return 0;
    return out;
}

int64_t ss_tensor_numel(const ss_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

/* ---- mappings ---------------------------------------------------------- */

ss_code ss_mmap_open(const char *path, ss_mmap *m, ss_error *err)
{
    memset(m, 0, sizeof *m);
    int fd = ss_open_regular(path, err); /* a FIFO or device is refused, never waited on */
    if (fd < 0)
        return err->code;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ss_fail(err, SS_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return ss_fail(err, SS_ERR_IO, "%s: file too large to map", path);
    }
    m->path = ss_strdup(path, err);
    if (!m->path) {
        close(fd);
        return SS_ERR_NOMEM;
    }
    m->size = (size_t)st.st_size;
    if (m->size > 0) {
        /* MAP_PRIVATE + PROT_READ: weights are never written through. */
        void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            free(m->path);
            memset(m, 0, sizeof *m);
            return ss_fail(err, SS_ERR_IO, "%s: cannot map %llu bytes: %s", path,
                           (unsigned long long)st.st_size, strerror(e));
        }
        m->base = p;
    }
    close(fd); /* the mapping keeps the file alive */
    return SS_OK;
}

ss_code ss_mmap_borrow(const char *path, const void *bytes, size_t n, ss_mmap *m, ss_error *err)
{
    memset(m, 0, sizeof *m);
    m->path = ss_strdup(path ? path : "<memory>", err);
    if (!m->path)
        return SS_ERR_NOMEM;
    m->base = n ? (void *)bytes : NULL;
    m->size = n;
    m->borrowed = 1;
    return SS_OK;
}

ss_code ss_mmap_anon(const char *label, size_t n, ss_mmap *m, ss_error *err)
{
    memset(m, 0, sizeof *m);
    m->path = ss_strdup(label, err);
    if (!m->path)
        return SS_ERR_NOMEM;
    if (n > 0) {
        void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            free(m->path);
            m->path = NULL;
            return ss_fail(err, SS_ERR_NOMEM, "%s: cannot allocate %zu bytes: %s", label, n,
                           strerror(errno));
        }
        m->base = p;
        m->size = n;
    }
    return SS_OK;
}

void ss_mmap_seal(ss_mmap *m)
{
    if (m->base && !m->borrowed)
        mprotect(m->base, m->size, PROT_READ);
}

void ss_mmap_close(ss_mmap *m)
{
    if (m->base && !m->borrowed)
        munmap(m->base, m->size);
    free(m->path);
    memset(m, 0, sizeof *m);
}

/* ---- tensor list ------------------------------------------------------- */

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Slot holding `name`, or the empty slot where it would go. */
static int *index_slot(const ss_tensor_list *l, const char *name)
{
    size_t mask = (size_t)l->index_cap - 1;
    for (size_t i = (size_t)name_hash(name) & mask;; i = (i + 1) & mask) {
        int v = l->index[i];
        if (v == 0 || strcmp(l->items[v - 1].name, name) == 0)
            return &l->index[i];
    }
}

static ss_code index_rebuild(ss_tensor_list *l, int cap, ss_error *err)
{
    int *idx = ss_calloc((size_t)cap, sizeof *idx, "tensor name index", err);
    if (!idx)
        return SS_ERR_NOMEM;
    free(l->index);
    l->index = idx;
    l->index_cap = cap;
    for (int i = 0; i < l->count; i++)
        *index_slot(l, l->items[i].name) = i + 1;
    return SS_OK;
}

ss_code ss_tensor_list_add_map(ss_tensor_list *l, ss_mmap *m, int *index, ss_error *err)
{
    if (l->n_maps == l->cap_maps) {
        int cap = l->cap_maps ? 2 * l->cap_maps : 4;
        ss_mmap *p = ss_realloc_array(l->maps, (size_t)cap, sizeof *p, "mapping list", err);
        if (!p) {
            ss_mmap_close(m);
            return SS_ERR_NOMEM;
        }
        l->maps = p;
        l->cap_maps = cap;
    }
    l->maps[l->n_maps] = *m;
    memset(m, 0, sizeof *m);
    if (index)
        *index = l->n_maps;
    l->n_maps++;
    return SS_OK;
}

/* Shape, dtype and size consistency, independent of where the bytes are. */
static ss_code check_layout(const ss_tensor *t, const char *file, ss_error *err)
{
    if (!dtype_valid(t->dtype))
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: tensor '%s' has an invalid dtype (%d)", file,
                       t->name, (int)t->dtype);
    if (t->ndim < 0 || t->ndim > 4)
        return ss_fail(err, SS_ERR_SHAPE, "%s: tensor '%s' has %d dimensions, expected 0 to 4",
                       file, t->name, t->ndim);
    uint64_t numel = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0)
            return ss_fail(err, SS_ERR_SHAPE, "%s: tensor '%s' has negative dimension %lld", file,
                           t->name, (long long)t->shape[i]);
        if (!ss_mul_u64(numel, (uint64_t)t->shape[i], &numel) || numel > (uint64_t)INT64_MAX)
            return ss_fail(err, SS_ERR_SHAPE, "%s: tensor '%s': element count overflows", file,
                           t->name);
    }
    int be = ss_dtype_block_elems(t->dtype);
    int64_t row = t->ndim ? t->shape[t->ndim - 1] : 1;
    if (be > 1 && row % be != 0)
        return ss_fail(err, SS_ERR_SHAPE,
                       "%s: tensor '%s': rows of %lld elements are not whole %s blocks of %d", file,
                       t->name, (long long)row, ss_dtype_name(t->dtype), be);
    uint64_t want = ss_dtype_bytes(t->dtype, numel);
    if ((numel && !want) || want != t->nbytes)
        return ss_fail(err, SS_ERR_SHAPE,
                       "%s: tensor '%s': %llu elements of %s take %llu bytes, but %llu are given",
                       file, t->name, (unsigned long long)numel, ss_dtype_name(t->dtype),
                       (unsigned long long)want, (unsigned long long)t->nbytes);
    return SS_OK;
}

ss_code ss_tensor_list_add(ss_tensor_list *l, const ss_tensor *t, int map_index, ss_error *err)
{
    if (map_index < 0 || map_index >= l->n_maps)
        return ss_fail(err, SS_ERR_USAGE, "tensor '%s': mapping index %d out of range", t->name,
                       map_index);
    const ss_mmap *m = &l->maps[map_index];
    ss_code rc = check_layout(t, m->path, err);
    if (rc)
        return rc;
    /* [data, data + nbytes) must lie in [base, base + size). Compared as
     * integers: pointers into different objects are not comparable in C. */
    uintptr_t base = (uintptr_t)m->base, p = (uintptr_t)t->data;
    if (p < base || p - base > m->size || t->nbytes > m->size - (p - base))
        return ss_fail(err, SS_ERR_FORMAT,
                       "%s: tensor '%s': its %llu bytes lie outside the file's %zu bytes", m->path,
                       t->name, (unsigned long long)t->nbytes, m->size);
    if ((l->count + 1) * 2 > l->index_cap) {
        rc = index_rebuild(l, l->index_cap ? 2 * l->index_cap : 64, err);
        if (rc)
            return rc;
    }
    int *slot = index_slot(l, t->name);
    if (*slot) {
        const ss_tensor *o = &l->items[*slot - 1];
        return ss_fail(err, SS_ERR_FORMAT, "%s: duplicate tensor name '%s' (already in %s)",
                       m->path, t->name, o->file);
    }
    if (l->count == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        ss_tensor *p2 = ss_realloc_array(l->items, (size_t)cap, sizeof *p2, "tensor list", err);
        if (!p2)
            return SS_ERR_NOMEM;
        l->items = p2;
        l->cap = cap;
    }
    char *name = ss_strdup(t->name, err);
    if (!name)
        return SS_ERR_NOMEM;
    ss_tensor *d = &l->items[l->count];
    *d = *t;
    d->name = name;
    d->file = m->path;
    *slot = ++l->count;
    return SS_OK;
}

const ss_tensor *ss_tensor_list_find(const ss_tensor_list *l, const char *name)
{
    if (!l->index_cap)
        return NULL;
    int v = *index_slot(l, name);
    return v ? &l->items[v - 1] : NULL;
}

void ss_tensor_list_truncate(ss_tensor_list *l, int count, int n_maps)
{
    if (count < 0)
        count = 0;
    if (n_maps < 0)
        n_maps = 0;
    if (count < l->count) {
        for (int i = count; i < l->count; i++)
            free(l->items[i].name);
        l->count = count;
        /* Re-index at the same capacity; cannot fail to allocate when we
         * clear in place. */
        if (l->index)
            memset(l->index, 0, (size_t)l->index_cap * sizeof *l->index);
        for (int i = 0; i < l->count; i++)
            *index_slot(l, l->items[i].name) = i + 1;
    }
    while (l->n_maps > n_maps)
        ss_mmap_close(&l->maps[--l->n_maps]);
}

void ss_tensor_list_free(ss_tensor_list *l)
{
    ss_tensor_list_truncate(l, 0, 0);
    free(l->items);
    free(l->maps);
    free(l->index);
    memset(l, 0, sizeof *l);
}
