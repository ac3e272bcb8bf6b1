/* Prompt sources: SHA-256 against the data set's SHA256SUMS and coreutils,
 * synthetic prompts against values from an independent Python
 * implementation of the documented generator, ids files (cutting,
 * skipping, chunking, resuming at a record, bad ids). */
#include <stdlib.h>
#include <string.h>

#include "analysis/ood.h"
#include "analysis/prompts.h"
#include "common/sha256.h"
#include "harness.h"

static void test_sha256(void)
{
    char hex[65];
    ss_sha256 s;
    ss_sha256_init(&s);
    ss_sha256_update(&s, "abc", 3); /* FIPS 180-2 example */
    ss_sha256_hex(&s, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    ss_error err = {0};
    CHECK(ss_sha256_file(ss_test_path("%s/fixtures/qwen2/tokens.txt", ss_test_shared()), hex,
                         &err) == SS_OK);
    CHECK(strcmp(hex, "3f06a3c0942dc4ab4677c5534aec1d4d56731cae58ccebc740f2c174fad1b256") == 0);
    CHECK(ss_sha256_file("/nonexistent/file", hex, &err) == SS_ERR_IO);
}

/* Reference values: a Python transcription of the generator in ood.h. */
static void test_splitmix_and_ood(void)
{
    uint64_t st = 1234567; /* SplitMix64's published test vector */
    const uint64_t want[5] = {6457827717110365317ull, 3203168211198807973ull,
                              9817491932198370423ull, 4593380528125082431ull,
                              16408922859458223821ull};
    for (int i = 0; i < 5; i++)
        CHECK(ss_splitmix64_next(&st) == want[i]);
    int32_t ids[12];
    const int32_t p0[12] = {4, 85, 434, 168, 313, 183, 372, 398, 511, 72, 322, 444};
    const int32_t p3[12] = {259, 216, 158, 180, 398, 483, 453, 239, 264, 28, 379, 203};
    ss_ood_prompt(42, 0, 512, -1, ids, 12);
    CHECK(memcmp(ids, p0, sizeof p0) == 0);
    ss_ood_prompt(42, 3, 512, -1, ids, 12);
    CHECK(memcmp(ids, p3, sizeof p3) == 0);
    const int32_t q[8] = {1, 88866, 3242, 65441, 141254, 87795, 79730, 134570};
    ss_ood_prompt(7, 1, 151642, 1, ids, 8);
    CHECK(memcmp(ids, q, sizeof q) == 0);
    /* repeat: the segment is the start of the OOD prompt of the same stream */
    int32_t r[12];
    ss_repeat_prompt(42, 3, 512, 5, -1, r, 12);
    for (int t = 0; t < 12; t++)
        CHECK(r[t] == p3[t % 5]);
    ss_repeat_prompt(42, 3, 512, 4, 1, r, 12);
    CHECK(r[0] == 1);
    for (int t = 1; t < 12; t++)
        CHECK(r[t] == p3[(t - 1) % 4]);
}

/* Uniform ids: every id of a small vocabulary appears about equally. */
static void test_uniform(void)
{
    uint64_t st = 99;
    int hist[7] = {0};
    for (int i = 0; i < 70000; i++)
        hist[ss_uniform_id(&st, 7)]++;
    for (int v = 0; v < 7; v++)
        CHECK(hist[v] > 9500 && hist[v] < 10500);
    CHECK(ss_uniform_id(&st, 1) == 0);
}

static const char *write_tmp(const char *name, const char *text)
{
    const char *path = ss_test_path("%s/%s", ss_test_tmp(), name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

static int drain(ss_prompts *p, int len, int32_t *all, int max)
{
    int k = 0, got;
    ss_error err = {0};
    int32_t *ids = malloc((size_t)len * sizeof *ids);
    while (k < max && ss_prompts_next(p, ids, &got, &err) == SS_OK && got)
        memcpy(all + (size_t)len * k++, ids, (size_t)len * sizeof *ids);
    CHECK_MSG(err.code == SS_OK, "%s", err.msg);
    free(ids);
    return k;
}

static void test_ids_file(void)
{
    const char *path = write_tmp("prompts_ids.txt", "1 2 3 4 5\n\n6 7\n8 9 10 11\n12 13 14\n");
    ss_prompt_opts o = {.kind = SS_SRC_IDS, .path = path, .len = 3, .vocab = 100, .bos = -1};
    ss_prompts *p;
    ss_error err = {0};
    CHECK(ss_prompts_open(&o, &p, &err) == SS_OK);
    CHECK(ss_prompts_total_records(p) == 5);
    int32_t all[30];
    CHECK(drain(p, 3, all, 10) == 3);
    const int32_t want[9] = {1, 2, 3, 8, 9, 10, 12, 13, 14};
    CHECK(memcmp(all, want, sizeof want) == 0);
    CHECK(ss_prompts_skipped(p) == 1); /* "6 7"; the blank line is ignored */
    /* resume after the first prompt: record 1 consumed, nothing skipped */
    CHECK(ss_prompts_seek(p, 1, 0, 1, &err) == SS_OK);
    CHECK(drain(p, 3, all, 10) == 2);
    CHECK(memcmp(all, want + 3, 6 * sizeof *all) == 0);
    CHECK(ss_prompts_emitted(p) == 3);
    ss_prompts_close(p);

    /* chunk: short records joined into windows; the rest of a record past
     * the window is dropped; an unfinished window at the end is skipped */
    o.chunk = 1;
    o.len = 4;
    CHECK(ss_prompts_open(&o, &p, &err) == SS_OK);
    CHECK(drain(p, 4, all, 10) == 2);
    const int32_t wc[8] = {1, 2, 3, 4, 6, 7, 8, 9};
    CHECK(memcmp(all, wc, sizeof wc) == 0);
    CHECK(ss_prompts_skipped(p) == 1);
    ss_prompts_close(p);

    /* count caps the prompts */
    o.chunk = 0;
    o.len = 2;
    o.count = 2;
    CHECK(ss_prompts_open(&o, &p, &err) == SS_OK);
    CHECK(drain(p, 2, all, 10) == 2);
    ss_prompts_close(p);
}

/* A source's hash is that of the file's bytes (SHA256SUMS of the data set). */
static void test_source_hash(void)
{
    ss_prompt_opts o = {.kind = SS_SRC_IDS, .len = 16, .vocab = 384, .bos = -1,
                        .path = ss_test_path("%s/fixtures/qwen2/tokens.txt", ss_test_shared())};
    ss_prompts *p;
    ss_error err = {0};
    CHECK(ss_prompts_open(&o, &p, &err) == SS_OK);
    if (!p)
        return;
    CHECK(strcmp(ss_prompts_sha256(p),
                 "3f06a3c0942dc4ab4677c5534aec1d4d56731cae58ccebc740f2c174fad1b256") == 0);
    CHECK(ss_prompts_total_records(p) == 2);
    int32_t all[32];
    CHECK(drain(p, 16, all, 2) == 2);
    ss_prompts_close(p);
}

static void test_bad_ids(void)
{
    ss_error err = {0};
    ss_prompts *p;
    int32_t ids[3];
    int got;
    const char *path = write_tmp("prompts_bad.txt", "1 2 3\n4 500 6\n");
    ss_prompt_opts o = {.kind = SS_SRC_IDS, .path = path, .len = 3, .vocab = 100, .bos = -1};
    CHECK(ss_prompts_open(&o, &p, &err) == SS_OK);
    CHECK(ss_prompts_next(p, ids, &got, &err) == SS_OK && got);
    CHECK(ss_prompts_next(p, ids, &got, &err) == SS_ERR_VALUE);
    CHECK_MSG(strstr(err.msg, ":2: token 2 is 500") != NULL, "%s", err.msg);
    ss_prompts_close(p);
    ss_error_clear(&err);
    o.path = write_tmp("prompts_bad2.txt", "1 x 3\n");
    CHECK(ss_prompts_open(&o, &p, &err) == SS_OK);
    CHECK(ss_prompts_next(p, ids, &got, &err) == SS_ERR_FORMAT);
    ss_prompts_close(p);
    ss_error_clear(&err);
    o.path = "/nonexistent/ids.txt";
    CHECK(ss_prompts_open(&o, &p, &err) == SS_ERR_IO);
    CHECK(strstr(err.msg, "/nonexistent/ids.txt") != NULL);
    ss_error_clear(&err);
    o.path = write_tmp("prompts_empty.txt", "\n \n");
    CHECK(ss_prompts_open(&o, &p, &err) == SS_ERR_VALUE);
    ss_error_clear(&err);
    /* a JSON array where JSONL is expected */
    ss_prompt_opts j = {.kind = SS_SRC_JSONL, .path = write_tmp("prompts_arr.json", "[{\"text\": \"a\"}]"),
                        .len = 3, .vocab = 100, .bos = -1, .tok = (const ss_tokenizer *)1};
    CHECK(ss_prompts_open(&j, &p, &err) == SS_ERR_FORMAT);
    CHECK(strstr(err.msg, "jq") != NULL);
    ss_error_clear(&err);
    ss_prompt_opts s = {.kind = SS_SRC_OOD, .len = 3, .vocab = 100, .bos = -1};
    CHECK(ss_prompts_open(&s, &p, &err) == SS_ERR_USAGE); /* no count */
}

static void test_synthetic_source(void)
{
    ss_prompt_opts o = {.kind = SS_SRC_OOD, .len = 12, .count = 4, .seed = 42, .vocab = 512,
                        .bos = -1};
    ss_prompts *p;
    ss_error err = {0};
    CHECK(ss_prompts_open(&o, &p, &err) == SS_OK);
    int32_t all[12 * 5];
    CHECK(drain(p, 12, all, 5) == 4);
    int32_t one[12];
    ss_ood_prompt(42, 3, 512, -1, one, 12);
    CHECK(memcmp(all + 36, one, sizeof one) == 0);
    /* the hash is that of the ids as little-endian int32: compare with a
     * hash of the same bytes made here */
    ss_sha256 s;
    ss_sha256_init(&s);
    ss_sha256_update(&s, all, sizeof(int32_t) * 48); /* x86/ARM are little-endian */
    char hex[65];
    ss_sha256_hex(&s, hex);
    CHECK(strcmp(hex, ss_prompts_sha256(p)) == 0);
    CHECK(ss_prompts_seek(p, 3, 0, 3, &err) == SS_OK);
    CHECK(drain(p, 12, all, 5) == 1 && memcmp(all, one, sizeof one) == 0);
    ss_prompts_close(p);
    o.kind = SS_SRC_REPEAT;
    o.segment = 5;
    CHECK(ss_prompts_open(&o, &p, &err) == SS_OK);
    CHECK(drain(p, 12, all, 5) == 4);
    CHECK(all[36 + 5] == all[36] && all[36 + 11] == all[36 + 1]);
    ss_prompts_close(p);
}

/* The folder hash equals coreutils' `sha256sum *.txt | sha256sum`. */
static void test_folder_hash(void)
{
    const char *dir = ss_test_path("%s/prompts_dir", ss_test_tmp());
    CHECK(ss_test_sh("rm -rf '%s' && mkdir -p '%s' && printf 'b text' > '%s/b.txt' && "
                     "printf 'a text\\n' > '%s/a.txt' && printf x > '%s/skip.md'",
                     dir, dir, dir, dir, dir) == 0);
    CHECK(ss_test_sh("cd '%s' && LC_ALL=C sha256sum *.txt | sha256sum | cut -c1-64 > ../prompts_dir.sha",
                     dir) == 0);
    char want[80] = {0};
    FILE *f = fopen(ss_test_path("%s/prompts_dir.sha", ss_test_tmp()), "r");
    CHECK(f && fgets(want, sizeof want, f));
    if (f)
        fclose(f);
    want[64] = '\0';
    ss_prompt_opts o = {.kind = SS_SRC_TXT_DIR, .path = dir, .len = 3, .vocab = 100, .bos = -1,
                        .tok = (const ss_tokenizer *)1};
    ss_prompts *p;
    ss_error err = {0};
    CHECK(ss_prompts_open(&o, &p, &err) == SS_OK);
    if (p) {
        CHECK(strcmp(ss_prompts_sha256(p), want) == 0);
        CHECK(ss_prompts_total_records(p) == 2);
        ss_prompts_close(p);
    }
}

TEST_MAIN(TEST(test_sha256), TEST(test_splitmix_and_ood), TEST(test_uniform),
          TEST(test_ids_file), TEST(test_source_hash), TEST(test_bad_ids), TEST(test_synthetic_source),
          TEST(test_folder_hash))
