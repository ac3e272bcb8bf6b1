/* GPT-2's byte-level alphabet (bytes_to_unicode in openai/gpt-2 encoder.py,
 * also used by HF ByteLevel and llama.cpp unicode_byte_to_utf8): the
 * printable bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves;
 * the other 68 bytes are shifted to U+0100.. in byte order, so every byte
 * string becomes printable text (space -> 'Ġ' U+0120, '\n' -> 'Ċ' U+010A). */
#include <pthread.h>

#include "tokenizer/tok_internal.h"

static char table[256][3];
static unsigned char table_len[256];
static int16_t inverse[256 + 68]; /* stand-in code point -> byte */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
    int shifted = 0;
    for (int b = 0; b < 256; b++) {
        int self = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        int32_t cp = self ? b : 256 + shifted++;
        inverse[cp] = (int16_t)b;
        char buf[4];
        int n = ss_utf8_encode(cp, buf);
        for (int i = 0; i < n; i++)
            table[b][i] = buf[i];
        table_len[b] = (unsigned char)n;
    }
}

const char *ss_byte_level_char(unsigned char b, size_t *len)
{
    pthread_once(&once, build);
    *len = table_len[b];
    return table[b];
}

int ss_byte_level_byte(int32_t cp)
{
    pthread_once(&once, build);
    if (cp < 0 || cp >= 256 + 68)
        return -1;
    /* code points below 256 that are not stand-ins (control bytes, space,
     * 0x7F-0xA0, 0xAD) map to nothing: their slot kept the default 0, which
     * only byte 0's stand-in U+0100 legitimately has */
    if (inverse[cp] == 0 && cp != 256)
        return -1;
    return inverse[cp];
}

ss_code ss_byte_level_map(const char *s, size_t n, ss_buf *out, ss_error *err)
{
    out->n = 0;
    ss_code rc = ss_buf_put(out, "", 0, err);
    for (size_t i = 0; i < n && !rc; i++) {
        size_t len;
        const char *c = ss_byte_level_char((unsigned char)s[i], &len);
        rc = ss_buf_put(out, c, len, err);
    }
    return rc;
}
