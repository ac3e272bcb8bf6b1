/* io/safetensors: every HF folder in shared/ loads with the shapes of the
 * README tables; hostile variants of a real file (and small handmade ones)
 * are rejected with a message naming the file and the problem. */
#include "io_testutil.h"

#include <cjson/cJSON.h>

#include "io/safetensors.h"
#include "io/safetensors_write.h"

typedef struct {
    const char *dir;
    int hidden, inter, layers, heads, kv, head_dim, vocab;
    int bias, lm_head;
    ss_dtype dtype;
} hf_model;

/* README "Models" and "Fixtures" tables */
static const hf_model models[] = {
    {"models/stories260K", 64, 172, 5, 8, 4, 8, 512, 0, 1, SS_DT_F32},
    {"models/llama2xs_tinystories", 64, 192, 5, 8, 4, 8, 512, 0, 1, SS_DT_F32},
    {"models/aidreams260K", 64, 172, 4, 4, 4, 16, 512, 0, 1, SS_DT_F32},
    {"fixtures/llama3_gqa", 128, 256, 2, 4, 2, 32, 512, 0, 1, SS_DT_BF16},
    {"fixtures/qwen2", 128, 256, 2, 4, 2, 32, 384, 1, 0, SS_DT_F32},
    {"fixtures/gemma", 64, 192, 3, 4, 1, 32, 320, 0, 0, SS_DT_F32},
    {"fixtures/mistral_mha", 64, 160, 2, 4, 4, 16, 300, 0, 1, SS_DT_F32},
};

static int has_shape(const ss_tensor_list *l, const char *name, ss_dtype dt, int ndim,
                     int64_t d0, int64_t d1)
{
    const ss_tensor *t = ss_tensor_list_find(l, name);
    if (!t) {
        fprintf(stderr, "missing tensor %s\n", name);
        return 0;
    }
    int ok = t->dtype == dt && t->ndim == ndim && t->shape[0] == d0 && (ndim < 2 || t->shape[1] == d1);
    if (!ok)
        fprintf(stderr, "%s: dtype %s ndim %d shape [%lld, %lld]\n", name,
                ss_dtype_name(t->dtype), t->ndim, (long long)t->shape[0], (long long)t->shape[1]);
    return ok;
}

static ss_code load_folder(const char *dir, ss_tensor_list *l, ss_error *err)
{
    const char *single = ss_test_path("%s/%s/hf/model.safetensors", ss_test_shared(), dir);
    FILE *f = fopen(single, "rb");
    if (f) {
        fclose(f);
        return ss_safetensors_load(single, l, err);
    }
    ss_code rc = SS_OK;
    for (int s = 1; s <= 2 && !rc; s++)
        rc = ss_safetensors_load(ss_test_path("%s/%s/hf/model-%05d-of-00002.safetensors",
                                              ss_test_shared(), dir, s), l, err);
    return rc;
}

