/* common/parse.c, common/escape.c and common/utf8check.c against
 * hand-derived answers: the integer parser refuses overflow (where
 * strtol/sscanf would wrap or clamp), leading spaces, '+' and trailing junk;
 * head names; escaping keeps UTF-8 and printable ASCII and shows everything
 * else as \xNN; UTF-8 validity at RFC 3629's boundaries; the workspace
 * arena (common/mem.c) hands out zeroed, aligned, disjoint buffers. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "common/escape.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/utf8check.h"
#include "harness.h"

static void integers(void)
{
    long long v = 7;
    CHECK(ss_parse_ll_all("0", 0, 10, &v) == SS_PARSE_OK && v == 0);
    CHECK(ss_parse_ll_all("-12", -100, 100, &v) == SS_PARSE_OK && v == -12);
    CHECK(ss_parse_ll_all("9223372036854775807", 0, LLONG_MAX, &v) == SS_PARSE_OK &&
          v == LLONG_MAX);
    v = 7;
    CHECK(ss_parse_ll_all("9223372036854775808", 0, LLONG_MAX, &v) == SS_PARSE_RANGE && v == 7);
    CHECK(ss_parse_ll_all("99999999999999999999", 0, LLONG_MAX, &v) == SS_PARSE_RANGE);
    CHECK(ss_parse_ll_all("4294967296", 0, INT32_MAX, &v) == SS_PARSE_RANGE);
    CHECK(ss_parse_ll_all("11", 0, 10, &v) == SS_PARSE_RANGE);
    CHECK(ss_parse_ll_all("", 0, 10, &v) == SS_PARSE_NONE);
    CHECK(ss_parse_ll_all(" 1", 0, 10, &v) == SS_PARSE_NONE);
    CHECK(ss_parse_ll_all("+1", 0, 10, &v) == SS_PARSE_NONE);
    CHECK(ss_parse_ll_all("-", 0, 10, &v) == SS_PARSE_NONE);
    CHECK(ss_parse_ll_all("1x", 0, 10, &v) == SS_PARSE_NONE);
    CHECK(ss_parse_ll_all("1 ", 0, 10, &v) == SS_PARSE_NONE);
    const char *end = NULL;
    CHECK(ss_parse_ll("42:7", &end, 0, 100, &v) == SS_PARSE_OK && v == 42 && *end == ':');
}

static void head_names(void)
{
    int l = -1, h = -1;
    const char *end = NULL;
    CHECK(ss_parse_head_name("L3H12,L0H0", &end, &l, &h) && l == 3 && h == 12 && *end == ',');
    CHECK(ss_parse_head_name("L2147483647H0", &end, &l, &h) && l == INT32_MAX && h == 0);
    CHECK(!ss_parse_head_name("L4294967296H0", &end, &l, &h)); /* sscanf %d gave L0H0 */
    CHECK(!ss_parse_head_name("L2147483648H0", &end, &l, &h));
    CHECK(!ss_parse_head_name("L-1H0", &end, &l, &h));
    CHECK(!ss_parse_head_name("L1", &end, &l, &h));
    CHECK(!ss_parse_head_name("H1L1", &end, &l, &h));
    CHECK(!ss_parse_head_name("L 1H1", &end, &l, &h));
}

static void escaping(void)
{
    char out[64];
    const char ansi[] = "ll\x1b[31mama\nX\r\x7f";
    CHECK(strcmp(ss_escape(ansi, sizeof ansi - 1, out, sizeof out),
                 "ll\\x1B[31mama\\x0AX\\x0D\\x7F") == 0);
    const char utf8[] = "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 \\u0000";
    CHECK(strcmp(ss_escape(utf8, sizeof utf8 - 1, out, sizeof out), utf8) == 0);
    const char bad[] = "\xc3(\xe2\x82 \xed\xa0\x80\xc0\x80\xf4\x90\x80\x80\xff";
    CHECK_MSG(strcmp(ss_escape(bad, sizeof bad - 1, out, sizeof out),
                     "\\xC3(\\xE2\\x82 \\xED\\xA0\\x80\\xC0\\x80\\xF4\\x90\\x80\\x80\\xFF") == 0,
              "%s", out);
    const char nul[] = "a\0b";
    CHECK(strcmp(ss_escape(nul, 3, out, sizeof out), "a\\x00b") == 0);
    /* cut to the buffer with "...", never past it */
    char small[8];
    CHECK(strcmp(ss_escape("abcdefghij", 10, small, sizeof small), "abcd...") == 0);
    CHECK(strcmp(ss_escape("\x01\x02\x03", 3, small, sizeof small), "\\x01...") == 0);
    CHECK(strcmp(ss_escape("abc", 3, small, sizeof small), "abc") == 0);
}

