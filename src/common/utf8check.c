#include "common/utf8check.h"

int ss_utf8_feed(ss_utf8_check *u, unsigned char c)
{
    if (u->need) {
        if (c < u->lo || c > u->hi)
            return 0;
        u->lo = 0x80;
        u->hi = 0xBF;
        u->need--;
        return 1;
    }
    u->lo = 0x80;
    u->hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    u->need = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    if (c == 0xE0)
        u->lo = 0xA0; /* no overlong 3-byte forms */
    else if (c == 0xED)
        u->hi = 0x9F; /* no surrogates */
    else if (c == 0xF0)
        u->lo = 0x90; /* no overlong 4-byte forms */
    else if (c == 0xF4)
        u->hi = 0x8F; /* nothing above U+10FFFF */
    return 1;
}

size_t ss_utf8_valid_len(const char *s, size_t n)
{
    ss_utf8_check u = {0};
    for (size_t i = 0; i < n && i < 4; i++) {
        if (!ss_utf8_feed(&u, (unsigned char)s[i]))
            return 0;
        if (u.need == 0)
            return i + 1;
    }
    return 0;
}