static void all_hf_folders(void)
{
    char name[128];
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        const hf_model *m = &models[i];
        ss_error err = {0};
        ss_tensor_list l = {0};
        ss_code rc = load_folder(m->dir, &l, &err);
        CHECK_MSG(rc == SS_OK, "%s: %s", m->dir, err.msg);
        if (rc)
            continue;
        int per_layer = 9 + (m->bias ? 3 : 0);
        CHECK_MSG(l.count == m->layers * per_layer + 2 + m->lm_head, "%s: %d tensors", m->dir,
                  l.count);
        ss_dtype dt = m->dtype;
        int q = m->heads * m->head_dim, kv = m->kv * m->head_dim;
        CHECK(has_shape(&l, "model.embed_tokens.weight", dt, 2, m->vocab, m->hidden));
        CHECK(has_shape(&l, "model.norm.weight", dt, 1, m->hidden, 0));
        if (m->lm_head)
            CHECK(has_shape(&l, "lm_head.weight", dt, 2, m->vocab, m->hidden));
        for (int j = 0; j < m->layers; j++) {
#define P(s) (snprintf(name, sizeof name, "model.layers.%d." s, j), name)
            CHECK(has_shape(&l, P("self_attn.q_proj.weight"), dt, 2, q, m->hidden));
            CHECK(has_shape(&l, P("self_attn.k_proj.weight"), dt, 2, kv, m->hidden));
            CHECK(has_shape(&l, P("self_attn.v_proj.weight"), dt, 2, kv, m->hidden));
            CHECK(has_shape(&l, P("self_attn.o_proj.weight"), dt, 2, m->hidden, q));
            CHECK(has_shape(&l, P("mlp.gate_proj.weight"), dt, 2, m->inter, m->hidden));
            CHECK(has_shape(&l, P("mlp.up_proj.weight"), dt, 2, m->inter, m->hidden));
            CHECK(has_shape(&l, P("mlp.down_proj.weight"), dt, 2, m->hidden, m->inter));
            CHECK(has_shape(&l, P("input_layernorm.weight"), dt, 1, m->hidden, 0));
            CHECK(has_shape(&l, P("post_attention_layernorm.weight"), dt, 1, m->hidden, 0));
            if (m->bias) {
                CHECK(has_shape(&l, P("self_attn.q_proj.bias"), dt, 1, q, 0));
                CHECK(has_shape(&l, P("self_attn.k_proj.bias"), dt, 1, kv, 0));
                CHECK(has_shape(&l, P("self_attn.v_proj.bias"), dt, 1, kv, 0));
            }
#undef P
        }
        ss_tensor_list_free(&l);
    }
}

/* The shard index names, for every tensor, the file it is in. */
static void qwen2_shards_match_index(void)
{
    ss_error err = {0};
    ss_tensor_list l = {0};
    CHECK(load_folder("fixtures/qwen2", &l, &err) == SS_OK);
    CHECK(l.n_maps == 2);
    size_t n;
    char *js = (char *)iot_read(
        ss_test_path("%s/fixtures/qwen2/hf/model.safetensors.index.json", ss_test_shared()), &n);
    CHECK(js != NULL);
    if (!js)
        return;
    js[n] = '\0';
    cJSON *root = cJSON_Parse(js);
    const cJSON *wm = cJSON_GetObjectItem(root, "weight_map");
    int entries = 0, ok = 0;
    for (const cJSON *e = wm ? wm->child : NULL; e; e = e->next) {
        entries++;
        const ss_tensor *t = ss_tensor_list_find(&l, e->string);
        const char *slash = t ? strrchr(t->file, '/') : NULL;
        ok += slash && strcmp(slash + 1, e->valuestring) == 0;
    }
    CHECK(entries == l.count && ok == entries);
    cJSON_Delete(root);
    free(js);
    ss_tensor_list_free(&l);
}

/* ---- hostile variants of a real file -------------------------------------- */

static unsigned char *real_file(size_t *n)
{
    return iot_read(ss_test_path("%s/fixtures/mistral_mha/hf/model.safetensors",
                                 ss_test_shared()), n);
}

/* Writes `b` to SS_TMP/name, loads it into a list that already holds one
 * tensor from elsewhere, and checks the error; the list must be unchanged. */
static void expect_reject(const char *name, const unsigned char *b, size_t n, ss_code code,
                          const char *frag1, const char *frag2)
{
    const char *path = iot_tmp(name);
    CHECK(iot_write(path, b, n));
    static const float keep[4];
    ss_error err = {0};
    ss_tensor_list l = {0};
    ss_mmap m;
    int idx;
    ss_mmap_borrow("other", keep, sizeof keep, &m, &err);
    ss_tensor_list_add_map(&l, &m, &idx, &err);
    ss_tensor t = {.name = "keep", .dtype = SS_DT_F32, .ndim = 1, .shape = {4}, .data = keep,
                   .nbytes = sizeof keep};
    ss_tensor_list_add(&l, &t, idx, &err);
    ss_code rc = ss_safetensors_load(path, &l, &err);
    CHECK_ERR(rc, err, code, path, frag1, frag2);
    CHECK_MSG(l.count == 1 && l.n_maps == 1 && ss_tensor_list_find(&l, "keep"),
              "%s: list changed by a failed load", name);
    ss_tensor_list_free(&l);
    /* the in-memory entry point agrees */
    ss_error e2 = {0};
    ss_tensor_list l2 = {0};
    ss_mmap_borrow(path, b, n, &m, &e2);
    ss_tensor_list_add_map(&l2, &m, &idx, &e2);
    CHECK(ss_safetensors_parse(path, b, n, idx, &l2, &e2) == code && l2.count == 0);
    ss_tensor_list_free(&l2);
}

