/* Internals shared by the tokenizer files (not part of the public API; the
 * unit tests include it to check the pieces one by one).
 *
 * Every format is turned into the same pipeline:
 *   raw text -> added-token split -> [normalizer] -> pre-tokenizer pieces
 *            -> one "model" run per piece (a merge rule over symbols) -> ids
 * and the formats differ only in which steps and which merge rule they use. */
#ifndef SS_TOKENIZER_TOK_INTERNAL_H
#define SS_TOKENIZER_TOK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/error.h"
#include "tokenizer/tokenizer.h"

/* ---- growable byte buffer and id vector (strbuf.c) ---- */
typedef struct {
    char *p;
    size_t n, cap;
    size_t limit; /* 0, or the most bytes the buffer may hold (SS_ERR_VALUE past it) */
} ss_buf;

ss_code ss_buf_put(ss_buf *b, const void *s, size_t n, ss_error *err);

/* How far a tokenizer's own steps (normalizer, pre-tokenizer) may grow a
 * text of n bytes: SS_TOK_GROWTH times n plus 64 KiB. The largest growth of
 * a real step is about 11x (NFKD of U+FDFA, 3 bytes -> 33); a tokenizer.json
 * whose Sequence of Replace " " -> "    " steps quadruples the text per step
 * would otherwise take every byte of memory (issue 9, item 11). */
#define SS_TOK_GROWTH 64
size_t ss_tok_growth_limit(size_t n);
void ss_buf_free(ss_buf *b);

typedef struct {
    int32_t *p;
    size_t n, cap;
} ss_ids;

ss_code ss_ids_push(ss_ids *v, int32_t id, ss_error *err);

/* A list of text pieces stored back to back in one buffer. flags bit 0:
 * the piece starts at offset 0 of the whole input (Metaspace "first"). */
typedef struct {
    ss_buf text;
    size_t *off, *len;
    uint8_t *flags;
    size_t n, cap;
} ss_pieces;

ss_code ss_pieces_add(ss_pieces *p, const char *s, size_t n, uint8_t flags, ss_error *err);
void ss_pieces_clear(ss_pieces *p);
void ss_pieces_free(ss_pieces *p);
#define SS_PIECE_AT_START 1u

/* UTF-8 helpers (utf8.c). ss_utf8_next: length of the valid UTF-8 sequence
 * at s (1..4) with its code point in *cp, or 1 with *cp = -1 for a byte
 * that does not start a valid sequence (such bytes travel through the
 * pipeline as themselves and end up as byte-fallback tokens). */
int ss_utf8_next(const char *s, size_t n, int32_t *cp);
/* llama.cpp's unicode_len_utf8: length from the lead byte's high nibble
 * alone (1,1,...,2,2,3,4), used where llama.cpp uses it. */
int ss_utf8_lead_len(unsigned char c);
int ss_utf8_encode(int32_t cp, char out[4]);
int ss_is_whitespace(int32_t cp); /* Rust char::is_whitespace */

/* ---- vocabulary and merge tables (vocab.c) ---- */
/* GGUF token types (llama.cpp llama_token_type). */
enum { SS_TOKT_UNDEFINED = 0, SS_TOKT_NORMAL = 1, SS_TOKT_UNKNOWN = 2, SS_TOKT_CONTROL = 3,
       SS_TOKT_USER_DEFINED = 4, SS_TOKT_UNUSED = 5, SS_TOKT_BYTE = 6 };

typedef struct {
    int n;            /* ids are 0..n-1 */
    ss_buf bytes;     /* all pieces, each NUL-terminated */
    size_t *off;      /* piece of id i starts at bytes.p + off[i] */
    uint32_t *len;
    uint8_t *present; /* 1: piece is looked up; 2: kept for display only */
    float *score;     /* SentencePiece / llama2.c scores, or NULL */
    int32_t *slots;   /* open-addressing hash: piece -> id (-1 empty) */
    size_t cap;
} ss_vocab;

