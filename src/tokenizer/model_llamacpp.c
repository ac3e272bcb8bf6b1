/* llama.cpp's two tokenizers for GGUF vocabularies (src/llama-vocab.cpp):
 *  - llm_tokenizer_bpe_session ("gpt2" model): symbols are the UTF-8
 *    characters of an already byte-level-mapped word (lengths from the lead
 *    byte alone), merged by merge rank; a final symbol that is not a token
 *    is emitted byte by byte as single-character tokens where they exist.
 *  - llm_tokenizer_spm_session ("llama" model): the same characters, merged
 *    when the joined text is a token, highest score first; a final symbol
 *    that is not a token becomes <0xXX> byte tokens (resegment). */
#include <stdio.h>

#include "tokenizer/tok_internal.h"

static ss_code push_chars(ss_bpe_work *w, const ss_tokenizer *t, const char *s, size_t n,
                          ss_error *err)
{
    ss_bpe_reset(w);
    ss_code rc = SS_OK;
    for (size_t i = 0; i < n && !rc;) {
        size_t l = (size_t)ss_utf8_lead_len((unsigned char)s[i]);
        if (l > n - i)
            l = n - i;
        rc = ss_bpe_push(w, ss_vocab_find(&t->vocab, s + i, l), (uint32_t)i, (uint32_t)l, err);
        i += l;
    }
    return rc;
}

ss_code ss_model_llamacpp_bpe(const ss_tokenizer *t, const char *s, size_t n, ss_bpe_work *w,
                              ss_ids *out, ss_error *err)
{
    int done;
    ss_code rc0 = ss_bpe_whole_piece(t, s, n, out, &done, err);
    if (rc0 || done)
        return rc0;
    ss_code rc = push_chars(w, t, s, n, err);
    if (!rc)
        rc = ss_bpe_run(w, t, SS_MERGE_RANK, s, err);
    for (int32_t i = w->n_sym ? 0 : -1; i >= 0 && !rc; i = w->sym[i].next) {
        const ss_sym *y = &w->sym[i];
        if (y->id >= 0) {
            rc = ss_ids_push(out, y->id, err);
            continue;
        }
        for (uint32_t k = 0; k < y->len && !rc; k++) {
            int32_t id = ss_vocab_find(&t->vocab, s + y->start + k, 1);
            if (id >= 0)
                rc = ss_ids_push(out, id, err);
        }
    }
    return rc;
}

/* llama_vocab::byte_to_token for SPM: "<0xXX>", else the byte itself as a
 * one-character token; the unknown token when the vocabulary has neither
 * (llama.cpp would throw). */
static int32_t spm_byte_token(const ss_tokenizer *t, unsigned char b)
{
    if (t->byte_token[b] >= 0)
        return t->byte_token[b];
    char c = (char)b;
    int32_t id = ss_vocab_find(&t->vocab, &c, 1);
    return id >= 0 ? id : t->unk_id;
}

ss_code ss_model_llamacpp_spm(const ss_tokenizer *t, const char *s, size_t n, ss_bpe_work *w,
                              ss_ids *out, ss_error *err)
{
    if (n == 0)
        return SS_OK;
    if (n > UINT32_MAX / 2)
        return ss_fail(err, SS_ERR_VALUE, "text piece of %zu bytes is too long to tokenize", n);
    ss_code rc = push_chars(w, t, s, n, err);
    if (!rc)
        rc = ss_bpe_run(w, t, SS_MERGE_SCORE_TEXT, s, err);
    for (int32_t i = w->n_sym ? 0 : -1; i >= 0 && !rc; i = w->sym[i].next) {
        const ss_sym *y = &w->sym[i];
        int32_t id = ss_vocab_find(&t->vocab, s + y->start, y->len);
        if (id >= 0) {
            rc = ss_ids_push(out, id, err);
            continue;
        }
        for (uint32_t k = 0; k < y->len && !rc; k++) {
            int32_t b = spm_byte_token(t, (unsigned char)s[y->start + k]);
            if (b < 0)
                return ss_fail(err, SS_ERR_VALUE, "byte 0x%02X has no token (no <0x%02X>, no "
                               "single-byte piece, no unknown token)",
                               (unsigned char)s[y->start + k], (unsigned char)s[y->start + k]);
            rc = ss_ids_push(out, b, err);
        }
    }
    return rc;
}
