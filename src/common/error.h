/* Error reporting: every fallible function returns an ss_code and fills an
 * ss_error with one line a user can act on (which file, which field, what
 * was expected). No global error state: the caller owns the ss_error. */
#ifndef SS_COMMON_ERROR_H
#define SS_COMMON_ERROR_H

#include <stddef.h>

/* ss_code and ss_error are part of the public API (include/slashscope.h):
 * one definition for the library and its callers. Including the public
 * header here also makes the compiler check every public declaration
 * against its definition. */
#include "slashscope.h"

/* Records the error (unless one is already recorded: the first, most
 * specific message wins) and returns its code, so callers can write
 * `return ss_fail(err, SS_ERR_FORMAT, "%s: ...", path);`. */
ss_code ss_fail(ss_error *err, ss_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes context to an already recorded message ("loading X: <msg>"). */
void ss_error_prefix(ss_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends to an already recorded message ("<msg>; advice"): callers that
 * know how to fix an error (the CLI knows its flags) add it here. */
void ss_error_suffix(ss_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));


#endif
