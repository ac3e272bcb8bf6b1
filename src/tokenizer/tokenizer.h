/* Text -> token ids, for every vocabulary format slashscope reads:
 *  - Hugging Face tokenizer.json: byte-level BPE (GPT-2, Llama-3, Qwen2,
 *    SmolLM2; pre-tokenizer regex via PCRE2) and SentencePiece-style BPE
 *    with byte fallback (Llama-2, Mistral, Gemma);
 *  - the vocabulary embedded in a GGUF (tokenizer.ggml.model "llama" or "gpt2");
 *  - llama2.c tokenizer.bin.
 * Encoding adds no special tokens unless asked (add_bos). */
#ifndef SS_TOKENIZER_TOKENIZER_H
#define SS_TOKENIZER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "io/gguf.h"

typedef struct ss_tokenizer ss_tokenizer;

ss_code ss_tokenizer_from_hf_json(const char *path, ss_tokenizer **out, ss_error *err);
/* The same from memory (the fuzzer); name labels messages. */
ss_code ss_tokenizer_from_hf_json_bytes(const char *name, const char *bytes, size_t n,
                                        ss_tokenizer **out, ss_error *err);
ss_code ss_tokenizer_from_gguf(const ss_gguf *g, ss_tokenizer **out, ss_error *err);
/* vocab_size comes from the model header (tokenizer.bin does not store it);
 * 0 reads tokens up to the end of the file. */
ss_code ss_tokenizer_from_llama2c(const char *path, int vocab_size, ss_tokenizer **out,
                                  ss_error *err);
ss_code ss_tokenizer_from_llama2c_bytes(const char *path, const void *bytes, size_t n,
                                        int vocab_size, ss_tokenizer **out, ss_error *err);
/* Finds the tokenizer for what path names: a tokenizer.json (or any .json
 * tokenizer file; a config.json means its folder), a folder holding
 * tokenizer.json, a GGUF (its embedded vocabulary; vocab-only GGUFs too), a
 * llama2.c tokenizer.bin, or a llama2.c checkpoint (then tokenizer.bin, else
 * the single tok*.bin, beside it). Errors say what was looked for. */
ss_code ss_tokenizer_open(const char *path, ss_tokenizer **out, ss_error *err);
void ss_tokenizer_free(ss_tokenizer *t);

/* Encodes len bytes of UTF-8 text (bytes that are not valid UTF-8 become
 * byte tokens, never an error). *ids is malloc'd (also when *n_ids is 0).
 * With add_bos the tokenizer's BOS id is put first (error if it has none).
 * Reentrant: one tokenizer may encode from several threads. */
ss_code ss_tokenizer_encode(const ss_tokenizer *t, const char *text, size_t len, int add_bos,
                            int32_t **ids, size_t *n_ids, ss_error *err);

/* Token ids -> the text they stand for (the inverse of encode where the
 * tokenizer is lossless): byte-level pieces back to bytes, U+2581 to a
 * space, <0xXX> byte tokens to their byte, the space the encoder prepended
 * removed; special tokens appear as their text. *text is malloc'd and
 * NUL-terminated; it can be invalid UTF-8 when the ids cut a character.
 * An id outside the vocabulary is an SS_ERR_VALUE. */
ss_code ss_tokenizer_decode(const ss_tokenizer *t, const int32_t *ids, size_t n, char **text,
                            size_t *len, ss_error *err);
/* One token's text as decode renders it (without the leading-space strip). */
ss_code ss_tokenizer_token_text(const ss_tokenizer *t, int32_t id, char **text, size_t *len,
                                ss_error *err);

int ss_tokenizer_vocab_size(const ss_tokenizer *t);
int ss_tokenizer_bos(const ss_tokenizer *t); /* -1 if none */
int ss_tokenizer_eos(const ss_tokenizer *t); /* -1 if none */
/* Whether this tokenizer's model adds BOS by default (GGUF
 * tokenizer.ggml.add_bos_token, HF post-processor / Llama-2 style; llama2.c
 * always). */
int ss_tokenizer_adds_bos(const ss_tokenizer *t);
/* The stored piece of a token (for display), or NULL when out of range. */
const char *ss_tokenizer_piece(const ss_tokenizer *t, int id);

#endif
