#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

ss_code ss_fail(ss_error *err, ss_code code, const char *fmt, ...)
{
    if (err && err->code == SS_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void ss_error_prefix(ss_error *err, const char *fmt, ...)
{
    if (!err || err->code == SS_OK)
        return;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* "prefix: message", cut to the buffer (the message's tail goes first) */
    char joined[sizeof err->msg];
    size_t p = strlen(prefix);
    if (p > sizeof joined - 3)
        p = sizeof joined - 3;
    memcpy(joined, prefix, p);
    joined[p] = ':';
    joined[p + 1] = ' ';
    size_t m = strnlen(err->msg, sizeof joined - p - 3);
    memcpy(joined + p + 2, err->msg, m);
    joined[p + 2 + m] = '\0';
    memcpy(err->msg, joined, sizeof err->msg);
}

void ss_error_suffix(ss_error *err, const char *fmt, ...)
{
    if (!err || err->code == SS_OK)
        return;
    size_t used = strnlen(err->msg, sizeof err->msg);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + used, sizeof err->msg - used, fmt, ap);
    va_end(ap);
}

void ss_error_clear(ss_error *err)
{
    err->code = SS_OK;
    err->msg[0] = '\0';
}

const char *ss_code_name(ss_code code)
{
    switch (code) {
    case SS_OK: return "ok";
    case SS_ERR_IO: return "io";
    case SS_ERR_FORMAT: return "format";
    case SS_ERR_UNSUPPORTED: return "unsupported";
    case SS_ERR_MISSING: return "missing";
    case SS_ERR_SHAPE: return "shape";
    case SS_ERR_VALUE: return "value";
    case SS_ERR_USAGE: return "usage";
    case SS_ERR_NOMEM: return "nomem";
    case SS_ERR_INCOMPATIBLE: return "incompatible";
    case SS_STOP: return "stop";
    }
    return "unknown";
}
