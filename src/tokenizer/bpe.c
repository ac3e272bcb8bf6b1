/* The merge engine shared by every vocabulary format: a doubly linked list
 * of symbols and a binary heap of candidate pairs. The lowest priority pops
 * first, ties go to the leftmost pair (HF word.rs, llama.cpp's bigram
 * queues and run.c's "first best" scan all agree on that). Entries made
 * stale by an earlier merge are recognised and skipped when popped: a symbol
 * only ever grows by absorbing its right neighbour, so a pair is current
 * exactly when both symbols are alive, adjacent, and their lengths still add
 * up to what they were when it was queued. O(n log n) per piece. */
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "tokenizer/tok_internal.h"

void ss_bpe_reset(ss_bpe_work *w)
{
    w->n_sym = 0;
    w->n_heap = 0;
}

void ss_bpe_work_free(ss_bpe_work *w)
{
    free(w->sym);
    free(w->heap);
    memset(w, 0, sizeof *w);
}

ss_code ss_bpe_push(ss_bpe_work *w, int32_t id, uint32_t start, uint32_t len, ss_error *err)
{
    if (w->n_sym == w->cap_sym) {
        size_t c = w->cap_sym ? w->cap_sym * 2 : 64;
        if (c > INT32_MAX)
            return ss_fail(err, SS_ERR_VALUE, "text piece too long to tokenize");
        ss_sym *s = ss_realloc_array(w->sym, c, sizeof *s, "symbols", err);
        if (!s)
            return SS_ERR_NOMEM;
        w->sym = s;
        w->cap_sym = c;
    }
    int32_t i = (int32_t)w->n_sym++;
    w->sym[i] = (ss_sym){id, start, len, i - 1, -1};
    if (i > 0)
        w->sym[i - 1].next = i;
    return SS_OK;
}

static int pair_before(const ss_pair *a, const ss_pair *b)
{
    return a->prio < b->prio || (a->prio == b->prio && a->left < b->left);
}

static ss_code heap_push(ss_bpe_work *w, ss_pair p, ss_error *err)
{
    if (w->n_heap == w->cap_heap) {
        size_t c = w->cap_heap ? w->cap_heap * 2 : 64;
        ss_pair *h = ss_realloc_array(w->heap, c, sizeof *h, "merge queue", err);
        if (!h)
            return SS_ERR_NOMEM;
        w->heap = h;
        w->cap_heap = c;
    }
    size_t i = w->n_heap++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!pair_before(&p, &w->heap[up]))
            break;
        w->heap[i] = w->heap[up];
        i = up;
    }
    w->heap[i] = p;
    return SS_OK;
}

static ss_pair heap_pop(ss_bpe_work *w)
{
    ss_pair top = w->heap[0];
    ss_pair last = w->heap[--w->n_heap];
    size_t i = 0, n = w->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && pair_before(&w->heap[c + 1], &w->heap[c]))
            c++;
        if (!pair_before(&w->heap[c], &last))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n)
        w->heap[i] = last;
    return top;
}

/* Whether symbols l and r may merge under the rule; fills priority and the
 * merged token. */
static int lookup_pair(const ss_tokenizer *t, ss_merge_rule rule, const char *text,
                       const ss_sym *l, const ss_sym *r, double *prio, int32_t *id)
{
    const ss_vocab *v = &t->vocab;
    switch (rule) {
    case SS_MERGE_RANK: {
        int32_t rank;
        if (!ss_merges_get(&t->merges, l->id, r->id, &rank, id))
            return 0;
        *prio = rank;
        return 1;
    }
    case SS_MERGE_SCORE_TEXT:
        *id = ss_vocab_find(v, text + l->start, (size_t)l->len + r->len);
        if (*id < 0)
            return 0;
        *prio = v->score ? -(double)v->score[*id] : 0.0;
        return 1;
    case SS_MERGE_SCORE_PIECES: {
        size_t la, lb;
        const char *a = ss_vocab_piece(v, l->id, &la), *b = ss_vocab_piece(v, r->id, &lb);
        if (!a || !b)
            return 0;
        *id = ss_vocab_find2(v, a, la, b, lb);
        /* run.c starts its search at best_score = -1e10 and needs a
         * strictly better score (so NaN scores never merge either). */
        if (*id < 0 || !v->score || !(v->score[*id] > -1e10f))
            return 0;
        *prio = -(double)v->score[*id];
        return 1;
    }
    }
    return 0;
}

static ss_code try_pair(ss_bpe_work *w, const ss_tokenizer *t, ss_merge_rule rule,
                        const char *text, int32_t left, int32_t right, ss_error *err)
{
    if (left < 0 || right < 0)
        return SS_OK;
    const ss_sym *l = &w->sym[left], *r = &w->sym[right];
    double prio;
    int32_t id;
    if (!lookup_pair(t, rule, text, l, r, &prio, &id))
        return SS_OK;
    return heap_push(w, (ss_pair){prio, left, right, l->len + r->len, id}, err);
}

ss_code ss_bpe_run(ss_bpe_work *w, const ss_tokenizer *t, ss_merge_rule rule, const char *text,
                   ss_error *err)
{
    ss_code rc;
    for (size_t i = 1; i < w->n_sym; i++)
        if ((rc = try_pair(w, t, rule, text, (int32_t)i - 1, (int32_t)i, err)))
            return rc;
    while (w->n_heap) {
        ss_pair p = heap_pop(w);
        ss_sym *l = &w->sym[p.left], *r = &w->sym[p.right];
        if (l->len == 0 || r->len == 0 || l->next != p.right || l->len + r->len != p.size)
            continue; /* stale */
        l->len += r->len;
        l->id = p.id;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0)
            w->sym[r->next].prev = p.left;
        if ((rc = try_pair(w, t, rule, text, l->prev, p.left, err)) ||
            (rc = try_pair(w, t, rule, text, p.left, l->next, err)))
            return rc;
    }
    return SS_OK;
}

ss_code ss_bpe_whole_piece(const ss_tokenizer *t, const char *s, size_t n, ss_ids *out, int *done,
                           ss_error *err)
{
    *done = 1;
    if (n == 0)
        return SS_OK;
    if (n > UINT32_MAX / 2)
        return ss_fail(err, SS_ERR_VALUE, "text piece of %zu bytes is too long to tokenize", n);
    if (t->ignore_merges) {
        int32_t id = ss_vocab_find(&t->vocab, s, n);
        if (id >= 0)
            return ss_ids_push(out, id, err);
    }
    *done = 0;
    return SS_OK;
}
