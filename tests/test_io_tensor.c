/* io/tensor: dtype table, mappings, and the invariants the tensor list
 * enforces (unique names, bytes inside the mapping, size == shape x dtype). */
#include "io_testutil.h"

#include <sys/stat.h>

static void dtype_table(void)
{
    /* ggml-common.h block sizes */
    struct { ss_dtype t; const char *name; int be, bb; } want[] = {
        {SS_DT_F32, "F32", 1, 4}, {SS_DT_F16, "F16", 1, 2}, {SS_DT_BF16, "BF16", 1, 2},
        {SS_DT_Q8_0, "Q8_0", 32, 34}, {SS_DT_Q4_0, "Q4_0", 32, 18},
        {SS_DT_Q4_K, "Q4_K", 256, 144}, {SS_DT_Q6_K, "Q6_K", 256, 210}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECK(strcmp(ss_dtype_name(want[i].t), want[i].name) == 0);
        CHECK(ss_dtype_block_elems(want[i].t) == want[i].be);
        CHECK(ss_dtype_block_bytes(want[i].t) == want[i].bb);
    }
    CHECK(ss_dtype_bytes(SS_DT_F32, 10) == 40);
    CHECK(ss_dtype_bytes(SS_DT_BF16, 3) == 6);
    CHECK(ss_dtype_bytes(SS_DT_Q8_0, 64) == 68);
    CHECK(ss_dtype_bytes(SS_DT_Q8_0, 33) == 0); /* not whole blocks */
    CHECK(ss_dtype_bytes(SS_DT_Q6_K, 512) == 420);
    CHECK(ss_dtype_bytes(SS_DT_F32, UINT64_MAX / 2) == 0); /* overflow */
    CHECK(ss_dtype_bytes(SS_DT_COUNT, 4) == 0);
    ss_tensor t = {.ndim = 3, .shape = {2, 3, 4}};
    CHECK(ss_tensor_numel(&t) == 24);
    t.ndim = 0;
    CHECK(ss_tensor_numel(&t) == 1);
}

static void mmap_files(void)
{
    ss_error err = {0};
    ss_mmap m;
    const char *missing = iot_tmp("no_such_file.bin");
    remove(missing);
    ss_code rc = ss_mmap_open(missing, &m, &err);
    CHECK_ERR(rc, err, SS_ERR_IO, missing, "cannot open", NULL);

    ss_error_clear(&err);
    rc = ss_mmap_open(ss_test_tmp(), &m, &err);
    CHECK_ERR(rc, err, SS_ERR_IO, ss_test_tmp(), "folder", NULL);

    const char *empty = iot_tmp("empty.bin");
    CHECK(iot_write(empty, "", 0));
    ss_error_clear(&err);
    CHECK(ss_mmap_open(empty, &m, &err) == SS_OK);
    CHECK(m.base == NULL && m.size == 0);
    ss_mmap_close(&m);

    const char *small = iot_tmp("small.bin");
    CHECK(iot_write(small, "hello", 5));
    CHECK(ss_mmap_open(small, &m, &err) == SS_OK);
    CHECK(m.size == 5 && memcmp(m.base, "hello", 5) == 0 && strcmp(m.path, small) == 0);
    ss_mmap_close(&m);
    CHECK(m.base == NULL && m.path == NULL);

    CHECK(ss_mmap_anon("scratch", 4096, &m, &err) == SS_OK);
    ((char *)m.base)[10] = 7;
    ss_mmap_seal(&m);
    CHECK(((char *)m.base)[10] == 7);
    ss_mmap_close(&m);
}

static ss_tensor mk(const char *name, ss_dtype dt, int ndim, int64_t d0, int64_t d1,
                    const void *data, uint64_t nbytes)
{
    ss_tensor t = {0};
    t.name = (char *)name;
    t.dtype = dt;
    t.ndim = ndim;
    t.shape[0] = d0;
    t.shape[1] = d1;
    t.data = data;
    t.nbytes = nbytes;
    return t;
}

