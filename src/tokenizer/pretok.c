/* Hugging Face pre-tokenizers (tokenizers/src/pre_tokenizers), each turning
 * a list of pieces into a finer list: Split (regex or string, with a
 * SplitDelimiterBehavior and invert), ByteLevel (optional prefix space,
 * optional GPT-2 regex, then the byte-level alphabet), Digits, Metaspace,
 * WhitespaceSplit and Punctuation. llama.cpp's GGUF "gpt2" pre-tokenizers
 * are expressed with the same steps (regex splits, then ByteLevel). */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "common/mem.h"
#include "tokenizer/tok_internal.h"

/* GPT-2's pattern (openai encoder.py; HF ByteLevel's default). */
const char ss_gpt2_regex[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* Spans of a regex's matches and the gaps between them over s[0..n), as
 * HF's Pattern::find_matches for a regex (empty matches kept, except one
 * right where the previous match ended, like the onig crate's iterator). */
static ss_code regex_spans(const ss_regex *re, pcre2_match_data *md, const char *s, size_t n,
                           ss_spans *sp, ss_error *err)
{
    sp->n = 0;
    size_t prev = 0, from = 0, ms, me;
    int had_match = 0;
    ss_code rc = SS_OK;
    while (!rc && from <= n) {
        int r = ss_regex_next(re, md, s, n, from, &ms, &me);
        if (r < 0)
            return ss_fail(err, SS_ERR_VALUE,
                           "pre-tokenizer: regex match failed (resource limit) on a %zu-byte piece",
                           n);
        if (r == 0)
            break;
        if (ms == me) {
            int32_t cp;
            size_t step = me < n ? (size_t)ss_utf8_next(s + me, n - me, &cp) : 1;
            from = me + step;
            if (had_match && ms == prev)
                continue;
        } else {
            from = me;
        }
        if (ms > prev)
            rc = ss_spans_add(sp, prev, ms, 0, err);
        if (!rc)
            rc = ss_spans_add(sp, ms, me, 1, err);
        prev = me;
        had_match = 1;
    }
    if (!rc && prev < n)
        rc = ss_spans_add(sp, prev, n, 0, err);
    return rc;
}

static ss_code literal_spans(const char *lit, size_t ln, const char *s, size_t n, ss_spans *sp,
                             ss_error *err)
{
    sp->n = 0;
    size_t prev = 0, i = 0;
    ss_code rc = SS_OK;
    while (!rc && ln && i + ln <= n) {
        if (memcmp(s + i, lit, ln) == 0) {
            if (i > prev)
                rc = ss_spans_add(sp, prev, i, 0, err);
            if (!rc)
                rc = ss_spans_add(sp, i, i + ln, 1, err);
            i += ln;
            prev = i;
        } else {
            i++;
        }
    }
    if (!rc && prev < n)
        rc = ss_spans_add(sp, prev, n, 0, err);
    return rc;
}

static int is_numeric(int32_t cp)
{
    int c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

static int is_punctuation(int32_t cp)
{
    if (cp < 0x80 && cp > 0x20 && cp != 0x7F && !((cp >= '0' && cp <= '9') ||
                                                    (cp >= 'A' && cp <= 'Z') ||
                                                    (cp >= 'a' && cp <= 'z')))
        return 1; /* Rust is_ascii_punctuation */
    int c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

/* Each character satisfying pred is its own match (HF's Pattern for
 * Fn(char) -> bool); invalid bytes never match. */
static ss_code char_spans(int (*pred)(int32_t), const char *s, size_t n, ss_spans *sp,
                          ss_error *err)
{
    sp->n = 0;
    size_t prev = 0, i = 0;
    ss_code rc = SS_OK;
    while (!rc && i < n) {
        int32_t cp;
        size_t l = (size_t)ss_utf8_next(s + i, n - i, &cp);
        if (cp >= 0 && pred(cp)) {
            if (i > prev)
                rc = ss_spans_add(sp, prev, i, 0, err);
            if (!rc)
                rc = ss_spans_add(sp, i, i + l, 1, err);
            prev = i + l;
        }
        i += l;
    }
    if (!rc && prev < n)
        rc = ss_spans_add(sp, prev, n, 0, err);
    return rc;
}

typedef struct {
    pcre2_match_data *md;
    ss_spans spans;
    ss_buf buf;
    ss_pieces tmp;
} work;

static ss_code byte_level(const ss_pre_step *st, work *w, const char *s, size_t n, uint8_t flags,
                          ss_pieces *out, ss_error *err)
{
    ss_code rc = SS_OK;
    const char *p = s;
    ss_buf pre = {0};
    if (st->add_prefix_space && !(n > 0 && s[0] == ' ')) {
        rc = ss_buf_put(&pre, " ", 1, err);
        if (!rc)
            rc = ss_buf_put(&pre, s, n, err);
        p = pre.p;
        n = pre.n;
    }
    ss_pieces_clear(&w->tmp);
    if (!rc) {
        if (st->use_regex) {
            rc = regex_spans(&st->re, w->md, p, n, &w->spans, err);
            if (!rc)
                rc = ss_split_apply(&w->spans, SS_SPLIT_ISOLATED, 0, p, flags, &w->tmp, err);
        } else {
            rc = ss_pieces_add(&w->tmp, p, n, flags, err);
        }
    }
    for (size_t i = 0; i < w->tmp.n && !rc; i++) {
        rc = ss_byte_level_map(w->tmp.text.p + w->tmp.off[i], w->tmp.len[i], &w->buf, err);
        if (!rc && w->buf.n)
            rc = ss_pieces_add(out, w->buf.p, w->buf.n, w->tmp.flags[i], err);
    }
    ss_buf_free(&pre);
    return rc;
}

static ss_code metaspace(const ss_pre_step *st, work *w, const char *s, size_t n, uint8_t flags,
                         ss_pieces *out, ss_error *err)
{
    ss_buf *b = &w->buf;
    b->n = 0;
    ss_code rc = ss_buf_put(b, "", 0, err);
    int starts = n >= st->lit_len && memcmp(s, st->lit, st->lit_len) == 0;
    if (n && s[0] == ' ')
        starts = 1; /* the space is about to become the replacement */
    if (!starts && (st->prepend == SS_PREPEND_ALWAYS ||
                    (st->prepend == SS_PREPEND_FIRST && (flags & SS_PIECE_AT_START))))
        rc = ss_buf_put(b, st->lit, st->lit_len, err);
    for (size_t i = 0; i < n && !rc; i++)
        rc = s[i] == ' ' ? ss_buf_put(b, st->lit, st->lit_len, err) : ss_buf_put(b, s + i, 1, err);
    if (rc)
        return rc;
    if (!st->split)
        return b->n ? ss_pieces_add(out, b->p, b->n, flags, err) : SS_OK;
    rc = literal_spans(st->lit, st->lit_len, b->p, b->n, &w->spans, err);
    return rc ? rc : ss_split_apply(&w->spans, SS_SPLIT_MERGED_NEXT, 0, b->p, flags, out, err);
}

static int is_ws(int32_t cp) { return ss_is_whitespace(cp); }

static ss_code step_piece(const ss_pre_step *st, work *w, const char *s, size_t n, uint8_t flags,
                          ss_pieces *out, ss_error *err)
{
    ss_code rc;
    switch (st->kind) {
    case SS_PRE_SPLIT_RE:
        rc = regex_spans(&st->re, w->md, s, n, &w->spans, err);
        break;
    case SS_PRE_SPLIT_STR:
        rc = literal_spans(st->lit, st->lit_len, s, n, &w->spans, err);
        break;
    case SS_PRE_DIGITS:
        rc = char_spans(is_numeric, s, n, &w->spans, err);
        if (!rc)
            rc = ss_split_apply(&w->spans, st->individual ? SS_SPLIT_ISOLATED : SS_SPLIT_CONTIGUOUS,
                                0, s, flags, out, err);
        return rc;
    case SS_PRE_WHITESPACE_SPLIT:
        rc = char_spans(is_ws, s, n, &w->spans, err);
        break;
    case SS_PRE_PUNCTUATION:
        rc = char_spans(is_punctuation, s, n, &w->spans, err);
        break;
    case SS_PRE_BYTE_LEVEL:
        return byte_level(st, w, s, n, flags, out, err);
    case SS_PRE_METASPACE:
        return metaspace(st, w, s, n, flags, out, err);
    default:
        return ss_fail(err, SS_ERR_UNSUPPORTED, "pre-tokenizer step %d", (int)st->kind);
    }
    return rc ? rc : ss_split_apply(&w->spans, st->behavior, st->invert, s, flags, out, err);
}

ss_code ss_pretokenize(const ss_pretok *pt, pcre2_match_data *md, const char *s, size_t n,
                       uint8_t flags, ss_pieces *out, ss_error *err)
{
    if (n == 0)
        return SS_OK;
    if (pt->n == 0)
        return ss_pieces_add(out, s, n, flags, err);
    /* every buffer a step writes is bounded (tok_internal.h: a Metaspace
     * replacement or a chain of them can grow a text without bound) */
    size_t limit = ss_tok_growth_limit(n);
    work w = {.md = md, .buf.limit = limit, .tmp.text.limit = limit};
    ss_pieces a = {.text.limit = limit}, b = {.text.limit = limit};
    out->text.limit = limit;
    ss_code rc = ss_pieces_add(&a, s, n, flags, err);
    int k = 0;
    for (; k < pt->n && !rc; k++) {
        ss_pieces *dst = k == pt->n - 1 ? out : &b;
        if (dst == &b)
            ss_pieces_clear(&b);
        for (size_t i = 0; i < a.n && !rc; i++)
            rc = step_piece(&pt->steps[k], &w, a.text.p + a.off[i], a.len[i], a.flags[i], dst,
                            err);
        ss_pieces t = a;
        a = b;
        b = t;
    }
    out->text.limit = 0;
    ss_pieces_free(&a);
    ss_pieces_free(&b);
    ss_pieces_free(&w.tmp);
    ss_buf_free(&w.buf);
    free(w.spans.p);
    if (rc)
        ss_error_prefix(err, "pre-tokenizer step %d of %d on a %zu-byte piece", k, pt->n, n);
    return rc;
}

void ss_pretok_free(ss_pretok *pt)
{
    for (int i = 0; i < pt->n; i++) {
        ss_regex_free(&pt->steps[i].re);
        free(pt->steps[i].lit);
    }
    free(pt->steps);
    pt->steps = NULL;
    pt->n = 0;
}
