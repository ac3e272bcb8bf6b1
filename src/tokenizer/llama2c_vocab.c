/* llama2.c tokenizer.bin (karpathy/llama2.c run.c build_tokenizer): int32
 * max_token_length, then per token float32 score, int32 length, bytes. The
 * vocabulary size is not stored; it comes from the model header.
 *
 * Encoding follows run.c encode() exactly: a " " token first when the text
 * is not empty (add_dummy_prefix), then one token per UTF-8 character (at
 * most 4 bytes gathered, as run.c's buffer does) or, for characters not in
 * the vocabulary, one token per byte at id byte + 3; then repeatedly the
 * adjacent pair whose concatenated pieces form the best-scoring token
 * (leftmost on ties, score above -1e10) is merged. Done here with the
 * shared heap engine instead of run.c's O(n^2) rescans: same result. */
#include <stdlib.h>
#include <string.h>

#include "common/le.h"
#include "common/mem.h"
#include "io/atomic_file.h"
#include "tokenizer/tok_internal.h"

/* Counts the tokens of a tokenizer.bin image (stopping at max, 0 = no
 * limit); fails with a message naming path when a record is malformed. */
static ss_code scan(const char *path, const unsigned char *b, size_t n, int max, int *count,
                    ss_error *err)
{
    if (n < 4)
        return ss_fail(err, SS_ERR_FORMAT, "%s: truncated llama2.c tokenizer: %zu bytes, expected "
                       "at least the 4-byte max_token_length", path, n);
    int32_t max_len = ss_le_i32(b);
    if (max_len <= 0 || max_len > (1 << 20))
        return ss_fail(err, SS_ERR_FORMAT, "%s: max_token_length %d is not a llama2.c tokenizer "
                       "value (expected 1..1048576)", path, max_len);
    size_t at = 4;
    int k = 0;
    while ((max == 0 && at < n) || k < max) {
        if (n - at < 8)
            return ss_fail(err, SS_ERR_FORMAT, "%s: truncated llama2.c tokenizer: token %d's "
                           "score/length need 8 bytes at offset %zu, the file has %zu", path, k,
                           at, n);
        int32_t len = ss_le_i32(b + at + 4);
        if (len < 0 || len > max_len)
            return ss_fail(err, SS_ERR_FORMAT, "%s: token %d has length %d (expected 0..%d, the "
                           "max_token_length) at offset %zu", path, k, len, max_len, at + 4);
        if ((size_t)len > n - at - 8)
            return ss_fail(err, SS_ERR_FORMAT, "%s: truncated llama2.c tokenizer: token %d needs "
                           "%d bytes at offset %zu, the file has %zu", path, k, len, at + 8, n);
        at += 8 + (size_t)len;
        k++;
    }
    *count = k;
    return SS_OK;
}

ss_code ss_tokenizer_from_llama2c_bytes(const char *path, const void *bytes, size_t n,
                                        int vocab_size, ss_tokenizer **out, ss_error *err)
{
    *out = NULL;
    const unsigned char *b = bytes;
    if (vocab_size < 0)
        return ss_fail(err, SS_ERR_USAGE, "%s: vocab_size %d (expected >= 0)", path, vocab_size);
    int count = 0;
    ss_code rc = scan(path, b, n, vocab_size, &count, err);
    if (rc)
        return rc;
    if (count < 3)
        return ss_fail(err, SS_ERR_FORMAT, "%s: llama2.c tokenizer with %d tokens (expected "
                       "<unk>, <s>, </s> and more)", path, count);
    ss_tokenizer *t = ss_tokenizer_alloc(err);
    if (!t)
        return SS_ERR_NOMEM;
    t->kind = SS_TOK_LLAMA2C;
    t->n_vocab = count;
    rc = ss_vocab_init(&t->vocab, count, 1, err);
    size_t at = 4;
    for (int i = 0; i < count && !rc; i++) {
        float score = ss_le_f32(b + at);
        int32_t len = ss_le_i32(b + at + 4);
        t->vocab.score[i] = score;
        rc = ss_vocab_set(&t->vocab, i, (const char *)b + at + 8, (size_t)len, 1, err);
        at += 8 + (size_t)len;
    }
    if (!rc)
        rc = ss_vocab_index(&t->vocab, err);
    if (rc) {
        ss_tokenizer_free(t);
        return rc;
    }
    /* run.c: BOS = 1, EOS = 2, and generation always starts with BOS */
    t->unk_id = 0;
    t->bos_id = 1;
    t->eos_id = 2;
    t->adds_bos = 1;
    ss_tokenizer_find_byte_tokens(t);
    *out = t;
    return SS_OK;
}

ss_code ss_tokenizer_from_llama2c(const char *path, int vocab_size, ss_tokenizer **out,
                                  ss_error *err)
{
    char *data;
    size_t n;
    *out = NULL;
    ss_code rc = ss_read_file(path, (size_t)1 << 30, &data, &n, err);
    if (rc)
        return rc;
    rc = ss_tokenizer_from_llama2c_bytes(path, data, n, vocab_size, out, err);
    free(data);
    return rc;
}

ss_code ss_model_llama2c(const ss_tokenizer *t, const char *s, size_t n, ss_bpe_work *w,
                         ss_ids *out, ss_error *err)
{
    if (n == 0)
        return SS_OK;
    if (n > INT32_MAX / 2)
        return ss_fail(err, SS_ERR_VALUE, "text of %zu bytes is too long to tokenize", n);
    ss_bpe_reset(w);
    ss_code rc = SS_OK;
    uint32_t pos = 0; /* symbols span token counts; the texts are the pieces */
    int32_t dummy = ss_vocab_find(&t->vocab, " ", 1);
    if (dummy >= 0)
        rc = ss_bpe_push(w, dummy, pos++, 1, err);
    char buf[4];
    size_t len = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            len = 0;
        buf[len++] = (char)c;
        unsigned char next = i + 1 < n ? (unsigned char)s[i + 1] : 0;
        if ((next & 0xC0) == 0x80 && len < 4)
            continue;
        int32_t id = ss_vocab_find(&t->vocab, buf, len);
        if (id >= 0) {
            rc = ss_bpe_push(w, id, pos++, 1, err);
        } else {
            for (size_t k = 0; k < len && !rc; k++) {
                int32_t bt = (int32_t)(unsigned char)buf[k] + 3;
                if (bt >= t->vocab.n)
                    return ss_fail(err, SS_ERR_VALUE, "byte 0x%02X has no byte-fallback token: "
                                   "the vocabulary has only %d tokens",
                                   (unsigned char)buf[k], t->vocab.n);
                rc = ss_bpe_push(w, bt, pos++, 1, err);
            }
        }
        len = 0;
    }
    if (!rc)
        rc = ss_bpe_run(w, t, SS_MERGE_SCORE_PIECES, s, err);
    for (int32_t i = w->n_sym ? 0 : -1; i >= 0 && !rc; i = w->sym[i].next)
        rc = ss_ids_push(out, w->sym[i].id, err);
    return rc;
}
