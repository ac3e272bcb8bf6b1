/* Hugging Face normalizers (tokenizers/src/normalizers): applied in order
 * to each text segment between added tokens. Unicode forms and lower-casing
 * go through utf8proc; bytes that are not valid UTF-8 are carried over
 * unchanged (HF never sees them: its input is a Rust &str). */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "common/mem.h"
#include "tokenizer/tok_internal.h"

static ss_code replace_str(const ss_norm_step *st, const char *s, size_t n, ss_buf *out,
                           ss_error *err)
{
    ss_code rc = ss_buf_put(out, "", 0, err);
    size_t i = 0;
    while (!rc && i < n) {
        if (st->alen && n - i >= st->alen && memcmp(s + i, st->a, st->alen) == 0) {
            rc = ss_buf_put(out, st->b, st->blen, err);
            i += st->alen;
        } else {
            rc = ss_buf_put(out, s + i, 1, err);
            i++;
        }
    }
    return rc;
}

static ss_code replace_re(const ss_norm_step *st, pcre2_match_data *md, const char *s, size_t n,
                          ss_buf *out, ss_error *err)
{
    ss_code rc = ss_buf_put(out, "", 0, err);
    size_t at = 0, from = 0, ms, me;
    while (!rc && from <= n) {
        int r = ss_regex_next(&st->re, md, s, n, from, &ms, &me);
        if (r < 0)
            return ss_fail(err, SS_ERR_VALUE, "normalizer Replace: regex match failed");
        if (r == 0)
            break;
        rc = ss_buf_put(out, s + at, ms - at, err);
        if (!rc)
            rc = ss_buf_put(out, st->b, st->blen, err);
        at = me;
        if (me == ms) { /* empty match: step over one character */
            int32_t cp;
            size_t step = me < n ? (size_t)ss_utf8_next(s + me, n - me, &cp) : 1;
            if (me < n && !rc)
                rc = ss_buf_put(out, s + me, step, err);
            at = me + step;
            from = me + step;
        } else {
            from = me;
        }
    }
    if (!rc && at < n)
        rc = ss_buf_put(out, s + at, n - at, err);
    return rc;
}

/* Unicode forms / lowercase over each maximal valid UTF-8 run. */
static ss_code map_valid_runs(ss_norm_kind kind, const char *s, size_t n, ss_buf *out,
                              ss_error *err)
{
    ss_code rc = ss_buf_put(out, "", 0, err);
    size_t i = 0;
    while (!rc && i < n) {
        size_t j = i;
        int32_t cp;
        while (j < n) {
            int l = ss_utf8_next(s + j, n - j, &cp);
            if (cp < 0 || cp == 0)
                break;
            j += (size_t)l;
        }
        if (j > i) {
            if (kind == SS_NORM_LOWERCASE) {
                for (size_t k = i; k < j && !rc;) {
                    int l = ss_utf8_next(s + k, j - k, &cp);
                    char enc[4];
                    int m = ss_utf8_encode(utf8proc_tolower(cp), enc);
                    rc = ss_buf_put(out, enc, (size_t)m, err);
                    k += (size_t)l;
                }
            } else {
                int opt = UTF8PROC_STABLE;
                if (kind == SS_NORM_NFC || kind == SS_NORM_NFKC)
                    opt |= UTF8PROC_COMPOSE;
                else
                    opt |= UTF8PROC_DECOMPOSE;
                if (kind == SS_NORM_NFKC || kind == SS_NORM_NFKD)
                    opt |= UTF8PROC_COMPAT;
                if (kind == SS_NORM_STRIP_ACCENTS)
                    opt = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE;
                utf8proc_uint8_t *dst = NULL;
                utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)s + i,
                                                  (utf8proc_ssize_t)(j - i), &dst,
                                                  (utf8proc_option_t)opt);
                if (m < 0) {
                    free(dst);
                    return ss_fail(err, SS_ERR_NOMEM, "normalizer: utf8proc: %s",
                                   utf8proc_errmsg(m));
                }
                if (kind == SS_NORM_STRIP_ACCENTS) {
                    /* HF StripAccents drops combining marks (category Mn)
                     * from the already decomposed text */
                    for (utf8proc_ssize_t k = 0; k < m && !rc;) {
                        utf8proc_int32_t c;
                        utf8proc_ssize_t l = utf8proc_iterate(dst + k, m - k, &c);
                        if (l <= 0)
                            break;
                        if (utf8proc_category(c) != UTF8PROC_CATEGORY_MN)
                            rc = ss_buf_put(out, dst + k, (size_t)l, err);
                        k += l;
                    }
                } else {
                    rc = ss_buf_put(out, dst, (size_t)m, err);
                }
                free(dst);
            }
            i = j;
        } else { /* an invalid byte or NUL: copy as is */
            rc = ss_buf_put(out, s + i, 1, err);
            i++;
        }
    }
    return rc;
}

