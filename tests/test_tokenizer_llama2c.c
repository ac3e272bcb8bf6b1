/* llama2.c tokenizers: each line of a real model's tokens.txt (ids from
 * llama.cpp's llama-tokenize, BOS first) is decoded to text here, with this
 * file's own reader of tok512.bin, then encoded again with BOS; the ids must
 * come back exactly: from the llama2.c tokenizer.bin (run.c's algorithm)
 * and from the model's GGUF vocabulary (llama.cpp's SPM algorithm). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    int n;
    char **piece;
    int *len;
} tokbin;

/* Independent minimal reader: int32 max_len, then (float score, int32
 * len, bytes) until the end of the file. */
static int tokbin_read(const char *path, tokbin *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int max_len;
    if (fread(&max_len, 4, 1, f) != 1) {
        fclose(f);
        return -1;
    }
    t->piece = calloc(4096, sizeof *t->piece);
    t->len = calloc(4096, sizeof *t->len);
    float score;
    int len;
    while (t->n < 4096 && fread(&score, 4, 1, f) == 1 && fread(&len, 4, 1, f) == 1) {
        t->piece[t->n] = calloc((size_t)len + 1, 1);
        if (fread(t->piece[t->n], 1, (size_t)len, f) != (size_t)len)
            break;
        t->len[t->n++] = len;
    }
    fclose(f);
    return 0;
}

static void tokbin_free(tokbin *t)
{
    for (int i = 0; i < t->n; i++)
        free(t->piece[i]);
    free(t->piece);
    free(t->len);
}

/* run.c decode(): byte tokens "<0xXX>" are the byte; the first piece after
 * BOS loses its leading space (the dummy prefix). */
static char *decode(const tokbin *tb, const int32_t *ids, int n, size_t *out_len)
{
    size_t cap = 16;
    for (int i = 1; i < n; i++)
        cap += (size_t)tb->len[ids[i]];
    char *s = calloc(cap, 1);
    size_t k = 0;
    for (int i = 1; i < n; i++) {
        const char *p = tb->piece[ids[i]];
        unsigned byte;
        if (tb->len[ids[i]] == 6 && sscanf(p, "<0x%02X>", &byte) == 1) {
            s[k++] = (char)byte;
            continue;
        }
        if (i == 1 && p[0] == ' ')
            p++;
        size_t l = strlen(p);
        memcpy(s + k, p, l);
        k += l;
    }
    *out_len = k;
    return s;
}

static int parse_line(char *line, int32_t *ids, int cap)
{
    int n = 0;
    for (char *q = line; n < cap;) {
        char *e;
        long v = strtol(q, &e, 10);
        if (e == q)
            break;
        ids[n++] = (int32_t)v;
        q = e;
    }
    return n;
}