ss_code ss_vocab_init(ss_vocab *v, int n, int with_scores, ss_error *err);
/* Stores the piece of id (overwriting). Call ss_vocab_index afterwards.
 * Pieces set with indexed == 0 (HF added tokens outside model.vocab) are
 * shown by ss_tokenizer_piece but never found by the model's lookups. */
ss_code ss_vocab_set(ss_vocab *v, int id, const char *s, size_t len, int indexed, ss_error *err);
/* Builds the lookup table; for duplicate pieces the highest id wins (as
 * llama.cpp's token_to_id map, which is filled in id order). */
ss_code ss_vocab_index(ss_vocab *v, ss_error *err);
int32_t ss_vocab_find(const ss_vocab *v, const char *s, size_t n);
/* Looks up the concatenation a+b without building it. */
int32_t ss_vocab_find2(const ss_vocab *v, const char *a, size_t an, const char *b, size_t bn);
const char *ss_vocab_piece(const ss_vocab *v, int id, size_t *len);
void ss_vocab_free(ss_vocab *v);

/* (left id, right id) -> (rank, merged id). */
typedef struct {
    uint64_t *keys;
    int32_t *rank, *id;
    size_t cap, n;
} ss_merges;

ss_code ss_merges_init(ss_merges *m, size_t expected, ss_error *err);
/* overwrite: a repeated pair takes the later rank (HF's HashMap collect)
 * instead of keeping the first (llama.cpp's emplace). */
ss_code ss_merges_add(ss_merges *m, int32_t a, int32_t b, int32_t rank, int32_t id, int overwrite,
                      ss_error *err);
int ss_merges_get(const ss_merges *m, int32_t a, int32_t b, int32_t *rank, int32_t *id);
void ss_merges_free(ss_merges *m);

/* ---- the merge engine (bpe.c) ---- */
typedef enum {
    SS_MERGE_RANK,        /* BPE: pair of ids -> lowest merge rank first */
    SS_MERGE_SCORE_TEXT,  /* llama.cpp SPM: the joined text is a token -> highest score first */
    SS_MERGE_SCORE_PIECES /* llama2.c run.c: the joined pieces are a token -> highest score */
} ss_merge_rule;

typedef struct {
    int32_t id;          /* token id, or -1 (text not a token) */
    uint32_t start, len; /* span in the text being merged; len 0 = merged away */
    int32_t prev, next;
} ss_sym;

typedef struct {
    double prio; /* lower first */
    int32_t left, right;
    uint32_t size; /* left.len + right.len when queued, to spot stale entries */
    int32_t id;
} ss_pair;

typedef struct {
    ss_sym *sym;
    size_t n_sym, cap_sym;
    ss_pair *heap;
    size_t n_heap, cap_heap;
} ss_bpe_work;

void ss_bpe_reset(ss_bpe_work *w);
/* What every BPE model does before merging a piece: nothing for an empty
 * piece, refuse one too long for the 32-bit offsets, and with ignore_merges
 * emit a piece that is itself a token whole. *done says whether the piece
 * is finished. */
ss_code ss_bpe_whole_piece(const ss_tokenizer *t, const char *s, size_t n, ss_ids *out, int *done,
                           ss_error *err);
ss_code ss_bpe_push(ss_bpe_work *w, int32_t id, uint32_t start, uint32_t len, ss_error *err);
/* Merges until no pair applies; ties go to the leftmost pair. Walk the
 * result from index 0 along .next (symbol 0 is never merged away). */
ss_code ss_bpe_run(ss_bpe_work *w, const ss_tokenizer *t, ss_merge_rule rule, const char *text,
                   ss_error *err);
void ss_bpe_work_free(ss_bpe_work *w);

/* ---- byte-level mapping (byte_level.c) ---- */
/* GPT-2's bytes_to_unicode(): byte b -> the UTF-8 of its stand-in char. */
const char *ss_byte_level_char(unsigned char b, size_t *len);
ss_code ss_byte_level_map(const char *s, size_t n, ss_buf *out, ss_error *err);
/* The inverse: the byte a stand-in code point stands for, or -1. */
int ss_byte_level_byte(int32_t cp);