static void hostile_real(void)
{
    size_t n;
    unsigned char *orig = real_file(&n), *b = malloc(n);
    CHECK(orig && b);
    if (!orig || !b)
        return;
    /* the unmodified file loads: the patches below are the only difference */
    {
        ss_error err = {0};
        ss_tensor_list l = {0};
        const char *p = iot_tmp("st_ok.safetensors");
        iot_write(p, orig, n);
        CHECK(ss_safetensors_load(p, &l, &err) == SS_OK && l.count == 21);
        ss_tensor_list_free(&l);
    }
    expect_reject("st_short.safetensors", orig, 5, SS_ERR_FORMAT, "too short", NULL);
    expect_reject("st_trunc.safetensors", orig, n / 2, SS_ERR_FORMAT, "data_offsets",
                  "data section");
    memcpy(b, orig, n);
    iot_put_u64(b, (uint64_t)n);
    expect_reject("st_hlen.safetensors", b, n, SS_ERR_FORMAT, "header length",
                  "past the end");
    memcpy(b, orig, n);
    iot_put_u64(b, UINT64_MAX);
    expect_reject("st_hlen2.safetensors", b, n, SS_ERR_FORMAT, "header length", NULL);
    memcpy(b, orig, n);
    CHECK(iot_patch(b, n, "[300,64]", "[300,65]"));
    expect_reject("st_shape.safetensors", b, n, SS_ERR_SHAPE, "model.embed_tokens.weight",
                  "data_offsets span");
    memcpy(b, orig, n);
    CHECK(iot_patch(b, n, "\"dtype\":\"F32\"", "\"dtype\":\"F16\""));
    expect_reject("st_dtype.safetensors", b, n, SS_ERR_SHAPE, "model.embed_tokens.weight",
                  "F16");
    memcpy(b, orig, n);
    CHECK(iot_patch(b, n, "[454912,531712]", "[454912,931712]"));
    expect_reject("st_outside.safetensors", b, n, SS_ERR_FORMAT, "lm_head.weight",
                  "data section");
    memcpy(b, orig, n);
    CHECK(iot_patch(b, n, "\"shape\":[300,64],", "\"shape\":[300,64]#"));
    expect_reject("st_json.safetensors", b, n, SS_ERR_FORMAT, "malformed JSON", NULL);
    memcpy(b, orig, n);
    CHECK(iot_patch(b, n, "model.layers.0.mlp.up_proj.weight",
                    "model.layers.1.mlp.up_proj.weight"));
    expect_reject("st_dup.safetensors", b, n, SS_ERR_FORMAT, "duplicate tensor name",
                  "model.layers.1.mlp.up_proj.weight");
    memcpy(b, orig, n);
    CHECK(iot_patch(b, n, "\"dtype\":\"F32\"", "\"dtype\":\"I32\""));
    expect_reject("st_i32.safetensors", b, n, SS_ERR_UNSUPPORTED, "model.embed_tokens.weight",
                  "'I32'");
    memcpy(b, orig, n);
    b[8] = '[';
    expect_reject("st_notobj.safetensors", b, n, SS_ERR_FORMAT, "'{'", NULL);
    free(b);
    free(orig);
}

/* ---- small handmade files ------------------------------------------------- */

/* 8-byte length + header + `data` zero bytes. */
static void write_st(const char *path, const char *json, size_t data)
{
    size_t h = strlen(json);
    unsigned char *b = calloc(1, 8 + h + data);
    iot_put_u64(b, h);
    memcpy(b + 8, json, h);
    CHECK(iot_write(path, b, 8 + h + data));
    free(b);
}