static void round_trip(const char *model, const char *tokbin_path, const char *gguf_name)
{
    const char *dir = ss_test_path("%s/models/%s", ss_test_shared(), model);
    tokbin tb;
    CHECK(tokbin_read(tokbin_path, &tb) == 0 && tb.n == 512);
    ss_tokenizer *tk[2] = {NULL, NULL};
    ss_error err = {0};
    CHECK_MSG(ss_tokenizer_from_llama2c(tokbin_path, 512, &tk[0], &err) == SS_OK, "%s", err.msg);
    ss_gguf g;
    memset(&g, 0, sizeof g);
    const char *gp = ss_test_path("%s/%s", dir, gguf_name);
    CHECK_MSG(ss_gguf_load(gp, &g, &err) == SS_OK, "%s", err.msg);
    CHECK_MSG(ss_tokenizer_from_gguf(&g, &tk[1], &err) == SS_OK, "%s", err.msg);
    ss_gguf_free(&g);
    FILE *f = fopen(ss_test_path("%s/tokens.txt", dir), "r");
    CHECK(f != NULL);
    static char line[65536];
    static int32_t want[8192];
    int lines = 0;
    while (f && fgets(line, sizeof line, f)) {
        int n = parse_line(line, want, 8192);
        if (n == 0)
            continue;
        lines++;
        CHECK(want[0] == 1);
        size_t len;
        char *text = decode(&tb, want, n, &len);
        for (int k = 0; k < 2; k++) {
            if (!tk[k])
                continue;
            CHECK(ss_tokenizer_bos(tk[k]) == 1 && ss_tokenizer_adds_bos(tk[k]));
            int32_t *ids = NULL;
            size_t m = 0;
            ss_code rc = ss_tokenizer_encode(tk[k], text, len, 1, &ids, &m, &err);
            int same = rc == SS_OK && m == (size_t)n && memcmp(ids, want, m * sizeof *ids) == 0;
            CHECK_MSG(same, "%s line %d via %s: %zu ids (want %d) %s", model, lines,
                      k ? "GGUF" : "tokenizer.bin", m, n, rc ? err.msg : "");
            if (!same && rc == SS_OK)
                for (size_t i = 0; i < m && i < (size_t)n; i++)
                    if (ids[i] != want[i]) {
                        fprintf(stderr, "  first difference at %zu: %d vs %d\n", i, ids[i],
                                want[i]);
                        break;
                    }
            free(ids);
        }
        free(text);
    }
    CHECK_MSG(lines >= 2, "%s: %d sequences", model, lines);
    if (f)
        fclose(f);
    ss_tokenizer_free(tk[0]);
    ss_tokenizer_free(tk[1]);
    tokbin_free(&tb);
}

static void stories260K(void)
{
    round_trip("stories260K", ss_test_path("%s/models/stories260K/tok512.bin", ss_test_shared()),
               "stories260K.gguf");
}

static void llama2xs(void)
{
    /* trained with karpathy's tok512 (the stories260K file) */
    round_trip("llama2xs_tinystories",
               ss_test_path("%s/models/stories260K/tok512.bin", ss_test_shared()), "model.gguf");
}

static void aidreams260K(void)
{
    round_trip("aidreams260K",
               ss_test_path("%s/models/aidreams260K/tok512.bin", ss_test_shared()),
               "aidreams260K.gguf");
}

/* run.c details with closed-form answers from the file's own pieces: the
 * dummy " " prefix only for non-empty text; a character missing from the
 * vocabulary becomes its bytes + 3. */
static void run_c_rules(void)
{
    ss_tokenizer *t = NULL;
    ss_error err = {0};
    const char *path = ss_test_path("%s/models/stories260K/tok512.bin", ss_test_shared());
    CHECK(ss_tokenizer_from_llama2c(path, 0, &t, &err) == SS_OK);
    if (!t)
        return;
    CHECK(ss_tokenizer_vocab_size(t) == 512);
    int32_t *ids = NULL;
    size_t n = 9;
    CHECK(ss_tokenizer_encode(t, "", 0, 0, &ids, &n, &err) == SS_OK && n == 0);
    free(ids);
    CHECK(ss_tokenizer_encode(t, "", 0, 1, &ids, &n, &err) == SS_OK && n == 1 && ids[0] == 1);
    free(ids);
    /* U+4E2D (E4 B8 AD) is not a piece of tok512 */
    const char *s = "\xe4\xb8\xad";
    CHECK(ss_tokenizer_encode(t, s, 3, 0, &ids, &n, &err) == SS_OK);
    if (ids) {
        /* " " token, then bytes 0xE4+3, 0xB8+3, 0xAD+3 (no piece joins them) */
        CHECK(n == 4 && strcmp(ss_tokenizer_piece(t, ids[0]), " ") == 0 &&
              ids[1] == 0xE4 + 3 && ids[2] == 0xB8 + 3 && ids[3] == 0xAD + 3);
    }
    free(ids);
    ss_tokenizer_free(t);
}

TEST_MAIN(TEST(stories260K), TEST(llama2xs), TEST(aidreams260K), TEST(run_c_rules))
