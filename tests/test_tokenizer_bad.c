/* Bad input: malformed or unsupported tokenizer files give one clear
 * message naming the file and what is wrong; invalid UTF-8 text never
 * crashes and reaches the model as byte tokens; ss_tokenizer_open explains
 * what it looked for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tokenizer/tokenizer.h"

static const char *tmp_file(const char *name, const void *data, size_t n)
{
    const char *dir = ss_test_path("%s/tokenizer_bad", ss_test_tmp());
    ss_test_sh("mkdir -p '%s'", dir);
    const char *p = ss_test_path("%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(data, 1, n, f) == n);
        fclose(f);
    }
    return p;
}

/* Opening must fail with code and a message containing every needle. */
static void expect_error(const char *path, ss_code code, const char *n1, const char *n2)
{
    ss_tokenizer *t = NULL;
    ss_error err = {0};
    ss_code rc = ss_tokenizer_open(path, &t, &err);
    CHECK_MSG(rc == code, "%s: code %s, want %s (%s)", path, ss_code_name(rc), ss_code_name(code),
              err.msg);
    CHECK_MSG(t == NULL, "%s: tokenizer returned with an error", path);
    CHECK_MSG(strstr(err.msg, n1) != NULL, "message '%s' lacks '%s'", err.msg, n1);
    CHECK_MSG(!n2 || strstr(err.msg, n2) != NULL, "message '%s' lacks '%s'", err.msg, n2);
    ss_tokenizer_free(t);
}

static void expect_json_error(const char *name, const char *json, ss_code code, const char *n1,
                              const char *n2)
{
    const char *p = tmp_file(name, json, strlen(json));
    expect_error(p, code, p, n1); /* the path is always named */
    if (n2)
        expect_error(p, code, n2, NULL);
}

static void malformed_json(void)
{
    expect_json_error("trunc.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0",
                      SS_ERR_FORMAT, "malformed JSON at byte offset", NULL);
    expect_json_error("nomodel.json", "{\"version\": \"1.0\"}", SS_ERR_FORMAT,
                      "no \"model\" object", NULL);
    expect_json_error("vocab.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": [\"a\"]}}",
                      SS_ERR_FORMAT, "model.vocab", NULL);
    expect_json_error("id.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -3}}}",
                      SS_ERR_FORMAT, "model.vocab[\"a\"]", "integer id");
    expect_json_error("sparse.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": "
                      "5000000}, \"merges\": []}}", SS_ERR_FORMAT, "ids go up to 5000000", NULL);
    expect_json_error("merge.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, "
                      "\"merges\": [\"a b\"]}}", SS_ERR_FORMAT, "model.merges[0]",
                      "\"b\" is not in model.vocab");
    expect_json_error("merge2.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, "
                      "\"merges\": [\"a a\"]}}", SS_ERR_FORMAT, "merged piece \"aa\"", NULL);
    expect_json_error("merge3.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, "
                      "\"merges\": [\"aa\"]}}", SS_ERR_FORMAT, "model.merges[0]",
                      "expected \"A B\"");
    expect_json_error("regex.json", "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": "
                      "{\"Regex\": \"(a\"}, \"behavior\": \"Isolated\"}, \"model\": {\"type\": "
                      "\"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", SS_ERR_FORMAT,
                      "does not compile", NULL);
    expect_json_error("behavior.json", "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": "
                      "{\"String\": \"a\"}, \"behavior\": \"Sideways\"}, \"model\": {\"type\": "
                      "\"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", SS_ERR_FORMAT,
                      "Sideways", NULL);
    expect_json_error("unk.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, "
                      "\"merges\": [], \"unk_token\": \"<unk>\"}}", SS_ERR_FORMAT,
                      "unk_token \"<unk>\"", NULL);
    expect_json_error("added.json", "{\"added_tokens\": [{\"content\": \"x\"}], \"model\": "
                      "{\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
                      SS_ERR_FORMAT, "added_tokens", NULL);
    expect_json_error("bool.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, "
                      "\"merges\": [], \"byte_fallback\": \"yes\"}}", SS_ERR_FORMAT,
                      "byte_fallback", NULL);
}

static void unsupported(void)
{
    expect_json_error("wp.json", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}",
                      SS_ERR_UNSUPPORTED, "model.type \"WordPiece\"", NULL);
    expect_json_error("uni.json", "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}",
                      SS_ERR_UNSUPPORTED, "\"Unigram\" is not supported", NULL);
    expect_json_error("pre.json", "{\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}, "
                      "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
                      SS_ERR_UNSUPPORTED, "pre_tokenizer type \"BertPreTokenizer\"", NULL);
    expect_json_error("norm.json", "{\"normalizer\": {\"type\": \"Precompiled\"}, "
                      "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
                      SS_ERR_UNSUPPORTED, "normalizer type \"Precompiled\"", NULL);
    expect_json_error("prefix.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, "
                      "\"merges\": [], \"continuing_subword_prefix\": \"##\"}}",
                      SS_ERR_UNSUPPORTED, "continuing_subword_prefix", NULL);
}

