/* Reproduces, id for id, llama.cpp's shipped tokenizer vectors (produced by
 * Hugging Face AutoTokenizer, verified with llama-tokenize; see
 * shared/README.md) for llama-spm and gpt-2 from both the vocab-only GGUF
 * and the equivalent tokenizer.json, and the SmolLM2 consistency vectors
 * from its tokenizer.json. No special tokens are added (add_bos = 0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "io/gguf.h"
#include "tok_vectors.h"
#include "tokenizer/tokenizer.h"

static void check_vectors(const ss_tokenizer *t, const char *what, const char *inp,
                          const char *out)
{
    tok_vectors v;
    CHECK_MSG(tok_vectors_load(inp, out, &v) == 0, "%s: loading vectors", what);
    CHECK_MSG(v.n == 46, "%s: %d vectors, expected 46", what, v.n);
    int good = 0;
    for (int i = 0; i < v.n; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        ss_error err = {0};
        ss_code rc = ss_tokenizer_encode(t, v.text[i], v.len[i], 0, &ids, &n, &err);
        int same = rc == SS_OK && n == (size_t)v.n_ids[i] &&
                   (n == 0 || memcmp(ids, v.ids[i], n * sizeof *ids) == 0);
        good += same;
        if (!same) {
            fprintf(stderr, "%s: vector %d \"%.60s\": %s\n  got     ", what, i, v.text[i],
                    rc ? err.msg : "");
            for (size_t k = 0; k < n; k++)
                fprintf(stderr, " %d", ids[k]);
            fprintf(stderr, "\n  expected");
            for (int k = 0; k < v.n_ids[i]; k++)
                fprintf(stderr, " %d", v.ids[i][k]);
            fprintf(stderr, "\n");
        }
        free(ids);
    }
    CHECK_MSG(good == v.n, "%s: %d of %d vectors match", what, good, v.n);
    tok_vectors_free(&v);
}

static void from_json(const char *name, const char *inp, const char *out)
{
    ss_tokenizer *t = NULL;
    ss_error err = {0};
    const char *path = ss_test_path("%s/tokenizers/%s/tokenizer.json", ss_test_shared(), name);
    clock_t t0 = clock();
    ss_code rc = ss_tokenizer_from_hf_json(path, &t, &err);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK_MSG(rc == SS_OK, "%s", err.msg);
    if (rc)
        return;
    /* construction must stay fast: hash tables, not scans (48900 merges) */
    CHECK_MSG(secs < 2.0, "%s took %.2f s to load", path, secs);
    check_vectors(t, path, ss_test_path("%s/tokenizers/%s/%s", ss_test_shared(), name, inp),
                  ss_test_path("%s/tokenizers/%s/%s", ss_test_shared(), name, out));
    ss_tokenizer_free(t);
}

static void from_gguf(const char *name)
{
    const char *path = ss_test_path("%s/tokenizers/%s/ggml-vocab-%s.gguf", ss_test_shared(), name,
                                    name);
    ss_gguf g;
    memset(&g, 0, sizeof g);
    ss_error err = {0};
    ss_code rc = ss_gguf_load(path, &g, &err);
    CHECK_MSG(rc == SS_OK, "%s", err.msg);
    ss_tokenizer *t = NULL;
    if (!rc) {
        rc = ss_tokenizer_from_gguf(&g, &t, &err);
        CHECK_MSG(rc == SS_OK, "%s", err.msg);
    }
    if (!rc)
        check_vectors(t, path, ss_test_path("%s.inp", path), ss_test_path("%s.out", path));
    ss_tokenizer_free(t);
    ss_gguf_free(&g);
}

static void llama_spm_json(void) { from_json("llama-spm", "ggml-vocab-llama-spm.gguf.inp", "ggml-vocab-llama-spm.gguf.out"); }
static void gpt2_json(void) { from_json("gpt-2", "ggml-vocab-gpt-2.gguf.inp", "ggml-vocab-gpt-2.gguf.out"); }
static void smollm2_json(void) { from_json("smollm2", "tests.inp", "tests.out"); }
static void llama_spm_gguf(void) { from_gguf("llama-spm"); }
static void gpt2_gguf(void) { from_gguf("gpt-2"); }

