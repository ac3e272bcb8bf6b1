/* Detokenize against references that do not come from our decoder:
 *  - the ids of llama.cpp's shipped vectors (.out, produced by Hugging Face
 *    AutoTokenizer) decode to their .inp text, for llama-spm and gpt-2 from
 *    the vocab-only GGUF and the tokenizer.json (and SmolLM2's vectors);
 *  - decode(encode(text)) == text for every vector string and every
 *    tokenizer format, where the tokenizer is lossless (all of these are:
 *    byte-level BPE by construction, the SentencePiece-style ones through
 *    byte fallback), including llama2.c tokenizer.bin files and the
 *    vocabularies inside the models' GGUFs;
 *  - single tokens: byte tokens give their byte, U+2581 a space, byte-level
 *    stand-ins their byte, special tokens their text; an id outside the
 *    vocabulary is an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "io/gguf.h"
#include "tok_vectors.h"
#include "tokenizer/tokenizer.h"

static ss_tokenizer *open_tok(const char *path)
{
    ss_tokenizer *t = NULL;
    ss_error err = {0};
    ss_code rc = ss_tokenizer_open(path, &t, &err);
    CHECK_MSG(rc == SS_OK, "%s: %s", path, err.msg);
    return rc ? NULL : t;
}

static int decodes_to(const ss_tokenizer *t, const int32_t *ids, size_t n, const char *want,
                      size_t want_len, const char *what, int i)
{
    char *text = NULL;
    size_t len = 0;
    ss_error err = {0};
    ss_code rc = ss_tokenizer_decode(t, ids, n, &text, &len, &err);
    int same = rc == SS_OK && len == want_len && memcmp(text, want, len) == 0;
    if (!same)
        fprintf(stderr, "%s: vector %d: want \"%.60s\" (%zu bytes), got \"%.60s\" (%zu) %s\n",
                what, i, want, want_len, rc ? "" : text, len, rc ? err.msg : "");
    free(text);
    return same;
}

/* The vectors' own ids (from HF / llama.cpp) decode to their text. */
static void reference_ids(const char *tok, const char *inp, const char *out)
{
    ss_tokenizer *t = open_tok(tok);
    tok_vectors v;
    CHECK_MSG(tok_vectors_load(inp, out, &v) == 0, "%s: loading vectors", inp);
    if (!t)
        return;
    int good = 0;
    for (int i = 0; i < v.n; i++)
        good += decodes_to(t, v.ids[i], (size_t)v.n_ids[i], v.text[i], v.len[i], tok, i);
    CHECK_MSG(v.n == 46 && good == v.n, "%s: %d of %d reference id lists decode to their text",
              tok, good, v.n);
    tok_vectors_free(&v);
    ss_tokenizer_free(t);
}

/* decode(encode(text)) == text over the 46 vector strings. */
static void round_trip(const char *tok)
{
    ss_tokenizer *t = open_tok(tok);
    tok_vectors v;
    const char *vec = ss_test_path("%s/tokenizers/gpt-2/ggml-vocab-gpt-2.gguf", ss_test_shared());
    CHECK(tok_vectors_load(ss_test_path("%s.inp", vec), ss_test_path("%s.out", vec), &v) == 0);
    if (!t)
        return;
    int good = 0;
    for (int i = 0; i < v.n; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        ss_error err = {0};
        if (ss_tokenizer_encode(t, v.text[i], v.len[i], 0, &ids, &n, &err) == SS_OK)
            good += decodes_to(t, ids, n, v.text[i], v.len[i], tok, i);
        else
            fprintf(stderr, "%s: vector %d: encode: %s\n", tok, i, err.msg);
        free(ids);
    }
    CHECK_MSG(v.n == 46 && good == v.n, "%s: %d of %d strings survive encode + decode", tok, good,
              v.n);
    tok_vectors_free(&v);
    ss_tokenizer_free(t);
}

/* tokenizer file (under shared/tokenizers/DIR) against DIR's vector files */
static void vectors(const char *dir, const char *tok, const char *inp, const char *out)
{
    const char *d = ss_test_path("%s/tokenizers/%s", ss_test_shared(), dir);
    char in_path[4096], out_path[4096];
    snprintf(in_path, sizeof in_path, "%s/%s", d, inp);
    snprintf(out_path, sizeof out_path, "%s/%s", d, out);
    reference_ids(ss_test_path("%s/%s", d, tok), in_path, out_path);
}

