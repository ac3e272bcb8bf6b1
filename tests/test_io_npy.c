/* io/npy: write -> read round trips for every type and rank, the written
 * bytes checked against the .npy 1.0 format itself (magic, 64-byte aligned
 * header, dict text), the reference arrays in shared/ read with their
 * documented shapes, and malformed files rejected. */
#include "io_testutil.h"

#include <math.h>

#include "io/npy.h"

/* The header text and data offset of a written file, per the format. */
static int npy_layout(const unsigned char *b, size_t n, char *dict, size_t cap, size_t *data_at)
{
    if (n < 10 || memcmp(b, "\x93NUMPY\x01\x00", 8) != 0)
        return 0;
    size_t hlen = b[8] | (size_t)b[9] << 8;
    if (10 + hlen > n || (10 + hlen) % 64 != 0 || b[10 + hlen - 1] != '\n')
        return 0;
    snprintf(dict, cap, "%.*s", (int)hlen, (const char *)b + 10);
    *data_at = 10 + hlen;
    return 1;
}

static void round_trips(void)
{
    struct { ss_npy_type t; const char *descr; size_t es; } types[] = {
        {SS_NPY_F32, "'<f4'", 4}, {SS_NPY_F64, "'<f8'", 8},
        {SS_NPY_I64, "'<i8'", 8}, {SS_NPY_I32, "'<i4'", 4}};
    struct { int ndim; int64_t shape[3]; const char *text; } shapes[] = {
        {0, {0}, "()"}, {1, {5}, "(5,"}, {2, {2, 3}, "(2, 3)"}, {3, {2, 1, 4}, "(2, 1, 4)"},
        {2, {0, 3}, "(0, 3)"}};
    unsigned char data[64];
    for (int i = 0; i < 64; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t ti = 0; ti < 4; ti++) {
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
            const char *path = iot_tmp("rt.npy");
            ss_error err = {0};
            CHECK(ss_npy_write(path, types[ti].t, shapes[si].ndim, shapes[si].shape, data,
                               &err) == SS_OK);
            int64_t count = 1;
            for (int d = 0; d < shapes[si].ndim; d++)
                count *= shapes[si].shape[d];
            size_t bytes = (size_t)count * types[ti].es, n = 0, at = 0;
            unsigned char *raw = iot_read(path, &n);
            char dict[512];
            int laid = raw && npy_layout(raw, n, dict, sizeof dict, &at);
            CHECK(laid);
            if (!laid) {
                free(raw);
                continue;
            }
            CHECK_MSG(strstr(dict, types[ti].descr) && strstr(dict, "'fortran_order': False") &&
                      strstr(dict, shapes[si].text), "%s", dict);
            CHECK(n == at + bytes && memcmp(raw + at, data, bytes) == 0);
            free(raw);
            ss_npy a;
            CHECK(ss_npy_read(path, &a, &err) == SS_OK);
            CHECK(a.type == types[ti].t && a.ndim == shapes[si].ndim && a.count == count);
            for (int d = 0; d < a.ndim; d++)
                CHECK(a.shape[d] == shapes[si].shape[d]);
            CHECK(memcmp(a.data, data, bytes) == 0);
            ss_npy_free(&a);
        }
    }
}

static void reference_arrays(void)
{
    ss_npy a;
    ss_error err = {0};
    const char *p = ss_test_path("%s/fixtures/mistral_mha/ref/llamacpp_logits_s0.npy",
                                 ss_test_shared());
    CHECK(ss_npy_read(p, &a, &err) == SS_OK);
    CHECK(a.type == SS_NPY_F32 && a.ndim == 2 && a.shape[0] == 16 && a.shape[1] == 300);
    ss_npy_free(&a);
    /* head_dim 16, theta 1e4: pair l turns by 10000^(-2l/16) per token */
    p = ss_test_path("%s/fixtures/mistral_mha/ref/rope_inv_freq.npy", ss_test_shared());
    CHECK(ss_npy_read(p, &a, &err) == SS_OK);
    CHECK(a.ndim == 1 && a.shape[0] == 8);
    double *d = ss_npy_as_f64(&a, &err);
    for (int l = 0; d && l < 8; l++)
        CHECK_NEAR(d[l], pow(10000.0, -2.0 * l / 16), 1e-7 * d[l]);
    free(d);
    ss_npy_free(&a);
}

static void malformed(void)
{
    const char *path = iot_tmp("bad.npy");
    ss_npy a;
    ss_error err = {0};
    CHECK(iot_write(path, "NUMPY not really", 16));
    ss_code rc = ss_npy_read(path, &a, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, path, "magic", NULL);
    /* a valid file cut short */
    int64_t shape[1] = {10};
    float v[10] = {0};
    ss_error_clear(&err);
    CHECK(ss_npy_write(path, SS_NPY_F32, 1, shape, v, &err) == SS_OK);
    size_t n;
    unsigned char *raw = iot_read(path, &n);
    CHECK(raw && iot_write(path, raw, n - 4));
    rc = ss_npy_read(path, &a, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, path, "shape needs", NULL);
    free(raw);
}

TEST_MAIN(TEST(round_trips), TEST(reference_arrays), TEST(malformed))
