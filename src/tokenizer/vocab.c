/* Token tables: piece <-> id (open-addressing hash over the pieces, which
 * live in one arena) and the BPE merge table (pair of ids -> rank, result).
 * Both are built once per tokenizer; lookups are O(1), so the 48900 merges
 * of SmolLM2 load in milliseconds. */
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "tokenizer/tok_internal.h"

static uint64_t fnv_add(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

#define FNV_SEED 14695981039346656037ull

ss_code ss_vocab_init(ss_vocab *v, int n, int with_scores, ss_error *err)
{
    memset(v, 0, sizeof *v);
    if (n <= 0)
        return ss_fail(err, SS_ERR_VALUE, "vocabulary: size %d (expected > 0)", n);
    v->n = n;
    v->off = ss_calloc((size_t)n, sizeof *v->off, "vocabulary", err);
    v->len = ss_calloc((size_t)n, sizeof *v->len, "vocabulary", err);
    v->present = ss_calloc((size_t)n, 1, "vocabulary", err);
    if (with_scores)
        v->score = ss_calloc((size_t)n, sizeof *v->score, "vocabulary scores", err);
    if (!v->off || !v->len || !v->present || (with_scores && !v->score)) {
        ss_vocab_free(v);
        return SS_ERR_NOMEM;
    }
    return SS_OK;
}

ss_code ss_vocab_set(ss_vocab *v, int id, const char *s, size_t len, int indexed, ss_error *err)
{
    if (id < 0 || id >= v->n)
        return ss_fail(err, SS_ERR_VALUE, "vocabulary: token id %d out of range 0..%d", id,
                       v->n - 1);
    if (len > UINT32_MAX / 2)
        return ss_fail(err, SS_ERR_VALUE, "vocabulary: token %d is too long (%zu bytes)", id,
                       len);
    size_t at = v->bytes.n;
    ss_code rc = ss_buf_put(&v->bytes, s, len, err);
    if (rc)
        return rc;
    rc = ss_buf_put(&v->bytes, "", 1, err); /* keep a NUL after every piece */
    if (rc)
        return rc;
    v->off[id] = at;
    v->len[id] = (uint32_t)len;
    v->present[id] = indexed ? 1 : 2;
    return SS_OK;
}

const char *ss_vocab_piece(const ss_vocab *v, int id, size_t *len)
{
    if (id < 0 || id >= v->n || !v->present[id])
        return NULL;
    if (len)
        *len = v->len[id];
    return v->bytes.p + v->off[id];
}

ss_code ss_vocab_index(ss_vocab *v, ss_error *err)
{
    size_t cap = 16;
    while (cap < (size_t)v->n * 2)
        cap *= 2;
    free(v->slots);
    v->slots = ss_calloc(cap, sizeof *v->slots, "vocabulary index", err);
    if (!v->slots)
        return SS_ERR_NOMEM;
    memset(v->slots, 0xff, cap * sizeof *v->slots);
    v->cap = cap;
    for (int id = 0; id < v->n; id++) {
        if (v->present[id] != 1)
            continue;
        const char *s = v->bytes.p + v->off[id];
        size_t n = v->len[id];
        size_t i = fnv_add(FNV_SEED, s, n) & (cap - 1);
        while (v->slots[i] >= 0) {
            int32_t o = v->slots[i];
            if (v->len[o] == n && memcmp(v->bytes.p + v->off[o], s, n) == 0)
                break; /* duplicate piece: the later id replaces it */
            i = (i + 1) & (cap - 1);
        }
        v->slots[i] = id;
    }
    return SS_OK;
}

int32_t ss_vocab_find2(const ss_vocab *v, const char *a, size_t an, const char *b, size_t bn)
{
    if (!v->slots)
        return -1;
    size_t i = fnv_add(fnv_add(FNV_SEED, a, an), b, bn) & (v->cap - 1);
    for (;;) {
        int32_t id = v->slots[i];
        if (id < 0)
            return -1;
        if (v->len[id] == an + bn) {
            const char *p = v->bytes.p + v->off[id];
            if (memcmp(p, a, an) == 0 && memcmp(p + an, b, bn) == 0)
                return id;
        }
        i = (i + 1) & (v->cap - 1);
    }
}

int32_t ss_vocab_find(const ss_vocab *v, const char *s, size_t n)
{
    return ss_vocab_find2(v, s, n, "", 0);
}

void ss_vocab_free(ss_vocab *v)
{
    ss_buf_free(&v->bytes);
    free(v->off);
    free(v->len);
    free(v->present);
    free(v->score);
    free(v->slots);
    memset(v, 0, sizeof *v);
}

/* ---- merges ---- */

#define EMPTY_KEY UINT64_MAX

static uint64_t mix64(uint64_t x)
{
    /* splitmix64 finaliser: spreads consecutive ids over the table */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

ss_code ss_merges_init(ss_merges *m, size_t expected, ss_error *err)
{
    memset(m, 0, sizeof *m);
    size_t cap = 16;
    while (cap < expected * 2 + 2)
        cap *= 2;
    m->keys = ss_calloc(cap, sizeof *m->keys, "merge table", err);
    m->rank = ss_calloc(cap, sizeof *m->rank, "merge table", err);
    m->id = ss_calloc(cap, sizeof *m->id, "merge table", err);
    if (!m->keys || !m->rank || !m->id) {
        ss_merges_free(m);
        return SS_ERR_NOMEM;
    }
    memset(m->keys, 0xff, cap * sizeof *m->keys);
    m->cap = cap;
    return SS_OK;
}

static ss_code merges_grow(ss_merges *m, ss_error *err)
{
    ss_merges bigger;
    ss_code rc = ss_merges_init(&bigger, m->cap, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i] != EMPTY_KEY)
            ss_merges_add(&bigger, (int32_t)(m->keys[i] >> 32), (int32_t)(uint32_t)m->keys[i],
                          m->rank[i], m->id[i], 1, err);
    ss_merges_free(m);
    *m = bigger;
    return SS_OK;
}

ss_code ss_merges_add(ss_merges *m, int32_t a, int32_t b, int32_t rank, int32_t id, int overwrite,
                      ss_error *err)
{
    if ((m->n + 1) * 2 > m->cap) {
        ss_code rc = merges_grow(m, err);
        if (rc)
            return rc;
    }
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = mix64(key) & (m->cap - 1);
    while (m->keys[i] != EMPTY_KEY && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (m->keys[i] == key && !overwrite)
        return SS_OK;
    if (m->keys[i] == EMPTY_KEY)
        m->n++;
    m->keys[i] = key;
    m->rank[i] = rank;
    m->id[i] = id;
    return SS_OK;
}

int ss_merges_get(const ss_merges *m, int32_t a, int32_t b, int32_t *rank, int32_t *id)
{
    if (!m->keys || a < 0 || b < 0)
        return 0;
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = mix64(key) & (m->cap - 1);
    while (m->keys[i] != EMPTY_KEY) {
        if (m->keys[i] == key) {
            *rank = m->rank[i];
            *id = m->id[i];
            return 1;
        }
        i = (i + 1) & (m->cap - 1);
    }
    return 0;
}

void ss_merges_free(ss_merges *m)
{
    free(m->keys);
    free(m->rank);
    free(m->id);
    memset(m, 0, sizeof *m);
}
