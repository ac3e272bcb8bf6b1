#include "common/escape.h"

#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (2..4), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                                           : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (!len || len > n)
        return 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

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
        } else if (u[i] >= 0x80 && (adv = utf8_len(u + i, n - i)) > 0) {
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
