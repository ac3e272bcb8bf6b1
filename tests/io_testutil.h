/* Small helpers shared by the tests/test_io_*.c files (header-only: every
 * test is its own executable). */
#ifndef SS_TESTS_IO_TESTUTIL_H
#define SS_TESTS_IO_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "io/dequant.h"
#include "io/tensor.h"

/* Whole file into a malloc'd buffer (NULL and a message on failure). */
static inline unsigned char *iot_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)sz + 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)sz;
    return b;
}

static inline int iot_write(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* A scratch file name in SS_TMP. */
static inline const char *iot_tmp(const char *name)
{
    return ss_test_path("%s/%s", ss_test_tmp(), name);
}

/* The whole tensor as float32 (malloc'd). */
static inline float *iot_f32(const ss_tensor *t)
{
    int64_t n = ss_tensor_numel(t);
    int64_t cols = t->ndim ? t->shape[t->ndim - 1] : 1;
    float *f = malloc((size_t)(n > 0 ? n : 1) * sizeof *f);
    if (f && cols > 0)
        ss_tensor_rows_f32(t, 0, n / cols, f);
    return f;
}

/* Checks an error: the code, and that the message contains each of up to
 * three fragments (NULL = unused), printing the message when it does not. */
#define CHECK_ERR(rc, err, want_code, a, b, c) do { \
    const char *fr_[3] = {(a), (b), (c)}; int ok_ = (rc) == (want_code) && (err).code == (want_code); \
    for (int i_ = 0; i_ < 3; i_++) if (fr_[i_] && !strstr((err).msg, fr_[i_])) ok_ = 0; \
    CHECK_MSG(ok_, "rc %d (%s), want %s; message: %s", (int)(rc), ss_code_name(rc), \
              ss_code_name(want_code), (err).msg); } while (0)

/* little-endian field writers for building files */
static inline void iot_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void iot_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Replaces the first occurrence of `from` by `to` (same length) in b[0..n). */
static inline int iot_patch(unsigned char *b, size_t n, const char *from, const char *to)
{
    size_t k = strlen(from);
    if (strlen(to) != k)
        return 0;
    unsigned char *p = memmem(b, n, from, k);
    if (!p)
        return 0;
    memcpy(p, to, k);
    return 1;
}

#endif
