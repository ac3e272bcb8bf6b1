/* The GGUF pre-tokenizer types added for the later families
 * (tokenizer.ggml.pre = deepseek-llm, deepseek-coder, falcon, dbrx/smaug-bpe,
 * gpt-neox): the pieces llama.cpp's regex chain gives, worked out by hand
 * from the regexes (each isolates its matches inside every piece the
 * previous ones left), before the byte-level mapping. No vocabulary of these
 * types is in shared/, so the ids themselves are not checked here. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tokenizer/tok_internal.h"

#define EXPECT(got, want) CHECK_MSG(strcmp((got), (want)) == 0, "got '%s', want '%s'", (got), (want))

/* Pieces of text under pre type `pre`, joined by '|', the ByteLevel step
 * left out so pieces read as text. */
static const char *pieces(const char *pre, const char *text)
{
    static char out[1200];
    ss_pretok pt = {0};
    ss_error err = {0};
    int im, ab;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    ss_pieces p = {0};
    if (ss_gguf_pretok(pre, "test", &pt, &im, &ab, &err)) {
        snprintf(out, sizeof out, "ERROR: %s", err.msg);
    } else {
        CHECK(pt.n > 0 && pt.steps[pt.n - 1].kind == SS_PRE_BYTE_LEVEL);
        pt.n--; /* the byte-level step is freed below all the same */
        if (ss_pretokenize(&pt, md, text, strlen(text), 0, &p, &err)) {
            snprintf(out, sizeof out, "ERROR: %s", err.msg);
        } else {
            out[0] = '\0';
            for (size_t i = 0; i < p.n; i++)
                snprintf(out + strlen(out), sizeof out - strlen(out), "%s%.*s", i ? "|" : "",
                         (int)p.len[i], p.text.p + p.off[i]);
        }
        pt.n++;
    }
    ss_pieces_free(&p);
    ss_pretok_free(&pt);
    pcre2_match_data_free(md);
    return out;
}

static void test_deepseek_coder(void)
{
    /* newline alone; optional space + letters; optional space + punctuation;
     * CJK runs; single digits */
    EXPECT(pieces("deepseek-coder", "Hello, world 123\nfoo"), "Hello|,| world| |1|2|3|\n|foo");
    /* CJK are letters too, so "a" + CJK is one letter run until the CJK
     * regex (applied later) isolates the CJK inside it */
    EXPECT(pieces("deepseek-coder", "a\xe4\xbd\xa0\xe5\xa5\xbd!"), "a|\xe4\xbd\xa0\xe5\xa5\xbd|!");
}

static void test_deepseek_llm(void)
{
    /* letters with an optional leading space, punctuation runs, trailing
     * whitespace, CJK runs (U+4F60 U+597D), digit runs */
    EXPECT(pieces("deepseek-llm", "Hi there!! \xe4\xbd\xa0\xe5\xa5\xbd 42  "),
           "Hi| there|!!| |\xe4\xbd\xa0\xe5\xa5\xbd| |42|  ");
    /* Greek letters are in the letter class, digits run together */
    EXPECT(pieces("deepseek-llm", "\xce\xb1\xce\xb2 2024"), "\xce\xb1\xce\xb2| |2024");
}

static void test_falcon(void)
{
    /* punctuation isolated first, then GPT-2, then runs of three digits */
    EXPECT(pieces("falcon", "I've 12345 done."), "I|'|ve| |123|45| done|.");
}

static void test_dbrx_and_neox(void)
{
    /* Llama 3 style: digits in threes, a lone space before digits */
    EXPECT(pieces("dbrx", "Hello 123456 world's"), "Hello| |123|456| world|'s");
    EXPECT(pieces("smaug-bpe", "Hello 123456 world's"), "Hello| |123|456| world|'s");
    /* GPT-2: the last space of a run goes with the next word */
    EXPECT(pieces("gpt-neox", "Hello  world 12345"), "Hello| | world| 12345");
}

static void test_unknown_named(void)
{
    const char *got = pieces("tekken-x", "a");
    CHECK_MSG(strstr(got, "tokenizer.ggml.pre 'tekken-x' is not supported (supported: default,") != NULL,
              "%s", got);
}

TEST_MAIN(TEST(test_deepseek_coder), TEST(test_deepseek_llm), TEST(test_falcon),
          TEST(test_dbrx_and_neox), TEST(test_unknown_named))