/* RFC 3629's table: the boundaries of each length, and what it rules out */
static void utf8(void)
{
    CHECK(ss_utf8_valid_len("A", 1) == 1);
    CHECK(ss_utf8_valid_len("\xc2\x80", 2) == 2);             /* U+0080 */
    CHECK(ss_utf8_valid_len("\xdf\xbf", 2) == 2);             /* U+07FF */
    CHECK(ss_utf8_valid_len("\xe0\xa0\x80", 3) == 3);         /* U+0800 */
    CHECK(ss_utf8_valid_len("\xed\x9f\xbf", 3) == 3);         /* U+D7FF */
    CHECK(ss_utf8_valid_len("\xee\x80\x80", 3) == 3);         /* U+E000 */
    CHECK(ss_utf8_valid_len("\xf0\x90\x80\x80", 4) == 4);     /* U+10000 */
    CHECK(ss_utf8_valid_len("\xf4\x8f\xbf\xbf", 4) == 4);     /* U+10FFFF */
    CHECK(ss_utf8_valid_len("\xc0\x80", 2) == 0);             /* overlong NUL */
    CHECK(ss_utf8_valid_len("\xc1\xbf", 2) == 0);
    CHECK(ss_utf8_valid_len("\xe0\x9f\xbf", 3) == 0);         /* overlong */
    CHECK(ss_utf8_valid_len("\xed\xa0\x80", 3) == 0);         /* surrogate U+D800 */
    CHECK(ss_utf8_valid_len("\xf0\x8f\xbf\xbf", 4) == 0);     /* overlong */
    CHECK(ss_utf8_valid_len("\xf4\x90\x80\x80", 4) == 0);     /* U+110000 */
    CHECK(ss_utf8_valid_len("\xf5\x80\x80\x80", 4) == 0);
    CHECK(ss_utf8_valid_len("\x80", 1) == 0);                 /* stray continuation */
    CHECK(ss_utf8_valid_len("\xe2\x82", 2) == 0);             /* cut */
    CHECK(ss_utf8_valid_len("\xe2\x82\x41", 3) == 0);
    /* fed across a buffer boundary */
    ss_utf8_check u = {0};
    CHECK(ss_utf8_feed(&u, 0xf0) && u.need == 3);
    CHECK(ss_utf8_feed(&u, 0x9f) && ss_utf8_feed(&u, 0x98) && ss_utf8_feed(&u, 0x80) && u.need == 0);
    CHECK(!ss_utf8_feed(&u, 0xff));
}

/* small (4 KiB pages) and large (huge-page aligned) arenas: every buffer
 * 64-byte aligned, zero, writable without touching its neighbours; a
 * buffer whose piece (rounded up to 64, plus the 64-byte gap) is one
 * alignment step more than the mapping still holds is refused, not overrun,
 * and one that fills the mapping exactly is given */
static void arena(void)
{
    size_t sizes[][4] = {{1, 0, 100, 4096}, {3u << 20, 5, 1u << 20, 64}};
    for (int t = 0; t < 2; t++) {
        ss_arena a;
        ss_error err = {0};
        CHECK(ss_arena_map(&a, ss_arena_bytes(sizes[t], 4), "test arena", &err) == SS_OK);
        CHECK(a.size >= ss_arena_bytes(sizes[t], 4));
        if (t == 1)
            CHECK((uintptr_t)a.base % ((uintptr_t)2 << 20) == 0);
        unsigned char *p[4];
        for (int i = 0; i < 4; i++) {
            p[i] = ss_arena_take(&a, sizes[t][i]);
            CHECK(p[i] && (uintptr_t)p[i] % 64 == 0);
            int zero = 1;
            for (size_t j = 0; j < sizes[t][i]; j++)
                zero &= p[i][j] == 0;
            CHECK(zero);
            memset(p[i], 0xA0 + i, sizes[t][i]);
        }
        for (int i = 0; i + 1 < 4; i++)
            CHECK(p[i] + sizes[t][i] < p[i + 1]);
        for (int i = 0; i < 4; i++)
            CHECK(sizes[t][i] == 0 || (p[i][0] == 0xA0 + i && p[i][sizes[t][i] - 1] == 0xA0 + i));
        size_t rest = a.size - a.used;
        CHECK(rest % 64 == 0 && rest >= 128);
        CHECK(ss_arena_take(&a, rest - 63) == NULL && a.used + rest == a.size);
        unsigned char *last = ss_arena_take(&a, rest - 64);
        CHECK(last && a.used == a.size);
        last[0] = last[rest - 65] = 1;
        CHECK(ss_arena_take(&a, 0) == NULL);
        ss_arena_unmap(&a);
        CHECK(a.base == NULL);
    }
}

TEST_MAIN(TEST(integers), TEST(head_names), TEST(escaping), TEST(utf8), TEST(arena))