/* Minimal GGUF v3 with one string key (or none). */
static size_t gguf_with_model(unsigned char *b, const char *model)
{
    size_t n = 0;
    memcpy(b, "GGUF", 4), n = 4;
    uint32_t v = 3;
    memcpy(b + n, &v, 4), n += 4;
    uint64_t zero = 0, one = model ? 1 : 0;
    memcpy(b + n, &zero, 8), n += 8; /* tensors */
    memcpy(b + n, &one, 8), n += 8;  /* kvs */
    if (model) {
        const char *key = "tokenizer.ggml.model";
        uint64_t kl = strlen(key), ml = strlen(model);
        uint32_t type = 8; /* string */
        memcpy(b + n, &kl, 8), n += 8;
        memcpy(b + n, key, kl), n += kl;
        memcpy(b + n, &type, 4), n += 4;
        memcpy(b + n, &ml, 8), n += 8;
        memcpy(b + n, model, ml), n += ml;
    }
    return n;
}

static void bad_gguf(void)
{
    unsigned char b[256];
    size_t n = gguf_with_model(b, NULL);
    expect_error(tmp_file("novocab.gguf", b, n), SS_ERR_MISSING, "no vocabulary",
                 "tokenizer.ggml.model");
    n = gguf_with_model(b, "bert");
    expect_error(tmp_file("bert.gguf", b, n), SS_ERR_UNSUPPORTED, "'bert' is not supported",
                 NULL);
    n = gguf_with_model(b, "llama");
    expect_error(tmp_file("notokens.gguf", b, n), SS_ERR_MISSING, "tokenizer.ggml.tokens", NULL);
}

static void truncated_tokenizer_bin(void)
{
    const char *src = ss_test_path("%s/models/stories260K/tok512.bin", ss_test_shared());
    FILE *f = fopen(src, "rb");
    static unsigned char b[8192];
    size_t n = f ? fread(b, 1, sizeof b, f) : 0;
    if (f)
        fclose(f);
    CHECK(n == 6227);
    /* cut inside token 214's record and inside a piece's bytes */
    const char *p = tmp_file("tok_cut.bin", b, 3000);
    expect_error(p, SS_ERR_FORMAT, "truncated llama2.c tokenizer", "tokenizer_bad/tok_cut.bin");
    ss_tokenizer *t = NULL;
    ss_error err = {0};
    p = tmp_file("tok_cut2.bin", b, 3003);
    CHECK(ss_tokenizer_from_llama2c(p, 512, &t, &err) == SS_ERR_FORMAT && !t);
    CHECK_MSG(strstr(err.msg, "truncated") && strstr(err.msg, "token 214"), "%s", err.msg);
    /* the whole file but a vocabulary larger than it */
    ss_error_clear(&err);
    CHECK(ss_tokenizer_from_llama2c(src, 600, &t, &err) == SS_ERR_FORMAT && !t);
    CHECK_MSG(strstr(err.msg, "token 512"), "%s", err.msg);
    /* a piece longer than max_token_length */
    b[4 + 4] = 100;
    p = tmp_file("tok_len.bin", b, n);
    expect_error(p, SS_ERR_FORMAT, "token 0 has length 100", NULL);
    expect_error(tmp_file("tok_empty.bin", b, 0), SS_ERR_FORMAT, "truncated", NULL);
}