static void list_rules(void)
{
    static unsigned char buf[4096];
    ss_error err = {0};
    ss_tensor_list l = {0};
    ss_mmap m;
    int idx;
    CHECK(ss_mmap_borrow("mem.bin", buf, sizeof buf, &m, &err) == SS_OK);
    CHECK(ss_tensor_list_add_map(&l, &m, &idx, &err) == SS_OK && idx == 0);

    ss_tensor a = mk("a", SS_DT_F32, 2, 4, 8, buf, 128);
    CHECK(ss_tensor_list_add(&l, &a, 0, &err) == SS_OK);
    const ss_tensor *fa = ss_tensor_list_find(&l, "a");
    CHECK(fa && fa->data == buf && strcmp(fa->file, "mem.bin") == 0 && fa->name != a.name);
    CHECK(ss_tensor_list_find(&l, "b") == NULL);

    ss_code rc = ss_tensor_list_add(&l, &a, 0, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, "mem.bin", "duplicate tensor name 'a'", NULL);

    /* straddles the end of the mapping */
    ss_tensor b = mk("b", SS_DT_F32, 1, 16, 0, buf + 4096 - 32, 64);
    ss_error_clear(&err);
    rc = ss_tensor_list_add(&l, &b, 0, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, "mem.bin", "'b'", "outside");
    /* starts before it */
    static unsigned char other[64];
    b = mk("b", SS_DT_F32, 1, 4, 0, other, 16);
    ss_error_clear(&err);
    rc = ss_tensor_list_add(&l, &b, 0, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, "'b'", "outside", NULL);
    /* exactly at the end, zero bytes: fine */
    b = mk("empty", SS_DT_F32, 1, 0, 0, buf + 4096, 0);
    ss_error_clear(&err);
    CHECK(ss_tensor_list_add(&l, &b, 0, &err) == SS_OK);

    /* size must match shape x dtype */
    b = mk("c", SS_DT_F16, 2, 4, 8, buf, 128);
    ss_error_clear(&err);
    rc = ss_tensor_list_add(&l, &b, 0, &err);
    CHECK_ERR(rc, err, SS_ERR_SHAPE, "'c'", "64 bytes", NULL);
    /* quantized rows must be whole blocks: 16 x 64 is 32 Q8_0 blocks, but
     * rows of 16 would split them */
    b = mk("q", SS_DT_Q8_0, 2, 64, 16, buf, 32 * 34);
    ss_error_clear(&err);
    rc = ss_tensor_list_add(&l, &b, 0, &err);
    CHECK_ERR(rc, err, SS_ERR_SHAPE, "'q'", "blocks", NULL);
    b = mk("q", SS_DT_Q8_0, 2, 16, 64, buf, 32 * 34);
    ss_error_clear(&err);
    CHECK(ss_tensor_list_add(&l, &b, 0, &err) == SS_OK);
    b = mk("neg", SS_DT_F32, 2, -1, 4, buf, 0);
    rc = ss_tensor_list_add(&l, &b, 0, &err);
    CHECK_ERR(rc, err, SS_ERR_SHAPE, "'neg'", "negative", NULL);
    b = mk("rank", SS_DT_F32, 5, 1, 1, buf, 4);
    ss_error_clear(&err);
    rc = ss_tensor_list_add(&l, &b, 0, &err);
    CHECK_ERR(rc, err, SS_ERR_SHAPE, "'rank'", "dimensions", NULL);
    ss_error_clear(&err);
    rc = ss_tensor_list_add(&l, &a, 3, &err);
    CHECK(rc == SS_ERR_USAGE);
    CHECK(l.count == 3);
    ss_tensor_list_free(&l);
    CHECK(l.count == 0 && l.items == NULL && l.maps == NULL);
}

/* Many tensors: the name index grows and every name stays findable; a
 * truncate forgets exactly the dropped ones. */
static void list_many(void)
{
    static unsigned char buf[16];
    ss_error err = {0};
    ss_tensor_list l = {0};
    ss_mmap m;
    int idx;
    CHECK(ss_mmap_borrow("many", buf, sizeof buf, &m, &err) == SS_OK);
    CHECK(ss_tensor_list_add_map(&l, &m, &idx, &err) == SS_OK);
    char name[32];
    int ok = 1;
    for (int i = 0; i < 5000 && ok; i++) {
        snprintf(name, sizeof name, "blk.%d.w", i);
        ss_tensor t = mk(name, SS_DT_F32, 1, 4, 0, buf, 16);
        ok = ss_tensor_list_add(&l, &t, idx, &err) == SS_OK;
    }
    CHECK_MSG(ok, "%s", err.msg);
    int found = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "blk.%d.w", i);
        const ss_tensor *t = ss_tensor_list_find(&l, name);
        found += t && strcmp(t->name, name) == 0;
    }
    CHECK(found == 5000);
    ss_tensor_list_truncate(&l, 100, 1);
    CHECK(l.count == 100 && l.n_maps == 1);
    CHECK(ss_tensor_list_find(&l, "blk.99.w") != NULL);
    CHECK(ss_tensor_list_find(&l, "blk.100.w") == NULL);
    ss_tensor t = mk("blk.100.w", SS_DT_F32, 1, 4, 0, buf, 16);
    CHECK(ss_tensor_list_add(&l, &t, idx, &err) == SS_OK);
    ss_tensor_list_truncate(&l, 0, 0);
    CHECK(l.count == 0 && l.n_maps == 0);
    ss_tensor_list_free(&l);
}

TEST_MAIN(TEST(dtype_table), TEST(mmap_files), TEST(list_rules), TEST(list_many))
