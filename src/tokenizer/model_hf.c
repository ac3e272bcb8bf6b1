/* Hugging Face's BPE model over one pre-tokenized piece
 * (tokenizers/src/models/bpe/model.rs merge_word + word.rs merge_all):
 * every character is a symbol if it is in the vocabulary; otherwise its
 * bytes become <0xXX> tokens (byte_fallback), or the unknown token (runs of
 * unknown characters fused when fuse_unk), or it is dropped (no unk token).
 * Then pairs merge by rank. ignore_merges: a piece that is itself a token is
 * emitted whole (Llama-3). */
#include "tokenizer/tok_internal.h"

ss_code ss_model_hf_bpe(const ss_tokenizer *t, const char *s, size_t n, ss_bpe_work *w,
                        ss_ids *out, ss_error *err)
{
    int done;
    ss_code rc0 = ss_bpe_whole_piece(t, s, n, out, &done, err);
    if (rc0 || done)
        return rc0;
    ss_bpe_reset(w);
    ss_code rc = SS_OK;
    int32_t unk_start = -1, unk_len = 0; /* pending unknown run */
    for (size_t i = 0; i < n && !rc;) {
        int32_t cp;
        size_t l = (size_t)ss_utf8_next(s + i, n - i, &cp);
        int32_t id = ss_vocab_find(&t->vocab, s + i, l);
        if (id >= 0) {
            if (unk_start >= 0)
                rc = ss_bpe_push(w, t->unk_id, (uint32_t)unk_start, (uint32_t)unk_len, err);
            unk_start = -1;
            if (!rc)
                rc = ss_bpe_push(w, id, (uint32_t)i, (uint32_t)l, err);
        } else {
            int all = t->byte_fallback;
            for (size_t k = 0; k < l && all; k++)
                all = t->byte_token[(unsigned char)s[i + k]] >= 0;
            if (all) {
                for (size_t k = 0; k < l && !rc; k++)
                    rc = ss_bpe_push(w, t->byte_token[(unsigned char)s[i + k]], (uint32_t)(i + k),
                                     1, err);
            } else if (t->unk_id >= 0) {
                if (unk_start >= 0 && t->fuse_unk) {
                    unk_len += (int32_t)l;
                } else {
                    if (unk_start >= 0)
                        rc = ss_bpe_push(w, t->unk_id, (uint32_t)unk_start, (uint32_t)unk_len,
                                         err);
                    unk_start = (int32_t)i;
                    unk_len = (int32_t)l;
                }
            }
        }
        i += l;
    }
    if (!rc && unk_start >= 0)
        rc = ss_bpe_push(w, t->unk_id, (uint32_t)unk_start, (uint32_t)unk_len, err);
    if (!rc)
        rc = ss_bpe_run(w, t, SS_MERGE_RANK, s, err);
    for (int32_t i = w->n_sym ? 0 : -1; i >= 0 && !rc; i = w->sym[i].next)
        rc = ss_ids_push(out, w->sym[i].id, err);
    return rc;
}
