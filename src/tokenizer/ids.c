#include "tokenizer/ids.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/mem.h"

static ss_code bad_id(const char *where, size_t index, const char *text, const char *end,
                      long long v, int vocab, ss_error *err)
{
    if (vocab <= 0)
        return ss_fail(err, SS_ERR_VALUE, "%s: token %zu is not a non-negative integer id",
                       where, index);
    if (end == text || errno)
        return ss_fail(err, SS_ERR_FORMAT, "%s: token %zu is not an integer id", where, index);
    return ss_fail(err, SS_ERR_VALUE, "%s: token %zu is %lld, outside the model's vocabulary "
                   "[0, %d)", where, index, v, vocab);
}

ss_code ss_ids_parse(const char *s, const char *where, int vocab, int32_t **ids, size_t *n,
                     ss_error *err)
{
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    long long limit = vocab > 0 ? vocab : (long long)INT32_MAX + 1;
    while (*s && *s != '\n') {
        while (*s == ' ' || *s == '\t' || *s == ',' || *s == '\r')
            s++;
        if (!*s || *s == '\n')
            break;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || errno || v < 0 || v >= limit) {
            ss_code rc = bad_id(where, *n + 1, s, end, v, vocab, err);
            free(*ids);
            *ids = NULL;
            *n = 0;
            return rc;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 256;
            int32_t *grown = ss_realloc_array(*ids, cap, sizeof *grown, "token ids", err);
            if (!grown) {
                free(*ids);
                *ids = NULL;
                *n = 0;
                return SS_ERR_NOMEM;
            }
            *ids = grown;
        }
        (*ids)[(*n)++] = (int32_t)v;
        s = end;
    }
    return SS_OK;
}
