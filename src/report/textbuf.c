#include "report/textbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

void ss_text_free(ss_text *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Room for n more bytes plus the NUL. */
static int reserve(ss_text *b, size_t n)
{
    if (b->oom)
        return 0;
    if (b->len + n + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->oom = 1;
            return 0;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void ss_text_putn(ss_text *b, const void *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void ss_text_put(ss_text *b, const char *s)
{
    if (s)
        ss_text_putn(b, s, strlen(s));
}

static void vprintf_buf(ss_text *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->oom = 1; /* an encoding error: treat the document as broken */
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void ss_text_printf(ss_text *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf_buf(b, fmt, ap);
    va_end(ap);
}

void ss_text_escape(ss_text *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': ss_text_put(b, "&amp;"); break;
        case '<': ss_text_put(b, "&lt;"); break;
        case '>': ss_text_put(b, "&gt;"); break;
        case '"': ss_text_put(b, "&quot;"); break;
        case '\'': ss_text_put(b, "&#39;"); break;
        default: ss_text_putn(b, s, 1);
        }
    }
}

void ss_text_escapef(ss_text *b, const char *fmt, ...)
{
    ss_text tmp = {0};
    va_list ap;
    va_start(ap, fmt);
    vprintf_buf(&tmp, fmt, ap);
    va_end(ap);
    if (tmp.oom)
        b->oom = 1;
    ss_text_escape(b, tmp.p);
    ss_text_free(&tmp);
}

void ss_text_base64(ss_text *b, const unsigned char *d, size_t n)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!reserve(b, (n + 2) / 3 * 4))
        return;
    char *o = b->p + b->len;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
        *o++ = A[v >> 18];
        *o++ = A[(v >> 12) & 63];
        *o++ = A[(v >> 6) & 63];
        *o++ = A[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0);
        *o++ = A[v >> 18];
        *o++ = A[(v >> 12) & 63];
        *o++ = i + 1 < n ? A[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = '\0';
}

ss_code ss_text_check(const ss_text *b, const char *what, ss_error *err)
{
    if (b->oom)
        return ss_fail(err, SS_ERR_NOMEM, "%s: out of memory while building the document", what);
    return SS_OK;
}

ss_code ss_text_save(ss_text *b, ss_code rc, const char *path, ss_error *err)
{
    if (rc)
        ss_error_prefix(err, "%s", path);
    else
        rc = ss_text_write(b, path, err);
    ss_text_free(b);
    return rc;
}

ss_code ss_text_write(const ss_text *b, const char *path, ss_error *err)
{
    ss_code rc = ss_text_check(b, path, err);
    if (rc)
        return rc;
    return ss_write_file_atomic(path, b->p ? b->p : "", b->len, err);
}
