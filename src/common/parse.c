#include "common/parse.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

ss_parse_status ss_parse_ll(const char *s, const char **end, long long min, long long max,
                            long long *out)
{
    /* strtoll alone would skip spaces and take '+'; ask for a digit first */
    const char *d = s + (*s == '-');
    if (*d < '0' || *d > '9')
        return SS_PARSE_NONE;
    char *e;
    errno = 0;
    long long v = strtoll(s, &e, 10);
    if (end)
        *end = e;
    if (errno == ERANGE || v < min || v > max)
        return SS_PARSE_RANGE;
    *out = v;
    return SS_PARSE_OK;
}

ss_parse_status ss_parse_ll_all(const char *s, long long min, long long max, long long *out)
{
    const char *end;
    long long v;
    ss_parse_status st = ss_parse_ll(s, &end, min, max, &v);
    if (st == SS_PARSE_NONE || *end)
        return SS_PARSE_NONE;
    if (st == SS_PARSE_OK)
        *out = v;
    return st;
}

int ss_parse_head_name(const char *s, const char **end, int *layer, int *head)
{
    long long l, h;
    const char *p;
    if (*s != 'L' || ss_parse_ll(s + 1, &p, 0, INT32_MAX, &l) || *p != 'H' ||
        ss_parse_ll(p + 1, &p, 0, INT32_MAX, &h))
        return 0;
    *layer = (int)l;
    *head = (int)h;
    *end = p;
    return 1;
}
