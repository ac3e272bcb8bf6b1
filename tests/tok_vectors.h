/* Reading llama.cpp's tokenizer test vectors (shared/README.md
 * "Tokenizers"): .inp holds strings each followed by
 * "\n__ggml_vocab_test__\n"; .out holds one line per string, every id
 * preceded by a space. Header-only: each test_*.c is built alone with the
 * harness. */
#ifndef SS_TESTS_TOK_VECTORS_H
#define SS_TESTS_TOK_VECTORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int n;
    char **text;
    size_t *len;
    int32_t **ids;
    int *n_ids;
} tok_vectors;

static char *tv_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)size + 1);
    if (b && fread(b, 1, (size_t)size, f) != (size_t)size) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[size] = '\0';
        *n = (size_t)size;
    }
    return b;
}

static void tok_vectors_free(tok_vectors *v)
{
    for (int i = 0; i < v->n; i++) {
        free(v->text[i]);
        free(v->ids[i]);
    }
    free(v->text);
    free(v->len);
    free(v->ids);
    free(v->n_ids);
    memset(v, 0, sizeof *v);
}

/* Returns 0 on success; prints what is wrong otherwise. */
static int tok_vectors_load(const char *inp, const char *out, tok_vectors *v)
{
    static const char sep[] = "\n__ggml_vocab_test__\n";
    const size_t ls = sizeof sep - 1;
    memset(v, 0, sizeof *v);
    size_t ni, no;
    char *a = tv_slurp(inp, &ni), *b = tv_slurp(out, &no);
    if (!a || !b) {
        free(a);
        free(b);
        return -1;
    }
    int cap = 64;
    v->text = calloc((size_t)cap, sizeof *v->text);
    v->len = calloc((size_t)cap, sizeof *v->len);
    v->ids = calloc((size_t)cap, sizeof *v->ids);
    v->n_ids = calloc((size_t)cap, sizeof *v->n_ids);
    size_t at = 0;
    while (at < ni && v->n < cap) {
        char *e = memmem(a + at, ni - at, sep, ls);
        if (!e)
            break;
        size_t len = (size_t)(e - (a + at));
        v->text[v->n] = malloc(len + 1);
        memcpy(v->text[v->n], a + at, len);
        v->text[v->n][len] = '\0';
        v->len[v->n] = len;
        v->n++;
        at = (size_t)(e - a) + ls;
    }
    /* .out: one line per string */
    int line = 0;
    char *p = b;
    while (line < v->n && p < b + no) {
        char *nl = memchr(p, '\n', (size_t)(b + no - p));
        char *end = nl ? nl : b + no;
        int32_t *ids = malloc(sizeof *ids * (size_t)(end - p + 1));
        int k = 0;
        for (char *q = p; q < end;) {
            while (q < end && *q == ' ')
                q++;
            if (q >= end)
                break;
            ids[k++] = (int32_t)strtol(q, &q, 10);
        }
        v->ids[line] = ids;
        v->n_ids[line] = k;
        line++;
        p = end + 1;
    }
    free(a);
    free(b);
    if (line != v->n) {
        fprintf(stderr, "%s has %d lines for %d strings in %s\n", out, line, v->n, inp);
        return -1;
    }
    return 0;
}

#endif
