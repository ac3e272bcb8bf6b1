/* Hugging Face tokenizer semantics on small hand-written tokenizer.json
 * files and single pre-tokenizer steps. Every expected value is worked out
 * by hand from the rules documented by HF tokenizers (SplitDelimiterBehavior
 * examples, pre-tokenizer docs, BPE merge order, GPT-2's byte alphabet), not
 * taken from this code's output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "io/gguf.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tokenizer.h"

/* Encodes text with a tokenizer.json given as a string; returns the ids as
 * "a b c" (static buffer) or "ERROR: msg". */
static const char *enc(const char *json, const char *text)
{
    static char out[1200];
    ss_tokenizer *t = NULL;
    ss_error err = {0};
    if (ss_tokenizer_from_hf_json_bytes("test.json", json, strlen(json), &t, &err)) {
        snprintf(out, sizeof out, "ERROR: %s", err.msg);
        return out;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    if (ss_tokenizer_encode(t, text, strlen(text), 0, &ids, &n, &err)) {
        snprintf(out, sizeof out, "ERROR: %s", err.msg);
    } else {
        out[0] = '\0';
        for (size_t i = 0; i < n; i++)
            snprintf(out + strlen(out), sizeof out - strlen(out), i ? " %d" : "%d", ids[i]);
    }
    free(ids);
    ss_tokenizer_free(t);
    return out;
}

#define EXPECT(got, want) CHECK_MSG(strcmp((got), (want)) == 0, "got '%s', want '%s'", (got), (want))

static char json[4096];

static const char *bpe(const char *vocab, const char *merges, const char *extra)
{
    snprintf(json, sizeof json,
             "{\"model\": {\"type\": \"BPE\", \"vocab\": {%s}, \"merges\": [%s]%s}}", vocab,
             merges, extra);
    return json;
}

static const char abc[] = "\"a\":0,\"b\":1,\"c\":2,\"ab\":3,\"bc\":4,\"abc\":5,\"<unk>\":6";

static void merge_order(void)
{
    EXPECT(enc(bpe(abc, "\"a b\", \"ab c\"", ""), "abc"), "5");
    /* the lowest rank merges first, wherever it is */
    EXPECT(enc(bpe(abc, "\"b c\", \"a b\"", ""), "abc"), "0 4");
    EXPECT(enc(bpe(abc, "\"a b\", \"b c\"", ""), "abc"), "3 2");
    /* one pair at two overlapping positions: the leftmost merges first */
    EXPECT(enc(bpe("\"a\":0,\"aa\":1", "\"a a\"", ""), "aaa"), "1 0");
    /* merges as pairs */
    EXPECT(enc(bpe(abc, "[\"a\", \"b\"], [\"ab\", \"c\"]", ""), "abc"), "5");
}

static void unknown_characters(void)
{
    /* fuse_unk joins a run of unknown characters into one <unk> */
    EXPECT(enc(bpe(abc, "", ", \"unk_token\": \"<unk>\", \"fuse_unk\": true"), "xxa"), "6 0");
    EXPECT(enc(bpe(abc, "", ", \"unk_token\": \"<unk>\", \"fuse_unk\": false"), "xxa"), "6 6 0");
    /* no unk token, no byte fallback: the character is dropped, and its
     * neighbours become adjacent (HF Word::add skips it) */
    EXPECT(enc(bpe(abc, "", ""), "xax"), "0");
    EXPECT(enc(bpe(abc, "\"a b\"", ""), "axb"), "3");
    /* byte fallback: <0xC3> <0xA9> for U+00E9 */
    EXPECT(enc(bpe("\"a\":0,\"<0xC3>\":7,\"<0xA9>\":8", "", ", \"byte_fallback\": true"),
               "a\xc3\xa9"), "0 7 8");
    /* invalid UTF-8 bytes take the same path */
    EXPECT(enc(bpe("\"a\":0,\"<0xC3>\":7,\"<0xFF>\":8", "", ", \"byte_fallback\": true"),
               "\xff" "a\xc3"), "8 0 7");
}

static void ignore_merges(void)
{
    const char *v = "\"a\":0,\"b\":1,\"c\":2,\"abc\":3";
    EXPECT(enc(bpe(v, "", ", \"ignore_merges\": true"), "abc"), "3");
    EXPECT(enc(bpe(v, "", ", \"ignore_merges\": false"), "abc"), "0 1 2");
}

static const char *with_added(const char *added, const char *rest)
{
    snprintf(json, sizeof json,
             "{\"added_tokens\": [%s], %s \"model\": {\"type\": \"BPE\", \"vocab\": "
             "{\"a\":0,\"b\":1,\" \":10,\"<x>\":9}, \"merges\": []}}", added, rest);
    return json;
}

static void added_tokens(void)
{
    const char *tok = "{\"id\": 9, \"content\": \"<x>\", \"special\": true, \"lstrip\": %s, "
                      "\"rstrip\": %s, \"single_word\": %s, \"normalized\": false}";
    char a[256];
    snprintf(a, sizeof a, tok, "false", "false", "false");
    EXPECT(enc(with_added(a, ""), "a <x>b"), "0 10 9 1");
    EXPECT(enc(with_added(a, ""), "a<x>b"), "0 9 1");
    snprintf(a, sizeof a, tok, "true", "false", "false"); /* lstrip eats the space before */
    EXPECT(enc(with_added(a, ""), "a <x>b"), "0 9 1");
    snprintf(a, sizeof a, tok, "false", "true", "false"); /* rstrip eats the space after */
    EXPECT(enc(with_added(a, ""), "a<x> b"), "0 9 1");
    EXPECT(enc(with_added(a, ""), "a <x> b"), "0 10 9 1");
    snprintf(a, sizeof a, tok, "false", "false", "true"); /* single_word: not inside a word */
    EXPECT(enc(with_added(a, ""), "a<x>"), "0");
    EXPECT(enc(with_added(a, ""), " <x> "), "10 9 10");
    /* a normalized added token is matched in normalized text */
    EXPECT(enc(with_added("{\"id\": 9, \"content\": \"<X>\", \"normalized\": true}",
                          "\"normalizer\": {\"type\": \"Lowercase\"},"), "<X>A"), "9 0");
    /* leftmost-longest: "<x>" beats "<" at the same position */
    EXPECT(enc(with_added("{\"id\": 9, \"content\": \"<x>\"}, {\"id\": 1, \"content\": \"<\"}",
                          ""), "<<x>"), "1 9");
}

static void normalizers(void)
{
    /* NFC composes e + U+0301 into U+00E9, which is in the vocabulary */
    const char *v = "\"\xc3\xa9\":0,\"e\":1";
    snprintf(json, sizeof json, "{\"normalizer\": {\"type\": \"NFC\"}, \"model\": {\"type\": "
             "\"BPE\", \"vocab\": {%s}, \"merges\": []}}", v);
    EXPECT(enc(json, "e\xcc\x81"), "0");
    /* NFD the other way round (the accent is not in the vocabulary) */
    snprintf(json, sizeof json, "{\"normalizer\": {\"type\": \"NFD\"}, \"model\": {\"type\": "
             "\"BPE\", \"vocab\": {%s}, \"merges\": []}}", v);
    EXPECT(enc(json, "\xc3\xa9"), "1");
    /* Llama-2 layout: Prepend U+2581, Replace " " -> U+2581 */
    snprintf(json, sizeof json,
             "{\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Prepend\", "
             "\"prepend\": \"\xe2\x96\x81\"}, {\"type\": \"Replace\", \"pattern\": {\"String\": "
             "\" \"}, \"content\": \"\xe2\x96\x81\"}]}, \"model\": {\"type\": \"BPE\", \"vocab\": "
             "{\"\xe2\x96\x81" "a\":0, \"\xe2\x96\x81" "b\":1, \"\xe2\x96\x81\":2, \"a\":3, "
             "\"b\":4}, \"merges\": [\"\xe2\x96\x81 a\", \"\xe2\x96\x81 b\"]}}");
    EXPECT(enc(json, "a b"), "0 1");
    EXPECT(enc(json, ""), ""); /* Prepend leaves an empty text empty */
}

/* Runs one pre-tokenizer step built by the caller; pieces joined by '|'. */
static const char *pre(ss_pre_step st, const char *text, uint8_t flags)
{
    static char out[1200];
    ss_pretok pt = {&st, 1};
    ss_pieces p = {0};
    ss_error err = {0};
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (ss_pretokenize(&pt, md, text, strlen(text), flags, &p, &err)) {
        snprintf(out, sizeof out, "ERROR: %s", err.msg);
    } else {
        out[0] = '\0';
        for (size_t i = 0; i < p.n; i++)
            snprintf(out + strlen(out), sizeof out - strlen(out), "%s%.*s", i ? "|" : "",
                     (int)p.len[i], p.text.p + p.off[i]);
    }
    pcre2_match_data_free(md);
    ss_pieces_free(&p);
    return out;
}

static ss_pre_step re_step(const char *re, ss_split_behavior b, int invert)
{
    ss_pre_step st = {.kind = SS_PRE_SPLIT_RE, .behavior = b, .invert = invert};
    ss_error err = {0};
    CHECK(ss_regex_compile(&st.re, re, strlen(re), "test", &err) == SS_OK);
    return st;
}

static void split_behaviors(void)
{
    /* the examples of HF's SplitDelimiterBehavior documentation */
    const char *s = "the-final--countdown";
    ss_pre_step st = {.kind = SS_PRE_SPLIT_STR, .lit = "-", .lit_len = 1};
    st.behavior = SS_SPLIT_REMOVED;
    EXPECT(pre(st, s, 0), "the|final|countdown");
    st.behavior = SS_SPLIT_ISOLATED;
    EXPECT(pre(st, s, 0), "the|-|final|-|-|countdown");
    st.behavior = SS_SPLIT_MERGED_PREV;
    EXPECT(pre(st, s, 0), "the-|final-|-|countdown");
    st.behavior = SS_SPLIT_MERGED_NEXT;
    EXPECT(pre(st, s, 0), "the|-final|-|-countdown");
    st.behavior = SS_SPLIT_CONTIGUOUS;
    EXPECT(pre(st, s, 0), "the|-|final|--|countdown");
    /* the same through a regex */
    ss_pre_step r = re_step("-", SS_SPLIT_MERGED_NEXT, 0);
    EXPECT(pre(r, s, 0), "the|-final|-|-countdown");
    ss_regex_free(&r.re);
    /* HF Whitespace = \w+|[^\w\s]+ inverted and Removed (its docs' example) */
    r = re_step("\\w+|[^\\w\\s]+", SS_SPLIT_REMOVED, 1);
    EXPECT(pre(r, "Hey friend!     How are you?!?", 0), "Hey|friend|!|How|are|you|?!?");
    ss_regex_free(&r.re);
    st = (ss_pre_step){.kind = SS_PRE_WHITESPACE_SPLIT, .behavior = SS_SPLIT_REMOVED};
    EXPECT(pre(st, "Hey friend!  How", 0), "Hey|friend!|How");
    st = (ss_pre_step){.kind = SS_PRE_PUNCTUATION, .behavior = SS_SPLIT_ISOLATED};
    EXPECT(pre(st, "Hey, you!", 0), "Hey|,| you|!");
    st = (ss_pre_step){.kind = SS_PRE_DIGITS, .individual = 1};
    EXPECT(pre(st, "a123b", 0), "a|1|2|3|b");
    st.individual = 0;
    EXPECT(pre(st, "a123b", 0), "a|123|b");
}

static void byte_level(void)
{
    /* GPT-2 bytes_to_unicode: space -> U+0120, '\n' -> U+010A, 0xAD -> U+0143,
     * printable ASCII unchanged */
    size_t n;
    const char *c = ss_byte_level_char(' ', &n);
    CHECK(n == 2 && memcmp(c, "\xc4\xa0", 2) == 0);
    c = ss_byte_level_char('\n', &n);
    CHECK(n == 2 && memcmp(c, "\xc4\x8a", 2) == 0);
    c = ss_byte_level_char(0xAD, &n);
    CHECK(n == 2 && memcmp(c, "\xc5\x83", 2) == 0);
    c = ss_byte_level_char('A', &n);
    CHECK(n == 1 && c[0] == 'A');
    ss_pre_step st = {.kind = SS_PRE_BYTE_LEVEL, .use_regex = 1};
    ss_error err = {0};
    CHECK(ss_regex_compile(&st.re, ss_gpt2_regex, strlen(ss_gpt2_regex), "t", &err) == SS_OK);
    /* two spaces before a word: one stands alone, one joins the word */
    EXPECT(pre(st, "I'm  ok", 0), "I|'m|\xc4\xa0|\xc4\xa0ok");
    EXPECT(pre(st, "Hello world\n", 0), "Hello|\xc4\xa0world|\xc4\x8a");
    st.add_prefix_space = 1;
    EXPECT(pre(st, "hi", 0), "\xc4\xa0hi");
    EXPECT(pre(st, " hi", 0), "\xc4\xa0hi");
    ss_regex_free(&st.re);
}

static void metaspace(void)
{
    ss_pre_step st = {.kind = SS_PRE_METASPACE, .lit = "\xe2\x96\x81", .lit_len = 3, .split = 1};
    st.prepend = SS_PREPEND_FIRST;
    EXPECT(pre(st, "hello world", SS_PIECE_AT_START), "\xe2\x96\x81hello|\xe2\x96\x81world");
    EXPECT(pre(st, "hello world", 0), "hello|\xe2\x96\x81world");
    st.prepend = SS_PREPEND_ALWAYS;
    EXPECT(pre(st, "hello world", 0), "\xe2\x96\x81hello|\xe2\x96\x81world");
    st.split = 0;
    st.prepend = SS_PREPEND_NEVER;
    EXPECT(pre(st, "a b", 0), "a\xe2\x96\x81" "b");
}


/* ---- a hand-made GGUF vocabulary ---- */

static unsigned char gg[4096];
static size_t gn;

static void put(const void *p, size_t n)
{
    memcpy(gg + gn, p, n);
    gn += n;
}

static void put_u32(uint32_t v) { put(&v, 4); }
static void put_u64(uint64_t v) { put(&v, 8); }
static void put_str(const char *s)
{
    put_u64(strlen(s));
    put(s, strlen(s));
}

/* llama.cpp SPM: user-defined tokens (type 4) are matched in the text and
 * the next text gets the "▁" prefix again; control tokens (type 3) such as
 * <s> are not matched (llama-tokenize without --parse-special). */
static void gguf_user_defined(void)
{
    const char *tok[] = {"<unk>", "<s>", "</s>", "\xe2\x96\x81", "a", "\xe2\x96\x81" "a", "<x>",
                         "<", "s", ">"};
    const float score[] = {0, 0, 0, -1, -2, -3, 0, -4, -5, -6};
    const int32_t type[] = {2, 3, 3, 1, 1, 1, 4, 1, 1, 1};
    const int n = 10;
    gn = 0;
    put("GGUF", 4);
    put_u32(3);
    put_u64(0); /* tensors */
    put_u64(4); /* kvs */
    put_str("tokenizer.ggml.model");
    put_u32(8);
    put_str("llama");
    put_str("tokenizer.ggml.tokens");
    put_u32(9), put_u32(8), put_u64((uint64_t)n);
    for (int i = 0; i < n; i++)
        put_str(tok[i]);
    put_str("tokenizer.ggml.scores");
    put_u32(9), put_u32(6), put_u64((uint64_t)n);
    put(score, sizeof score);
    put_str("tokenizer.ggml.token_type");
    put_u32(9), put_u32(5), put_u64((uint64_t)n);
    put(type, sizeof type);
    ss_gguf g;
    memset(&g, 0, sizeof g);
    ss_error err = {0};
    ss_tokenizer *t = NULL;
    CHECK_MSG(ss_gguf_parse("test.gguf", gg, gn, &g, &err) == SS_OK, "%s", err.msg);
    CHECK_MSG(ss_tokenizer_from_gguf(&g, &t, &err) == SS_OK, "%s", err.msg);
    if (t) {
        int32_t *ids = NULL;
        size_t m = 0;
        CHECK(ss_tokenizer_encode(t, "a<x>a", 5, 0, &ids, &m, &err) == SS_OK);
        CHECK(m == 3 && ids[0] == 5 && ids[1] == 6 && ids[2] == 5);
        free(ids);
        CHECK(ss_tokenizer_encode(t, "<s>", 3, 0, &ids, &m, &err) == SS_OK);
        CHECK(m == 4 && ids[0] == 3 && ids[1] == 7 && ids[2] == 8 && ids[3] == 9);
        free(ids);
        /* llama defaults: BOS 1 added, EOS 2, unknown 0 */
        CHECK(ss_tokenizer_adds_bos(t) && ss_tokenizer_bos(t) == 1 && ss_tokenizer_eos(t) == 2);
    }
    ss_tokenizer_free(t);
    ss_gguf_free(&g);
}

TEST_MAIN(TEST(merge_order), TEST(unknown_characters), TEST(ignore_merges), TEST(added_tokens),
          TEST(normalizers), TEST(split_behaviors), TEST(byte_level), TEST(metaspace),
          TEST(gguf_user_defined))