static ss_code load_json(const char *name, const char *json, size_t data, ss_tensor_list *l,
                         ss_error *err)
{
    const char *path = iot_tmp(name);
    write_st(path, json, data);
    return ss_safetensors_load(path, l, err);
}

static void handmade(void)
{
    ss_error err = {0};
    ss_tensor_list l = {0};
    /* metadata skipped, scalar and empty tensors, padded header */
    ss_code rc = load_json("h_ok.safetensors",
                           "{\"__metadata__\":{\"format\":\"pt\"},"
                           "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                           "\"e\":{\"dtype\":\"BF16\",\"shape\":[0,7],\"data_offsets\":[4,4]},"
                           "\"h\":{\"dtype\":\"F16\",\"shape\":[2,1,1,3],\"data_offsets\":[4,16]}}"
                           "        ", 16, &l, &err);
    CHECK_MSG(rc == SS_OK, "%s", err.msg);
    CHECK(l.count == 3 && ss_tensor_list_find(&l, "__metadata__") == NULL);
    const ss_tensor *s = ss_tensor_list_find(&l, "s"), *h = ss_tensor_list_find(&l, "h");
    CHECK(s && s->ndim == 0 && s->nbytes == 4);
    CHECK(h && h->ndim == 4 && h->shape[3] == 3 && h->nbytes == 12);
    ss_tensor_list_free(&l);

    struct { const char *json; size_t data; ss_code code; const char *frag; } bad[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, SS_ERR_FORMAT,
         "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
         SS_ERR_UNSUPPORTED, "5 dimensions"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, SS_ERR_FORMAT,
         "shape entry 0"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, SS_ERR_FORMAT,
         "shape entry 0"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
         "\"data_offsets\":[0,4]}}", 4, SS_ERR_FORMAT, "overflows"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4, SS_ERR_FORMAT,
         "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, SS_ERR_FORMAT,
         "data_offsets [8, 4]"},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, SS_ERR_FORMAT, "'dtype'"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, SS_ERR_FORMAT, "'shape'"},
        {"{\"a\":[1,2]}", 0, SS_ERR_FORMAT, "not an object"},
        {"{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
         SS_ERR_UNSUPPORTED, "'F64'"},
        {"{} x", 0, SS_ERR_FORMAT, "after the JSON"},
        {"{\"a\":", 0, SS_ERR_FORMAT, "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ss_error e = {0};
        ss_tensor_list lb = {0};
        char name[64];
        snprintf(name, sizeof name, "h_bad%zu.safetensors", i);
        rc = load_json(name, bad[i].json, bad[i].data, &lb, &e);
        CHECK_ERR(rc, e, bad[i].code, name, bad[i].frag, NULL);
        CHECK(lb.count == 0 && lb.n_maps == 0);
        ss_tensor_list_free(&lb);
    }
    /* an empty header is a valid file with no tensors */
    rc = load_json("h_empty.safetensors", "{}", 0, &l, &err);
    CHECK(rc == SS_OK && l.count == 0);
    ss_tensor_list_free(&l);
    /* not a file */
    ss_error e = {0};
    rc = ss_safetensors_load(iot_tmp("does_not_exist.safetensors"), &l, &e);
    CHECK_ERR(rc, e, SS_ERR_IO, "does_not_exist.safetensors", "cannot open", NULL);
}

/* ---- the streaming writer ------------------------------------------------- */

static int exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* Header first, data appended in pieces (a row at a time): the file is the
 * layout written out by hand here; bad use leaves no file. */
