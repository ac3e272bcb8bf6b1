/* UTF-8 validity, one byte at a time (a read buffer may end inside a
 * character): shared by the prompt-file checks and by escaping for the
 * terminal. Rejects what RFC 3629 rejects: overlong forms, surrogates,
 * code points above U+10FFFF, stray continuation bytes. */
#ifndef SS_COMMON_UTF8CHECK_H
#define SS_COMMON_UTF8CHECK_H

#include <stddef.h>

typedef struct {
    int need;              /* continuation bytes still due */
    unsigned char lo, hi;  /* the range the next one must fall in */
} ss_utf8_check;           /* zero-initialised: at a character boundary */

/* Feeds one byte; 0 when it makes the text invalid. After a 0 the state is
 * unspecified: start again from {0}. */
int ss_utf8_feed(ss_utf8_check *u, unsigned char c);
/* Length (1-4) of the valid character at s[0..n), or 0 if there is none. */
size_t ss_utf8_valid_len(const char *s, size_t n);

#endif
