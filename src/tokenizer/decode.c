/* Token ids -> text, the inverse of the encode pipeline, so a user can read
 * the tokens a head attends to. Per format:
 *   byte-level BPE (HF ByteLevel decoder, GGUF "gpt2"): join the pieces and
 *     map GPT-2's stand-in characters back to bytes (a piece holding any
 *     other character, e.g. an added token, is taken as its own bytes, as
 *     HF's ByteLevel decoder does);
 *   SentencePiece style (HF Metaspace / Replace "▁"->" " + ByteFallback,
 *     GGUF "llama"): U+2581 becomes a space, a <0xXX> byte token its byte,
 *     and the one leading space the encoder prepended is removed (HF Strip /
 *     Metaspace prepend, llama.cpp add_space_prefix);
 *   llama2.c tokenizer.bin: pieces are text with real spaces and <0xXX>
 *     byte tokens; run.c's encoder always prepends a space, removed here.
 * Special tokens are shown as their text ("<s>", "<|endoftext|>"). The
 * result is the bytes the tokens stand for: it may be invalid UTF-8 when
 * the ids cut a character (callers that print it escape it). */
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "tokenizer/tok_internal.h"

/* The byte of a "<0xXX>" piece, or -1. */
static int byte_piece(const char *p, size_t n)
{
    if (n != 6 || memcmp(p, "<0x", 3) != 0 || p[5] != '>')
        return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = 16 * v + d;
    }
    return v;
}

/* A byte-level piece back to bytes, or as it is if some character is no
 * stand-in. */
static ss_code unmap_byte_level(const char *p, size_t n, ss_buf *out, ss_error *err)
{
    size_t mark = out->n;
    ss_code rc = SS_OK;
    for (size_t i = 0; i < n && !rc;) {
        int32_t cp;
        int l = ss_utf8_next(p + i, n - i, &cp);
        int b = ss_byte_level_byte(cp);
        if (b < 0) { /* not in the alphabet: the piece is literal text */
            out->n = mark;
            return ss_buf_put(out, p, n, err);
        }
        unsigned char c = (unsigned char)b;
        rc = ss_buf_put(out, &c, 1, err);
        i += (size_t)l;
    }
    return rc;
}

static ss_code put_metaspace(const char *p, size_t n, ss_buf *out, ss_error *err)
{
    static const char space[] = "\xe2\x96\x81"; /* U+2581 */
    ss_code rc = SS_OK;
    for (size_t i = 0; i < n && !rc;) {
        if (n - i >= 3 && memcmp(p + i, space, 3) == 0) {
            rc = ss_buf_put(out, " ", 1, err);
            i += 3;
        } else {
            rc = ss_buf_put(out, p + i, 1, err);
            i++;
        }
    }
    return rc;
}

typedef struct {
    int byte_level, metaspace, strip_lead;
} dec_mode;

static dec_mode mode_of(const ss_tokenizer *t)
{
    switch (t->kind) {
    case SS_TOK_GGUF_BPE:
        return (dec_mode){1, 0, 0};
    case SS_TOK_GGUF_SPM:
        return (dec_mode){0, 1, t->add_space_prefix};
    case SS_TOK_LLAMA2C: /* run.c encode() puts the " " token first */
        return (dec_mode){0, 0, 1};
    default:
        return (dec_mode){t->dec_byte_level, t->dec_metaspace, t->dec_strip_lead};
    }
}

static ss_code decode_one(const ss_tokenizer *t, dec_mode m, int32_t id, ss_buf *out,
                          ss_error *err)
{
    size_t n = 0;
    const char *p = ss_vocab_piece(&t->vocab, id, &n);
    if (!p)
        return ss_fail(err, SS_ERR_VALUE, "token id %d is outside the vocabulary [0, %d)", id,
                       t->n_vocab);
    int b = m.byte_level ? -1 : byte_piece(p, n);
    if (b >= 0) {
        unsigned char c = (unsigned char)b;
        return ss_buf_put(out, &c, 1, err);
    }
    if (m.byte_level)
        return unmap_byte_level(p, n, out, err);
    if (m.metaspace)
        return put_metaspace(p, n, out, err);
    return ss_buf_put(out, p, n, err);
}

ss_code ss_tokenizer_decode(const ss_tokenizer *t, const int32_t *ids, size_t n, char **text,
                            size_t *len, ss_error *err)
{
    *text = NULL;
    *len = 0;
    dec_mode m = mode_of(t);
    ss_buf out = {0};
    ss_code rc = ss_buf_put(&out, "", 0, err);
    for (size_t i = 0; i < n && !rc; i++)
        rc = decode_one(t, m, ids[i], &out, err);
    if (rc) {
        ss_buf_free(&out);
        return rc;
    }
    size_t cut = 0;
    while (cut < (size_t)m.strip_lead && cut < out.n && out.p[cut] == ' ')
        cut++;
    memmove(out.p, out.p + cut, out.n - cut + 1);
    *text = out.p;
    *len = out.n - cut;
    return SS_OK;
}

ss_code ss_tokenizer_token_text(const ss_tokenizer *t, int32_t id, char **text, size_t *len,
                                ss_error *err)
{
    *text = NULL;
    *len = 0;
    ss_buf out = {0};
    ss_code rc = ss_buf_put(&out, "", 0, err);
    if (!rc)
        rc = decode_one(t, mode_of(t), id, &out, err);
    if (rc) {
        ss_buf_free(&out);
        return rc;
    }
    *text = out.p;
    *len = out.n;
    return SS_OK;
}