static void streaming_writer(void)
{
    float a[6] = {1, 2, 3, 4, 5, 6};
    uint16_t b[3] = {0x3c00, 0x4000, 0xc000}; /* F16 1, 2, -2 */
    ss_tensor ta = {.name = "a", .dtype = SS_DT_F32, .ndim = 2, .shape = {2, 3}, .nbytes = 24};
    ss_tensor tb = {.name = "b", .dtype = SS_DT_F16, .ndim = 1, .shape = {3}, .nbytes = 6};
    const ss_tensor *t[] = {&ta, &tb};
    const char *path = iot_tmp("w_ok.safetensors");
    ss_error err = {0};
    ss_safetensors_out o;
    ss_code rc = ss_safetensors_open(&o, path, t, 2, &err);
    if (!rc)
        rc = ss_safetensors_put(&o, a, 12, &err);
    if (!rc)
        rc = ss_safetensors_put(&o, a + 3, 12, &err);
    if (!rc)
        rc = ss_safetensors_put(&o, b, 6, &err);
    if (!rc)
        rc = ss_safetensors_close(&o, &err);
    CHECK_MSG(rc == SS_OK, "%s", err.msg);
    const char *json = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                       "\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[24,30]}}";
    size_t h = strlen(json), hp = (h + 7) / 8 * 8, n = 0;
    unsigned char want[512] = {0};
    iot_put_u64(want, hp);
    memcpy(want + 8, json, h);
    memset(want + 8 + h, ' ', hp - h);
    memcpy(want + 8 + hp, a, 24);
    memcpy(want + 8 + hp + 24, b, 6);
    unsigned char *got = iot_read(path, &n);
    CHECK_MSG(got && n == 8 + hp + 30 && !memcmp(got, want, n), "file of %zu bytes, want %zu",
              n, 8 + hp + 30);
    free(got);
    ss_tensor_list l = {0};
    rc = ss_safetensors_load(path, &l, &err);
    CHECK_MSG(rc == SS_OK && l.count == 2, "%s", err.msg);
    const ss_tensor *rb = ss_tensor_list_find(&l, "b");
    CHECK(rb && rb->dtype == SS_DT_F16 && !memcmp(rb->data, b, 6));
    ss_tensor_list_free(&l);

    /* more data than the header states, less, a dtype it cannot write */
    const char *over = iot_tmp("w_over.safetensors"), *under = iot_tmp("w_under.safetensors");
    ss_error e1 = {0}, e2 = {0}, e3 = {0}, e4 = {0};
    rc = ss_safetensors_open(&o, over, t, 1, &e1);
    CHECK(rc == SS_OK);
    rc = ss_safetensors_put(&o, a, 28, &e1);
    CHECK_ERR(rc, e1, SS_ERR_USAGE, "w_over.safetensors", "4 bytes of tensor data past the 24", NULL);
    rc = ss_safetensors_put(&o, a, 4, &e2);
    CHECK(rc == SS_ERR_USAGE); /* the aborted file takes no more */
    rc = ss_safetensors_open(&o, under, t, 2, &e3);
    if (!rc)
        rc = ss_safetensors_put(&o, a, 24, &e3);
    CHECK(rc == SS_OK);
    rc = ss_safetensors_close(&o, &e3);
    CHECK_ERR(rc, e3, SS_ERR_USAGE, "w_under.safetensors", "6 of the 30 data bytes", NULL);
    CHECK(!exists(over) && !exists(under));
    CHECK(ss_test_sh("! ls %s/w_over.safetensors.tmp.* %s/w_under.safetensors.tmp.* "
                     ">/dev/null 2>&1", ss_test_tmp(), ss_test_tmp()) == 0);
    ss_tensor tq = {.name = "q", .dtype = SS_DT_Q8_0, .ndim = 1, .shape = {32}, .nbytes = 34};
    const ss_tensor *tqs[] = {&tq};
    rc = ss_safetensors_open(&o, iot_tmp("w_q.safetensors"), tqs, 1, &e4);
    CHECK_ERR(rc, e4, SS_ERR_USAGE, "tensor q is Q8_0", "only F32, F16 and BF16", NULL);
    CHECK(!exists(iot_tmp("w_q.safetensors")));
}

TEST_MAIN(TEST(all_hf_folders), TEST(qwen2_shards_match_index), TEST(hostile_real),
          TEST(handmade), TEST(streaming_writer))
