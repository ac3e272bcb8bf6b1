/* Pre-tokenizer and normalizer regexes through PCRE2 (8-bit) with UTF and
 * Unicode properties (\p{L}, \s as Unicode white space), as the
 * Oniguruma-flavoured patterns in tokenizer.json expect. Input text may be
 * invalid UTF-8: PCRE2_MATCH_INVALID_UTF makes such bytes simply never
 * match instead of failing the whole search. Match data belongs to the
 * caller (one per encode call), so a tokenizer can be shared by threads. */
#include <string.h>

#include "tokenizer/tok_internal.h"

ss_code ss_regex_compile(ss_regex *re, const char *pattern, size_t len, const char *what,
                         ss_error *err)
{
    memset(re, 0, sizeof *re);
    int ec;
    PCRE2_SIZE eo;
    re->code = pcre2_compile((PCRE2_SPTR)pattern, len,
                             PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &ec, &eo, NULL);
    if (!re->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return ss_fail(err, SS_ERR_FORMAT, "%s: regex /%.*s/ does not compile at offset %zu: %s",
                       what, (int)(len > 200 ? 200 : len), pattern, (size_t)eo, (char *)msg);
    }
    (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE); /* optional speed-up */
    return SS_OK;
}

int ss_regex_next(const ss_regex *re, pcre2_match_data *md, const char *s, size_t n, size_t from,
                  size_t *ms, size_t *me)
{
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, from, 0, md, NULL);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) /* huge runs: the interpreter uses the heap */
        rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, from, PCRE2_NO_JIT, md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) /* rc == 0 only means the ovector has no room for groups */
        return -1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    *ms = ov[0];
    *me = ov[1];
    if (*ms > *me || *me > n) /* \K tricks; not in tokenizer patterns */
        return -1;
    return 1;
}

void ss_regex_free(ss_regex *re)
{
    if (re->code)
        pcre2_code_free(re->code);
    re->code = NULL;
}