/* ---- regex (regex.c) ---- */
typedef struct {
    pcre2_code *code;
} ss_regex;

/* Compiles with UTF + UCP and invalid-UTF-8 tolerance; names `what` in errors. */
ss_code ss_regex_compile(ss_regex *re, const char *pattern, size_t len, const char *what,
                         ss_error *err);
/* Next match at or after `from`: 1 with [*ms, *me), 0 for none, <0 on error.
 * md: pcre2_match_data_create(1, NULL) (only the whole match is read). */
int ss_regex_next(const ss_regex *re, pcre2_match_data *md, const char *s, size_t n, size_t from,
                  size_t *ms, size_t *me);
void ss_regex_free(ss_regex *re);

/* ---- splitting (split.c): HF SplitDelimiterBehavior over a piece ---- */
typedef enum {
    SS_SPLIT_REMOVED, SS_SPLIT_ISOLATED, SS_SPLIT_MERGED_PREV, SS_SPLIT_MERGED_NEXT,
    SS_SPLIT_CONTIGUOUS
} ss_split_behavior;

typedef struct {
    size_t start, end;
    int is_match;
} ss_span;

typedef struct {
    ss_span *p;
    size_t n, cap;
} ss_spans;

ss_code ss_spans_add(ss_spans *v, size_t start, size_t end, int is_match, ss_error *err);
/* Applies the behavior (after optional inversion) to spans that cover a
 * piece in order, appending the kept non-empty parts of s to out. */
ss_code ss_split_apply(const ss_spans *m, ss_split_behavior b, int invert, const char *s,
                       uint8_t flags, ss_pieces *out, ss_error *err);

/* ---- normalizer (normalizer.c) ---- */
typedef enum {
    SS_NORM_PREPEND, SS_NORM_REPLACE_STR, SS_NORM_REPLACE_RE, SS_NORM_NFC, SS_NORM_NFD,
    SS_NORM_NFKC, SS_NORM_NFKD, SS_NORM_LOWERCASE, SS_NORM_STRIP, SS_NORM_STRIP_ACCENTS
} ss_norm_kind;

typedef struct {
    ss_norm_kind kind;
    char *a, *b; /* prepend text / pattern, replacement */
    size_t alen, blen;
    ss_regex re;
    int left, right; /* Strip */
} ss_norm_step;

typedef struct {
    ss_norm_step *steps;
    int n;
} ss_normalizer;

ss_code ss_normalize(const ss_normalizer *nz, pcre2_match_data *md, const char *s, size_t n,
                     ss_buf *out, ss_error *err);
void ss_normalizer_free(ss_normalizer *nz);

/* ---- pre-tokenizer (pretok.c) ---- */
typedef enum {
    SS_PRE_SPLIT_RE, SS_PRE_SPLIT_STR, SS_PRE_BYTE_LEVEL, SS_PRE_DIGITS, SS_PRE_METASPACE,
    SS_PRE_WHITESPACE_SPLIT, SS_PRE_PUNCTUATION
} ss_pre_kind;

enum { SS_PREPEND_ALWAYS, SS_PREPEND_FIRST, SS_PREPEND_NEVER };

typedef struct {
    ss_pre_kind kind;
    ss_regex re;            /* SPLIT_RE, and BYTE_LEVEL with use_regex */
    int use_regex;
    char *lit;              /* SPLIT_STR pattern, METASPACE replacement */
    size_t lit_len;
    ss_split_behavior behavior;
    int invert;
    int add_prefix_space;   /* BYTE_LEVEL */
    int individual;         /* DIGITS */
    int prepend, split;     /* METASPACE */
} ss_pre_step;

typedef struct {
    ss_pre_step *steps;
    int n;
} ss_pretok;

/* Splits one text segment into pieces (appended to out). */
ss_code ss_pretokenize(const ss_pretok *pt, pcre2_match_data *md, const char *s, size_t n,
                       uint8_t flags, ss_pieces *out, ss_error *err);
