/* Growable buffers used along the tokenizer pipeline: bytes, ids, and lists
 * of text pieces. Capacities double, so appends are amortised O(1). */
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "tokenizer/tok_internal.h"

static ss_code grow(void **p, size_t *cap, size_t need, size_t elem, const char *what,
                    ss_error *err)
{
    if (need <= *cap)
        return SS_OK;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return ss_fail(err, SS_ERR_NOMEM, "%s: size overflow", what);
        c *= 2;
    }
    void *q = ss_realloc_array(*p, c, elem, what, err);
    if (!q)
        return SS_ERR_NOMEM;
    *p = q;
    *cap = c;
    return SS_OK;
}

ss_code ss_buf_put(ss_buf *b, const void *s, size_t n, ss_error *err)
{
    if (n > SIZE_MAX - b->n - 1)
        return ss_fail(err, SS_ERR_NOMEM, "text buffer: size overflow");
    if (b->limit && n > b->limit - (b->n < b->limit ? b->n : b->limit))
        return ss_fail(err, SS_ERR_VALUE, "the text grew past %zu bytes, the bound on what a "
                       "tokenizer's own steps may make of it (%d times the input plus 64 KiB): "
                       "this tokenizer inflates text without bound", b->limit, SS_TOK_GROWTH);
    ss_code rc = grow((void **)&b->p, &b->cap, b->n + n + 1, 1, "text buffer", err);
    if (rc)
        return rc;
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return SS_OK;
}

size_t ss_tok_growth_limit(size_t n)
{
    size_t slack = (size_t)64 << 10;
    return n > (SIZE_MAX - slack) / SS_TOK_GROWTH ? SIZE_MAX : SS_TOK_GROWTH * n + slack;
}

void ss_buf_free(ss_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

ss_code ss_ids_push(ss_ids *v, int32_t id, ss_error *err)
{
    ss_code rc = grow((void **)&v->p, &v->cap, v->n + 1, sizeof *v->p, "token ids", err);
    if (rc)
        return rc;
    v->p[v->n++] = id;
    return SS_OK;
}

ss_code ss_pieces_add(ss_pieces *p, const char *s, size_t n, uint8_t flags, ss_error *err)
{
    if (p->n == p->cap) {
        size_t c = p->cap ? p->cap * 2 : 16;
        size_t *off = ss_realloc_array(p->off, c, sizeof *off, "pieces", err);
        if (!off)
            return SS_ERR_NOMEM;
        p->off = off;
        size_t *len = ss_realloc_array(p->len, c, sizeof *len, "pieces", err);
        if (!len)
            return SS_ERR_NOMEM;
        p->len = len;
        uint8_t *fl = ss_realloc_array(p->flags, c, 1, "pieces", err);
        if (!fl)
            return SS_ERR_NOMEM;
        p->flags = fl;
        p->cap = c;
    }
    size_t at = p->text.n;
    ss_code rc = ss_buf_put(&p->text, s, n, err);
    if (rc)
        return rc;
    p->off[p->n] = at;
    p->len[p->n] = n;
    p->flags[p->n] = flags;
    p->n++;
    return SS_OK;
}

void ss_pieces_clear(ss_pieces *p)
{
    p->n = 0;
    p->text.n = 0;
}

void ss_pieces_free(ss_pieces *p)
{
    ss_buf_free(&p->text);
    free(p->off);
    free(p->len);
    free(p->flags);
    memset(p, 0, sizeof *p);
}