static void vectors_gpt2(void)
{
    const char *inp = "ggml-vocab-gpt-2.gguf.inp", *out = "ggml-vocab-gpt-2.gguf.out";
    vectors("gpt-2", "tokenizer.json", inp, out);
    vectors("gpt-2", "ggml-vocab-gpt-2.gguf", inp, out);
}

static void vectors_llama_spm(void)
{
    const char *inp = "ggml-vocab-llama-spm.gguf.inp", *out = "ggml-vocab-llama-spm.gguf.out";
    vectors("llama-spm", "tokenizer.json", inp, out);
    vectors("llama-spm", "ggml-vocab-llama-spm.gguf", inp, out);
}

static void vectors_smollm2(void) { vectors("smollm2", "tokenizer.json", "tests.inp", "tests.out"); }

static void round_trips(void)
{
    const char *s = ss_test_shared();
    round_trip(ss_test_path("%s/tokenizers/gpt-2/tokenizer.json", s));
    round_trip(ss_test_path("%s/tokenizers/gpt-2/ggml-vocab-gpt-2.gguf", s));
    round_trip(ss_test_path("%s/tokenizers/llama-spm/tokenizer.json", s));
    round_trip(ss_test_path("%s/tokenizers/llama-spm/ggml-vocab-llama-spm.gguf", s));
    round_trip(ss_test_path("%s/tokenizers/smollm2/tokenizer.json", s));
    round_trip(ss_test_path("%s/models/stories260K/tok512.bin", s));
    round_trip(ss_test_path("%s/models/stories260K/stories260K.gguf", s));
    round_trip(ss_test_path("%s/models/aidreams260K/tok512.bin", s));
    round_trip(ss_test_path("%s/models/llama2xs_tinystories/model.gguf", s));
}

static void token_text_is(const ss_tokenizer *t, int32_t id, const char *want)
{
    char *text = NULL;
    size_t len = 0;
    ss_error err = {0};
    ss_code rc = ss_tokenizer_token_text(t, id, &text, &len, &err);
    CHECK_MSG(rc == SS_OK && len == strlen(want) && memcmp(text, want, len) == 0,
              "token %d: want \"%s\", got \"%s\" %s", id, want, text ? text : "", err.msg);
    free(text);
}

static void single_tokens(void)
{
    const char *s = ss_test_shared();
    ss_tokenizer *spm = open_tok(ss_test_path("%s/tokenizers/llama-spm/tokenizer.json", s));
    ss_tokenizer *gpt = open_tok(ss_test_path("%s/tokenizers/gpt-2/tokenizer.json", s));
    if (!spm || !gpt)
        return;
    token_text_is(spm, 13, "\n");       /* <0x0A> */
    token_text_is(spm, 29871, " ");     /* "▁" */
    token_text_is(spm, 15043, " Hello"); /* "▁Hello" */
    token_text_is(spm, 1, "<s>");
    token_text_is(gpt, 198, "\n");      /* "Ċ" */
    token_text_is(gpt, 18435, " Hello"); /* "ĠHello" */
    token_text_is(gpt, 50256, "<|endoftext|>");
    int32_t bad[2] = {15496, 50257};
    char *text = NULL;
    size_t len;
    ss_error err = {0};
    CHECK(ss_tokenizer_decode(gpt, bad, 2, &text, &len, &err) == SS_ERR_VALUE);
    CHECK_MSG(strstr(err.msg, "50257") != NULL, "%s", err.msg);
    CHECK(text == NULL);
    /* BOS first: the leading-space strip belongs to the text, not to <s> */
    int32_t ids[3] = {1, 15043, 3186}; /* <s> ▁Hello ▁world */
    CHECK(ss_tokenizer_decode(spm, ids + 1, 2, &text, &len, &err) == SS_OK);
    CHECK_MSG(text && strcmp(text, "Hello world") == 0, "got \"%s\"", text ? text : "");
    free(text);
    ss_tokenizer_free(spm);
    ss_tokenizer_free(gpt);
}

TEST_MAIN(TEST(vectors_gpt2), TEST(vectors_llama_spm), TEST(vectors_smollm2), TEST(round_trips),
          TEST(single_tokens))
