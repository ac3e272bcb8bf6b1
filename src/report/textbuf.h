/* A growable text buffer for documents built in memory (SVG figures, the
 * HTML report): a figure is built once and then either written to its own
 * file or inlined into a report. An allocation failure is remembered and
 * reported once, by ss_text_check, so builders need not test every append. */
#ifndef SS_REPORT_TEXTBUF_H
#define SS_REPORT_TEXTBUF_H

#include <stddef.h>

#include "common/error.h"

typedef struct {
    char *p;    /* NUL-terminated when len > 0 */
    size_t len, cap;
    int oom;    /* an append ran out of memory: the contents are incomplete */
} ss_text;

void ss_text_free(ss_text *b);
void ss_text_put(ss_text *b, const char *s);
void ss_text_putn(ss_text *b, const void *s, size_t n);
void ss_text_printf(ss_text *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text with &, <, >, " and ' escaped: safe in XML/HTML text and attributes. */
void ss_text_escape(ss_text *b, const char *s);
/* printf, then escaped. */
void ss_text_escapef(ss_text *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* RFC 4648 base64 of n bytes. */
void ss_text_base64(ss_text *b, const unsigned char *data, size_t n);

/* SS_ERR_NOMEM naming what when an append failed, else SS_OK. */
ss_code ss_text_check(const ss_text *b, const char *what, ss_error *err);
/* Atomically writes the contents to path (after ss_text_check). */
ss_code ss_text_write(const ss_text *b, const char *path, ss_error *err);
/* The end of "build a document, then save it": writes b to path when the
 * build's rc is SS_OK (else names path in err), frees b, returns the
 * outcome. */
ss_code ss_text_save(ss_text *b, ss_code rc, const char *path, ss_error *err);

#endif