static void open_paths(void)
{
    const char *sh = ss_test_shared();
    expect_error(ss_test_path("%s/fixtures/qwen2/hf", sh), SS_ERR_MISSING,
                 "without tokenizer.json", "qwen2/hf/tokenizer.json");
    expect_error(ss_test_path("%s/fixtures/qwen2/hf/config.json", sh), SS_ERR_MISSING,
                 "without tokenizer.json", NULL);
    expect_error(ss_test_path("%s/models/llama2xs_tinystories/model.bin", sh), SS_ERR_MISSING,
                 "tokenizer.bin", "tok*.bin");
    expect_error(ss_test_path("%s/no/such/file", sh), SS_ERR_IO, "no/such/file", NULL);
    const char junk[] = "this is neither a tokenizer nor a model, just text...............";
    expect_error(tmp_file("junk.bin", junk, sizeof junk), SS_ERR_FORMAT,
                 "not a tokenizer.json, GGUF, llama2.c tokenizer.bin or llama2.c checkpoint",
                 NULL);
    /* the good ones */
    const char *ok[] = {"models/stories260K/stories260K.bin", "models/stories260K",
                        "models/aidreams260K/aidreams260K.bin",
                        "models/stories260K/stories260K.gguf", "tokenizers/smollm2",
                        "tokenizers/gpt-2/ggml-vocab-gpt-2.gguf"};
    const int vocab[] = {512, -1, 512, 512, 49152, 50257};
    for (int i = 0; i < 6; i++) {
        ss_tokenizer *t = NULL;
        ss_error err = {0};
        ss_code rc = ss_tokenizer_open(ss_test_path("%s/%s", sh, ok[i]), &t, &err);
        if (vocab[i] < 0) { /* a llama2.c folder is not a Hugging Face folder */
            CHECK_MSG(rc == SS_ERR_MISSING && strstr(err.msg, "tokenizer.json"), "%s", err.msg);
        } else {
            CHECK_MSG(rc == SS_OK && ss_tokenizer_vocab_size(t) == vocab[i], "%s: %s", ok[i],
                      err.msg);
        }
        ss_tokenizer_free(t);
    }
}

/* Invalid UTF-8 in every kind of tokenizer: no crash, every byte kept. */
static void invalid_utf8(void)
{
    const char *sh = ss_test_shared();
    const char text[] = "\xff" "a\xc3(\x80\x80\x80\x80\x80\xc0\xaf\xed\xa0\x80 z\xf4\x90\x80\x80"
                        "\xe2\x82";
    const size_t len = sizeof text - 1;
    const char *paths[] = {"tokenizers/llama-spm/tokenizer.json",
                           "tokenizers/llama-spm/ggml-vocab-llama-spm.gguf",
                           "tokenizers/gpt-2/tokenizer.json",
                           "tokenizers/gpt-2/ggml-vocab-gpt-2.gguf",
                           "tokenizers/smollm2/tokenizer.json",
                           "models/stories260K/tok512.bin"};
    for (int i = 0; i < 6; i++) {
        ss_tokenizer *t = NULL;
        ss_error err = {0};
        CHECK_MSG(ss_tokenizer_open(ss_test_path("%s/%s", sh, paths[i]), &t, &err) == SS_OK,
                  "%s", err.msg);
        if (!t)
            continue;
        int32_t *ids = NULL;
        size_t n = 0;
        ss_code rc = ss_tokenizer_encode(t, text, len, 0, &ids, &n, &err);
        CHECK_MSG(rc == SS_OK && n >= 8, "%s: %s (%zu ids)", paths[i], err.msg, n);
        for (size_t k = 0; k < n; k++)
            CHECK(ids[k] >= 0 && ids[k] < ss_tokenizer_vocab_size(t));
        free(ids);
        /* a lone 0xFF: SentencePiece-style vocabularies give U+2581 (29871)
         * then <0xFF> (3 + 255); llama2.c gives " " then 0xFF + 3 */
        if (i < 2 || i == 5) {
            CHECK(ss_tokenizer_encode(t, "\xff", 1, 0, &ids, &n, &err) == SS_OK);
            CHECK(n == 2 && ids[1] == 258 && (i == 5 || ids[0] == 29871));
            free(ids);
        }
        /* byte-level: 0xFF is the character U+00FF, token "ÿ" of GPT-2 */
        if (i == 2 || i == 3) {
            CHECK(ss_tokenizer_encode(t, "\xff", 1, 0, &ids, &n, &err) == SS_OK);
            CHECK(n == 1 && strcmp(ss_tokenizer_piece(t, ids[0]), "\xc3\xbf") == 0);
            free(ids);
        }
        ss_tokenizer_free(t);
    }
}

TEST_MAIN(TEST(malformed_json), TEST(unsupported), TEST(bad_gguf), TEST(truncated_tokenizer_bin),
          TEST(open_paths), TEST(invalid_utf8))
