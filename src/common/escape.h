/* Untrusted text (strings from model files, prompt files, error messages
 * that quote them) made safe to print on a terminal: control bytes (ANSI
 * escapes, newlines, carriage returns, DEL) and bytes that are not valid
 * UTF-8 become \xNN; printable ASCII and valid UTF-8 stay as they are
 * (a backslash too: messages quote escapes like \u0000 literally). */
#ifndef SS_COMMON_ESCAPE_H
#define SS_COMMON_ESCAPE_H

#include <stddef.h>

/* Escapes n bytes of s into out (cap bytes, always NUL-terminated; cut
 * with "..." when it does not fit). Returns out. */
char *ss_escape(const char *s, size_t n, char *out, size_t cap);

#endif
