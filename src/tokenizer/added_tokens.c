/* Added tokens (HF AddedVocabulary; llama.cpp user-defined tokens) are
 * found in the text before the model runs and become their ids directly.
 * Matching is leftmost-longest and non-overlapping, as HF's aho-corasick
 * MatchKind::LeftmostLongest, with HF's single_word / lstrip / rstrip
 * rules (tokenizers added_vocabulary.rs find_matches). */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "common/mem.h"
#include "tokenizer/tok_internal.h"

static int by_first_byte_longest(const void *pa, const void *pb, void *ctx)
{
    const ss_added *all = ctx;
    const ss_added_token *a = &all->tok[*(const int32_t *)pa];
    const ss_added_token *b = &all->tok[*(const int32_t *)pb];
    unsigned char ca = (unsigned char)a->content[0], cb = (unsigned char)b->content[0];
    if (ca != cb)
        return ca < cb ? -1 : 1;
    if (a->len != b->len)
        return a->len > b->len ? -1 : 1;
    return *(const int32_t *)pa - *(const int32_t *)pb;
}

ss_code ss_added_index(ss_added *a, ss_error *err)
{
    free(a->order);
    a->order = ss_calloc((size_t)a->n + 1, sizeof *a->order, "added tokens", err);
    if (!a->order)
        return SS_ERR_NOMEM;
    int m = 0;
    for (int i = 0; i < a->n; i++)
        if (a->tok[i].len > 0)
            a->order[m++] = i;
    qsort_r(a->order, (size_t)m, sizeof *a->order, by_first_byte_longest, a);
    int k = 0;
    for (int c = 0; c <= 256; c++) {
        while (c < 256 && k < m && (unsigned char)a->tok[a->order[k]].content[0] < c)
            k++;
        a->by_byte[c] = c == 256 ? m : k;
    }
    return SS_OK;
}

static ss_code seg_add(ss_segments *v, size_t start, size_t len, int32_t id, ss_error *err)
{
    if (v->n == v->cap) {
        size_t c = v->cap ? v->cap * 2 : 16;
        ss_segment *p = ss_realloc_array(v->p, c, sizeof *p, "segments", err);
        if (!p)
            return SS_ERR_NOMEM;
        v->p = p;
        v->cap = c;
    }
    v->p[v->n++] = (ss_segment){start, len, id};
    return SS_OK;
}

static int is_word_char(int32_t cp)
{
    if (cp == '_')
        return 1;
    int c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

/* Code point of the last character of s[0..n), or -1. */
static int32_t last_cp(const char *s, size_t n, size_t *start)
{
    if (n == 0)
        return -1;
    size_t k = n - 1;
    while (k > 0 && n - k < 4 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    int32_t cp;
    int l = ss_utf8_next(s + k, n - k, &cp);
    if ((size_t)l != n - k) {
        k = n - 1;
        cp = -1;
    }
    if (start)
        *start = k;
    return cp;
}

static int match_at(const ss_added *a, int which, const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    for (int k = a->by_byte[c]; k < a->by_byte[c + 1]; k++) {
        const ss_added_token *t = &a->tok[a->order[k]];
        if (t->normalized == which && t->len <= n - i && memcmp(s + i, t->content, t->len) == 0)
            return a->order[k]; /* longest first within the bucket */
    }
    return -1;
}

ss_code ss_added_split(const ss_added *a, int which, const char *s, size_t n, ss_segments *out,
                       ss_error *err)
{
    out->n = 0;
    size_t done = 0, i = 0;
    ss_code rc = SS_OK;
    while (a->n && i < n && !rc) {
        int k = match_at(a, which, s, n, i);
        if (k < 0) {
            i++;
            continue;
        }
        const ss_added_token *t = &a->tok[k];
        size_t start = i, stop = i + t->len;
        i = stop;
        if (t->single_word) {
            int32_t before = last_cp(s, start, NULL), after = -1;
            if (stop < n)
                ss_utf8_next(s + stop, n - stop, &after);
            if ((before >= 0 && is_word_char(before)) || (after >= 0 && is_word_char(after)))
                continue;
        }
        if (t->lstrip) {
            size_t k0;
            int32_t cp;
            while (start > done && (cp = last_cp(s, start, &k0)) >= 0 && ss_is_whitespace(cp))
                start = k0;
        }
        if (t->rstrip) {
            int32_t cp;
            while (stop < n) {
                int l = ss_utf8_next(s + stop, n - stop, &cp);
                if (cp < 0 || !ss_is_whitespace(cp))
                    break;
                stop += (size_t)l;
            }
            i = stop;
        }
        if (start > done)
            rc = seg_add(out, done, start - done, -1, err);
        if (!rc)
            rc = seg_add(out, start, stop - start, t->id, err);
        done = stop;
    }
    if (!rc && done < n)
        rc = seg_add(out, done, n - done, -1, err);
    return rc;
}

void ss_added_free(ss_added *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->tok[i].content);
    free(a->tok);
    free(a->order);
    memset(a, 0, sizeof *a);
}
