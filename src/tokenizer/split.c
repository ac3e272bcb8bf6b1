/* Hugging Face's SplitDelimiterBehavior (tokenizers normalizer.rs
 * NormalizedString::split): a pattern's matches and the text between them
 * cover a piece in order; the behavior says what becomes of the matches.
 * For "the-final--countdown" split on '-':
 *   Removed            the | final | countdown
 *   Isolated           the | - | final | - | - | countdown
 *   MergedWithPrevious the- | final- | - | countdown
 *   MergedWithNext     the | -final | - | -countdown
 *   Contiguous         the | - | final | -- | countdown
 * Empty results are dropped (PreTokenizedString::split does). */
#include <stdlib.h>

#include "common/mem.h"
#include "tokenizer/tok_internal.h"

ss_code ss_spans_add(ss_spans *v, size_t start, size_t end, int is_match, ss_error *err)
{
    if (v->n == v->cap) {
        size_t c = v->cap ? v->cap * 2 : 32;
        ss_span *p = ss_realloc_array(v->p, c, sizeof *p, "split spans", err);
        if (!p)
            return SS_ERR_NOMEM;
        v->p = p;
        v->cap = c;
    }
    v->p[v->n++] = (ss_span){start, end, is_match};
    return SS_OK;
}

static ss_code emit(const char *s, size_t start, size_t end, uint8_t flags, ss_pieces *out,
                    ss_error *err)
{
    if (end <= start)
        return SS_OK;
    /* only a part beginning where the piece begins keeps "at input start" */
    return ss_pieces_add(out, s + start, end - start, start == 0 ? flags : 0, err);
}

ss_code ss_split_apply(const ss_spans *m, ss_split_behavior b, int invert, const char *s,
                       uint8_t flags, ss_pieces *out, ss_error *err)
{
    ss_code rc = SS_OK;
    /* current pending part, built as spans are folded in */
    size_t cs = 0, ce = 0;
    int have = 0, prev_match = 0;
    if (b == SS_SPLIT_MERGED_NEXT) {
        /* HF folds from the right: a match is glued to the part after it */
        size_t ns = 0, ne = 0;
        int nhave = 0;
        size_t *st = NULL, *en = NULL, k = 0;
        if (m->n) {
            st = ss_calloc(m->n, sizeof *st, "split", err);
            en = ss_calloc(m->n, sizeof *en, "split", err);
            if (!st || !en) {
                free(st);
                free(en);
                return SS_ERR_NOMEM;
            }
        }
        prev_match = 0;
        for (size_t i = m->n; i-- > 0;) {
            int is_match = m->p[i].is_match != invert;
            if (is_match && !prev_match && nhave) {
                ns = m->p[i].start;
            } else {
                if (nhave) {
                    st[k] = ns, en[k] = ne, k++;
                }
                ns = m->p[i].start, ne = m->p[i].end, nhave = 1;
            }
            prev_match = is_match;
        }
        if (nhave)
            st[k] = ns, en[k] = ne, k++;
        for (size_t i = k; i-- > 0 && !rc;)
            rc = emit(s, st[i], en[i], flags, out, err);
        free(st);
        free(en);
        return rc;
    }
    for (size_t i = 0; i < m->n && !rc; i++) {
        int is_match = m->p[i].is_match != invert;
        size_t st = m->p[i].start, en = m->p[i].end;
        switch (b) {
        case SS_SPLIT_REMOVED:
            if (!is_match)
                rc = emit(s, st, en, flags, out, err);
            break;
        case SS_SPLIT_ISOLATED:
            rc = emit(s, st, en, flags, out, err);
            break;
        case SS_SPLIT_CONTIGUOUS:
            if (have && is_match == prev_match) {
                ce = en;
            } else {
                if (have)
                    rc = emit(s, cs, ce, flags, out, err);
                cs = st, ce = en, have = 1;
            }
            break;
        case SS_SPLIT_MERGED_PREV:
            if (have && is_match && !prev_match) {
                ce = en;
            } else {
                if (have)
                    rc = emit(s, cs, ce, flags, out, err);
                cs = st, ce = en, have = 1;
            }
            break;
        case SS_SPLIT_MERGED_NEXT:
            break; /* handled above */
        }
        prev_match = is_match;
    }
    if (!rc && have)
        rc = emit(s, cs, ce, flags, out, err);
    return rc;
}