/* The metadata the CLI relies on for its default BOS. */
static void special_tokens(void)
{
    ss_tokenizer *t = NULL;
    ss_error err = {0};
    CHECK(ss_tokenizer_open(ss_test_path("%s/tokenizers/llama-spm/tokenizer.json",
                                         ss_test_shared()), &t, &err) == SS_OK);
    if (t) { /* TemplateProcessing single = [<s>, A] */
        CHECK(ss_tokenizer_bos(t) == 1 && ss_tokenizer_eos(t) == 2 && ss_tokenizer_adds_bos(t));
        CHECK(ss_tokenizer_vocab_size(t) == 32000);
        CHECK(strcmp(ss_tokenizer_piece(t, 15043), "\xe2\x96\x81Hello") == 0);
    }
    ss_tokenizer_free(t);
    t = NULL;
    CHECK(ss_tokenizer_open(ss_test_path("%s/tokenizers/llama-spm/ggml-vocab-llama-spm.gguf",
                                         ss_test_shared()), &t, &err) == SS_OK);
    if (t) /* tokenizer.ggml.add_bos_token = true */
        CHECK(ss_tokenizer_bos(t) == 1 && ss_tokenizer_eos(t) == 2 && ss_tokenizer_adds_bos(t));
    ss_tokenizer_free(t);
    t = NULL;
    CHECK(ss_tokenizer_open(ss_test_path("%s/tokenizers/gpt-2/ggml-vocab-gpt-2.gguf",
                                         ss_test_shared()), &t, &err) == SS_OK);
    if (t) /* gpt2 vocabularies do not add BOS unless the file says so */
        CHECK(ss_tokenizer_bos(t) == 50256 && !ss_tokenizer_adds_bos(t) &&
              ss_tokenizer_vocab_size(t) == 50257);
    ss_tokenizer_free(t);
    t = NULL;
    CHECK(ss_tokenizer_open(ss_test_path("%s/tokenizers/smollm2", ss_test_shared()), &t,
                            &err) == SS_OK);
    if (t) /* no post-processor: nothing added; <|endoftext|> is the BOS for --bos */
        CHECK(!ss_tokenizer_adds_bos(t) && ss_tokenizer_vocab_size(t) == 49152 &&
              ss_tokenizer_bos(t) == 0 && ss_tokenizer_eos(t) == 0);
    ss_tokenizer_free(t);
    CHECK_MSG(err.code == SS_OK, "%s", err.msg);
}

/* HF matches added tokens in the text (split_special_tokens = false):
 * "<|im_start|>" in SmolLM2 text is id 1, not its characters. llama.cpp
 * (without --parse-special) matches only user-defined tokens, so the GGUF
 * gpt-2 vocabulary spells "<|endoftext|>" out. */
static void added_tokens_in_text(void)
{
    ss_tokenizer *t = NULL;
    ss_error err = {0};
    int32_t *ids = NULL;
    size_t n = 0;
    const char *s = "<|im_start|>user";
    CHECK(ss_tokenizer_open(ss_test_path("%s/tokenizers/smollm2/tokenizer.json",
                                         ss_test_shared()), &t, &err) == SS_OK);
    if (t && ss_tokenizer_encode(t, s, strlen(s), 0, &ids, &n, &err) == SS_OK) {
        CHECK(n >= 2 && ids[0] == 1);
        free(ids);
    }
    ss_tokenizer_free(t);
    t = NULL;
    s = "a<|endoftext|>";
    CHECK(ss_tokenizer_open(ss_test_path("%s/tokenizers/gpt-2/tokenizer.json", ss_test_shared()),
                            &t, &err) == SS_OK);
    if (t && ss_tokenizer_encode(t, s, strlen(s), 0, &ids, &n, &err) == SS_OK) {
        CHECK(n == 2 && ids[0] == 64 && ids[1] == 50256);
        free(ids);
    }
    ss_tokenizer_free(t);
    t = NULL;
    CHECK(ss_tokenizer_open(ss_test_path("%s/tokenizers/gpt-2/ggml-vocab-gpt-2.gguf",
                                         ss_test_shared()), &t, &err) == SS_OK);
    if (t && ss_tokenizer_encode(t, s, strlen(s), 0, &ids, &n, &err) == SS_OK) {
        CHECK(n > 2 && ids[0] == 64);
        for (size_t i = 0; i < n; i++)
            CHECK(ids[i] != 50256);
        free(ids);
    }
    ss_tokenizer_free(t);
    CHECK_MSG(err.code == SS_OK, "%s", err.msg);
}

TEST_MAIN(TEST(llama_spm_json), TEST(gpt2_json), TEST(smollm2_json), TEST(llama_spm_gguf),
          TEST(gpt2_gguf), TEST(special_tokens), TEST(added_tokens_in_text))