void ss_pretok_free(ss_pretok *pt);
extern const char ss_gpt2_regex[];
/* The steps llama.cpp runs for GGUF tokenizer.ggml.pre = `pre` (byte-level
 * BPE): its regexes in order, each isolating its matches, then ByteLevel;
 * the two flags of that type. `path` names the file in errors. */
ss_code ss_gguf_pretok(const char *pre, const char *path, ss_pretok *pt, int *ignore_merges,
                       int *add_bos, ss_error *err);

/* ---- added tokens (added_tokens.c) ---- */
typedef struct {
    char *content;
    size_t len;
    int32_t id;
    uint8_t lstrip, rstrip, single_word, normalized;
} ss_added_token;

typedef struct {
    ss_added_token *tok;
    int n;
    int by_byte[257]; /* tokens sorted by first byte, longest first: [by_byte[c], by_byte[c+1]) */
    int32_t *order;
} ss_added;

/* Sorts and indexes after the tokens are filled in. */
ss_code ss_added_index(ss_added *a, ss_error *err);
/* Splits s around added tokens with normalized == which (leftmost-longest,
 * with HF's single_word/lstrip/rstrip rules): spans with id -1 are text. */
typedef struct {
    size_t start, len;
    int32_t id;
} ss_segment;

typedef struct {
    ss_segment *p;
    size_t n, cap;
} ss_segments;

ss_code ss_added_split(const ss_added *a, int which, const char *s, size_t n, ss_segments *out,
                       ss_error *err);
void ss_added_free(ss_added *a);

/* ---- the tokenizer ---- */
typedef enum {
    SS_TOK_HF_BPE,   /* tokenizer.json, model BPE, Hugging Face semantics */
    SS_TOK_GGUF_BPE, /* GGUF "gpt2": llama.cpp llm_tokenizer_bpe */
    SS_TOK_GGUF_SPM, /* GGUF "llama": llama.cpp llm_tokenizer_spm */
    SS_TOK_LLAMA2C   /* tokenizer.bin: llama2.c run.c encode() */
} ss_tok_kind;

struct ss_tokenizer {
    ss_tok_kind kind;
    char *name; /* the file it came from (messages), or NULL */
    ss_vocab vocab;
    ss_merges merges;
    int n_vocab; /* reported vocabulary size (max id + 1) */
    int32_t unk_id, bos_id, eos_id;
    int adds_bos;
    int byte_fallback, fuse_unk, ignore_merges;
    int add_space_prefix;     /* GGUF SPM */
    int32_t byte_token[256];  /* <0xXX> token per byte, -1 if absent */
    ss_added added;
    ss_normalizer norm;
    ss_pretok pretok;
    /* decoding of tokenizer.json files, from their "decoder" (decode.c
     * knows the other formats by their kind) */
    uint8_t dec_byte_level;  /* pieces are in GPT-2's byte-level alphabet */
    uint8_t dec_metaspace;   /* U+2581 stands for a space */
    uint8_t dec_strip_lead;  /* leading spaces the encoder added, removed once */
};

ss_tokenizer *ss_tokenizer_alloc(ss_error *err);
void ss_tokenizer_find_byte_tokens(ss_tokenizer *t);

/* Model runs over one piece, appending ids (model_hf.c, model_llamacpp.c,
 * llama2c_vocab.c). */
ss_code ss_model_hf_bpe(const ss_tokenizer *t, const char *s, size_t n, ss_bpe_work *w,
                        ss_ids *out, ss_error *err);
ss_code ss_model_llamacpp_bpe(const ss_tokenizer *t, const char *s, size_t n, ss_bpe_work *w,
                              ss_ids *out, ss_error *err);
ss_code ss_model_llamacpp_spm(const ss_tokenizer *t, const char *s, size_t n, ss_bpe_work *w,
                              ss_ids *out, ss_error *err);
ss_code ss_model_llama2c(const ss_tokenizer *t, const char *s, size_t n, ss_bpe_work *w,
                         ss_ids *out, ss_error *err);

#endif
