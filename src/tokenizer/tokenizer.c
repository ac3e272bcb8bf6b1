/* The encode pipeline shared by all formats, and the accessors.
 *   1. added tokens are cut out of the raw text (HF: those with
 *      normalized == false; GGUF: user-defined tokens);
 *   2. each text segment goes to the format's path:
 *      HF    normalizer -> added tokens with normalized == true ->
 *            pre-tokenizer -> BPE per piece;
 *      gpt2  llama.cpp regex pre-tokenizer + byte-level -> BPE per word;
 *      llama " " prefix at the start and after a special token, spaces to
 *            U+2581, SentencePiece-score merges (llama.cpp);
 *      llama2.c run.c encode() on the whole text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "tokenizer/tok_internal.h"

ss_tokenizer *ss_tokenizer_alloc(ss_error *err)
{
    ss_tokenizer *t = ss_calloc(1, sizeof *t, "tokenizer", err);
    if (!t)
        return NULL;
    t->unk_id = t->bos_id = t->eos_id = -1;
    for (int b = 0; b < 256; b++)
        t->byte_token[b] = -1;
    return t;
}

void ss_tokenizer_find_byte_tokens(ss_tokenizer *t)
{
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->byte_token[b] = ss_vocab_find(&t->vocab, name, 6);
    }
}

void ss_tokenizer_free(ss_tokenizer *t)
{
    if (!t)
        return;
    ss_vocab_free(&t->vocab);
    ss_merges_free(&t->merges);
    ss_added_free(&t->added);
    ss_normalizer_free(&t->norm);
    ss_pretok_free(&t->pretok);
    free(t->name);
    free(t);
}

typedef struct {
    pcre2_match_data *md;
    ss_segments seg2;
    ss_buf text;
    ss_pieces pieces;
    ss_bpe_work work;
} encode_work;

static ss_code run_pieces(const ss_tokenizer *t, encode_work *w, const char *s, size_t n,
                          uint8_t flags, ss_ids *out, ss_error *err)
{
    ss_pieces_clear(&w->pieces);
    ss_code rc = ss_pretokenize(&t->pretok, w->md, s, n, flags, &w->pieces, err);
    for (size_t i = 0; i < w->pieces.n && !rc; i++) {
        const char *p = w->pieces.text.p + w->pieces.off[i];
        rc = t->kind == SS_TOK_HF_BPE
                 ? ss_model_hf_bpe(t, p, w->pieces.len[i], &w->work, out, err)
                 : ss_model_llamacpp_bpe(t, p, w->pieces.len[i], &w->work, out, err);
    }
    return rc;
}

static ss_code hf_segment(const ss_tokenizer *t, encode_work *w, const char *s, size_t n,
                          int at_start, ss_ids *out, ss_error *err)
{
    ss_code rc = ss_normalize(&t->norm, w->md, s, n, &w->text, err);
    if (!rc)
        rc = ss_added_split(&t->added, 1, w->text.p, w->text.n, &w->seg2, err);
    for (size_t i = 0; i < w->seg2.n && !rc; i++) {
        const ss_segment *g = &w->seg2.p[i];
        if (g->id >= 0)
            rc = ss_ids_push(out, g->id, err);
        else
            rc = run_pieces(t, w, w->text.p + g->start, g->len,
                            at_start && g->start == 0 ? SS_PIECE_AT_START : 0, out, err);
    }
    if (rc && t->name) /* the steps come from that file: name it */
        ss_error_prefix(err, "%s", t->name);
    return rc;
}

static ss_code spm_segment(const ss_tokenizer *t, encode_work *w, const char *s, size_t n,
                           int prev_special, ss_ids *out, ss_error *err)
{
    static const char space[] = "\xe2\x96\x81"; /* U+2581 */
    w->text.n = 0;
    ss_code rc = ss_buf_put(&w->text, "", 0, err);
    if (!rc && t->add_space_prefix && prev_special)
        rc = ss_buf_put(&w->text, space, 3, err);
    for (size_t i = 0; i < n && !rc; i++)
        rc = s[i] == ' ' ? ss_buf_put(&w->text, space, 3, err) : ss_buf_put(&w->text, s + i, 1, err);
    return rc ? rc : ss_model_llamacpp_spm(t, w->text.p, w->text.n, &w->work, out, err);
}

ss_code ss_tokenizer_encode(const ss_tokenizer *t, const char *text, size_t len, int add_bos,
                            int32_t **ids, size_t *n_ids, ss_error *err)
{
    *ids = NULL;
    *n_ids = 0;
    if (!text && len)
        return ss_fail(err, SS_ERR_USAGE, "tokenize: no text");
    ss_ids out = {0};
    ss_segments seg = {0};
    encode_work w = {0};
    ss_code rc = SS_OK;
    if (add_bos) {
        if (t->bos_id < 0)
            return ss_fail(err, SS_ERR_MISSING,
                           "this tokenizer has no BOS token (encode without BOS)");
        rc = ss_ids_push(&out, t->bos_id, err);
    }
    w.md = pcre2_match_data_create(1, NULL);
    if (!w.md)
        rc = ss_fail(err, SS_ERR_NOMEM, "tokenize: out of memory for regex match data");
    if (!rc)
        rc = ss_added_split(&t->added, 0, text, len, &seg, err);
    int prev_special = 1;
    for (size_t i = 0; i < seg.n && !rc; i++) {
        const ss_segment *g = &seg.p[i];
        if (g->id >= 0) {
            rc = ss_ids_push(&out, g->id, err);
            prev_special = 1;
            continue;
        }
        const char *s = text + g->start;
        switch (t->kind) {
        case SS_TOK_HF_BPE:
            rc = hf_segment(t, &w, s, g->len, g->start == 0, &out, err);
            break;
        case SS_TOK_GGUF_BPE:
            rc = run_pieces(t, &w, s, g->len, 0, &out, err);
            break;
        case SS_TOK_GGUF_SPM:
            rc = spm_segment(t, &w, s, g->len, prev_special, &out, err);
            break;
        case SS_TOK_LLAMA2C:
            rc = ss_model_llama2c(t, s, g->len, &w.work, &out, err);
            break;
        }
        prev_special = 0;
    }
    if (w.md)
        pcre2_match_data_free(w.md);
    free(seg.p);
    free(w.seg2.p);
    ss_buf_free(&w.text);
    ss_pieces_free(&w.pieces);
    ss_bpe_work_free(&w.work);
    if (rc) {
        free(out.p);
        return rc;
    }
    if (!out.p) { /* empty result: still hand back a freeable pointer */
        out.p = malloc(sizeof *out.p);
        if (!out.p)
            return ss_fail(err, SS_ERR_NOMEM, "tokenize: out of memory");
    }
    *ids = out.p;
    *n_ids = out.n;
    return SS_OK;
}

int ss_tokenizer_vocab_size(const ss_tokenizer *t) { return t->n_vocab; }
int ss_tokenizer_bos(const ss_tokenizer *t) { return t->bos_id; }
int ss_tokenizer_eos(const ss_tokenizer *t) { return t->eos_id; }
int ss_tokenizer_adds_bos(const ss_tokenizer *t) { return t->adds_bos; }

const char *ss_tokenizer_piece(const ss_tokenizer *t, int id)
{
    return ss_vocab_piece(&t->vocab, id, NULL);
}
