/* Error reporting: every fallible function returns an ss_code and fills an
 * ss_error with one line a user can act on (which file, which field, what
 * was expected). No global error state: the caller owns the ss_error. */
#ifndef SS_COMMON_ERROR_H
#define SS_COMMON_ERROR_H

#include <stddef.h>

typedef enum {
    SS_OK = 0,
    SS_ERR_IO,          /* cannot open, read, map or write a file */
    SS_ERR_FORMAT,      /* a file is malformed: bad magic, truncated, bad JSON */
    SS_ERR_UNSUPPORTED, /* valid but not supported: architecture, dtype, version */
    SS_ERR_MISSING,     /* a required tensor, field or file is absent */
    SS_ERR_SHAPE,       /* a tensor or array has the wrong shape or dtype */
    SS_ERR_VALUE,       /* a value is out of range: NaN weight, token id, length */
    SS_ERR_USAGE,       /* bad command-line or API arguments */
    SS_ERR_NOMEM,       /* allocation failed */
    SS_ERR_INCOMPATIBLE, /* results that cannot be combined (merge, compare) */
    SS_STOP             /* not an error: an observer, an analysis or the caller's interrupt
                         * flag ended the work early (like SQLite's SQLITE_ABORT); no
                         * message is recorded for it */
} ss_code;

typedef struct {
    ss_code code;
    char msg[1024];
} ss_error;

/* Records the error (unless one is already recorded: the first, most
 * specific message wins) and returns its code, so callers can write
 * `return ss_fail(err, SS_ERR_FORMAT, "%s: ...", path);`. */
ss_code ss_fail(ss_error *err, ss_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes context to an already recorded message ("loading X: <msg>"). */
void ss_error_prefix(ss_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void ss_error_clear(ss_error *err);
const char *ss_code_name(ss_code code);

#endif