static ss_code strip(const ss_norm_step *st, const char *s, size_t n, ss_buf *out, ss_error *err)
{
    size_t a = 0, b = n;
    int32_t cp;
    while (st->left && a < b) {
        int l = ss_utf8_next(s + a, b - a, &cp);
        if (cp < 0 || !ss_is_whitespace(cp))
            break;
        a += (size_t)l;
    }
    while (st->right && b > a) {
        size_t k = b - 1;
        while (k > a && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        int l = ss_utf8_next(s + k, b - k, &cp);
        if (cp < 0 || (size_t)l != b - k || !ss_is_whitespace(cp))
            break;
        b = k;
    }
    out->n = 0;
    return ss_buf_put(out, s + a, b - a, err);
}

static ss_code apply(const ss_norm_step *st, pcre2_match_data *md, const char *s, size_t n,
                     ss_buf *out, ss_error *err)
{
    out->n = 0;
    switch (st->kind) {
    case SS_NORM_PREPEND: {
        ss_code rc = SS_OK;
        if (n) /* HF Prepend leaves an empty string empty */
            rc = ss_buf_put(out, st->a, st->alen, err);
        return rc ? rc : ss_buf_put(out, s, n, err);
    }
    case SS_NORM_REPLACE_STR:
        return replace_str(st, s, n, out, err);
    case SS_NORM_REPLACE_RE:
        return replace_re(st, md, s, n, out, err);
    case SS_NORM_STRIP:
        return strip(st, s, n, out, err);
    default:
        return map_valid_runs(st->kind, s, n, out, err);
    }
}

static const char *step_name(ss_norm_kind k)
{
    static const char *const names[] = {"Prepend", "Replace", "Replace (regex)", "NFC", "NFD",
                                        "NFKC", "NFKD", "Lowercase", "Strip", "StripAccents"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

ss_code ss_normalize(const ss_normalizer *nz, pcre2_match_data *md, const char *s, size_t n,
                     ss_buf *out, ss_error *err)
{
    out->n = 0;
    out->limit = 0;
    ss_code rc = ss_buf_put(out, s, n, err);
    size_t limit = ss_tok_growth_limit(n);
    ss_buf tmp = {.limit = limit};
    out->limit = limit; /* checked inside every step, not after: one step can grow 10^5-fold */
    int i = 0;
    for (; i < nz->n && !rc; i++) {
        rc = apply(&nz->steps[i], md, out->p, out->n, &tmp, err);
        if (!rc) {
            ss_buf t = *out;
            *out = tmp;
            tmp = t;
        }
    }
    out->limit = 0;
    ss_buf_free(&tmp);
    if (rc)
        ss_error_prefix(err, "normalizer step %d of %d (%s) on a %zu-byte text", i, nz->n,
                        step_name(nz->steps[i - 1].kind), n);
    return rc;
}

void ss_normalizer_free(ss_normalizer *nz)
{
    for (int i = 0; i < nz->n; i++) {
        free(nz->steps[i].a);
        free(nz->steps[i].b);
        ss_regex_free(&nz->steps[i].re);
    }
    free(nz->steps);
    nz->steps = NULL;
    nz->n = 0;
}
