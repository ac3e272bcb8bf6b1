#include "tokenizer/ids.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/parse.h"

static ss_code bad_id(const char *where, size_t index, int not_integer, long long v, int vocab,
                      ss_error *err)
{
    if (vocab <= 0)
        return ss_fail(err, SS_ERR_VALUE, "%s: token %zu is not a non-negative integer id",
                       where, index);
    if (not_integer)
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
        /* common/parse: digits with an optional '-', then a separator or the end */
        const char *end = s;
        long long v = 0;
        int not_integer = ss_parse_ll(s, &end, LLONG_MIN, LLONG_MAX, &v) != SS_PARSE_OK ||
                          (*end && !strchr(" \t,\r\n", *end));
        if (not_integer || v < 0 || v >= limit) {
            ss_code rc = bad_id(where, *n + 1, not_integer, v, vocab, err);
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
