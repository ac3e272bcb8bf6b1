#include "common/escape.h"

#include <stdio.h>
#include <string.h>

#include "common/utf8check.h"

char *ss_escape(const char *s, size_t n, char *out, size_t cap)
{
    if (cap == 0)
        return out;
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0, i = 0;
    while (i < n) {
        char piece[8];
        size_t len = 1, adv = 1;
        if (u[i] >= 0x20 && u[i] < 0x7F) {
            piece[0] = (char)u[i];
        } else if (u[i] >= 0x80 && (adv = ss_utf8_valid_len(s + i, n - i)) > 0) {
            memcpy(piece, s + i, adv);
            len = adv;
        } else {
            adv = 1;
            snprintf(piece, sizeof piece, "\\x%02X", u[i]);
            len = 4;
        }
        if (o + len + 4 > cap) { /* room for "..." and the NUL */
            if (o + 4 <= cap) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(out + o, piece, len);
        o += len;
        i += adv;
    }
    out[o] = '\0';
    return out;
}
