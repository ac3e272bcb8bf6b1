/* io/llama2c: the four legacy checkpoints in shared/ load with the README
 * dimensions and agree bit for bit with their GGUF copies (made by
 * llama.cpp's own converter, which reads run.c's layout independently);
 * "ak42" version 1 and 2 files written here from a legacy model read back;
 * hostile headers and sizes are rejected with clear messages. */
#include "io_testutil.h"

#include <math.h>

#include "io/gguf.h"
#include "io/llama2c.h"

static const char *shared(const char *rel) { return ss_test_path("%s/%s", ss_test_shared(), rel); }

typedef struct {
    const char *bin, *gguf;
    int dim, hidden, layers, heads, kv, vocab, seq, shared_cls;
} l2c_model;

static const l2c_model models[] = {
    {"models/stories260K/stories260K.bin", "models/stories260K/stories260K.gguf", 64, 172, 5, 8,
     4, 512, 512, 1},
    {"models/llama2xs_tinystories/model.bin", "models/llama2xs_tinystories/model.gguf", 64, 192,
     5, 8, 4, 512, 256, 1},
    {"models/aidreams260K/aidreams260K.bin", "models/aidreams260K/aidreams260K.gguf", 64, 172, 4,
     4, 4, 512, 128, 1},
    {"fixtures/mistral_mha/model.bin", "fixtures/mistral_mha/model.gguf", 64, 160, 2, 4, 4, 300,
     512, 0},
};

static int same_tensor(const ss_tensor *a, const ss_tensor *b)
{
    if (!a || !b || a->ndim != b->ndim || a->nbytes != b->nbytes || a->dtype != b->dtype)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return memcmp(a->data, b->data, a->nbytes) == 0;
}

static void legacy_models(void)
{
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        const l2c_model *e = &models[i];
        ss_llama2c m;
        ss_error err = {0};
        ss_code rc = ss_llama2c_load(shared(e->bin), &m, &err);
        CHECK_MSG(rc == SS_OK, "%s", err.msg);
        if (rc)
            continue;
        CHECK(m.version == 0 && m.dim == e->dim && m.hidden_dim == e->hidden &&
              m.n_layers == e->layers && m.n_heads == e->heads && m.n_kv_heads == e->kv &&
              m.vocab_size == e->vocab && m.seq_len == e->seq &&
              m.shared_classifier == e->shared_cls);
        CHECK(m.tensors.count == 9 * e->layers + 2 + !e->shared_cls);
        int hd = e->dim / e->heads;
        const ss_tensor *k = ss_tensor_list_find(&m.tensors, "blk.0.attn_k.weight");
        CHECK(k && k->ndim == 2 && k->shape[0] == e->kv * hd && k->shape[1] == e->dim);
        const ss_tensor *w2 = ss_tensor_list_find(&m.tensors, "blk.0.ffn_down.weight");
        CHECK(w2 && w2->shape[0] == e->dim && w2->shape[1] == e->hidden);
        /* every tensor equals the GGUF's tensor of the same name */
        ss_gguf g;
        rc = ss_gguf_load(shared(e->gguf), &g, &err);
        CHECK_MSG(rc == SS_OK, "%s", err.msg);
        if (rc) {
            ss_llama2c_free(&m);
            continue;
        }
        int same = 0;
        for (int t = 0; t < m.tensors.count; t++) {
            const ss_tensor *a = &m.tensors.items[t];
            int ok = same_tensor(a, ss_tensor_list_find(&g.tensors, a->name));
            if (!ok)
                fprintf(stderr, "%s: %s differs from the GGUF\n", e->bin, a->name);
            same += ok;
        }
        CHECK(same == m.tensors.count);
        /* a GGUF that stores output.weight for a shared classifier holds
         * a copy of the embedding */
        const ss_tensor *out = ss_tensor_list_find(&g.tensors, "output.weight");
        if (e->shared_cls && out) {
            const ss_tensor *emb = ss_tensor_list_find(&m.tensors, "token_embd.weight");
            CHECK(emb && memcmp(out->data, emb->data, emb->nbytes) == 0);
        }
        ss_gguf_free(&g);
        ss_llama2c_free(&m);
    }
}

/* ---- writing ak42 files from a legacy model ------------------------------ */

typedef struct {
    unsigned char *b;
    size_t n, cap;
} buf;

static void put(buf *o, const void *p, size_t k)
{
    if (o->n + k > o->cap) {
        o->cap = (o->n + k) * 2;
        o->b = realloc(o->b, o->cap);
    }
    memcpy(o->b + o->n, p, k);
    o->n += k;
}

static void header(buf *o, const ss_llama2c *m, int version, int gs)
{
    unsigned char h[256] = {0};
    iot_put_u32(h, 0x616b3432u);
    iot_put_u32(h + 4, (uint32_t)version);
    int v[7] = {m->dim, m->hidden_dim, m->n_layers, m->n_heads, m->n_kv_heads, m->vocab_size,
                m->seq_len};
    for (int i = 0; i < 7; i++)
        iot_put_u32(h + 8 + 4 * i, (uint32_t)v[i]);
    h[36] = (unsigned char)m->shared_classifier;
    if (version == 2)
        iot_put_u32(h + 37, (uint32_t)gs);
    put(o, h, sizeof h);
}

static const ss_tensor *T(const ss_llama2c *m, const char *kind, int layer)
{
    const char *name = layer < 0 ? kind : ss_test_path("blk.%d.%s.weight", layer, kind);
    return ss_tensor_list_find(&m->tensors, name);
}

/* export.py version1_export order */
static buf write_v1(const ss_llama2c *m)
{
    buf o = {0};
    header(&o, m, 1, 0);
    for (int l = 0; l < m->n_layers; l++)
        put(&o, T(m, "attn_norm", l)->data, T(m, "attn_norm", l)->nbytes);
    for (int l = 0; l < m->n_layers; l++)
        put(&o, T(m, "ffn_norm", l)->data, T(m, "ffn_norm", l)->nbytes);
    put(&o, T(m, "output_norm.weight", -1)->data, (size_t)m->dim * 4);
    put(&o, T(m, "token_embd.weight", -1)->data, T(m, "token_embd.weight", -1)->nbytes);
    static const char *mats[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate",
                                 "ffn_down", "ffn_up"};
    for (int k = 0; k < 7; k++)
        for (int l = 0; l < m->n_layers; l++)
            put(&o, T(m, mats[k], l)->data, T(m, mats[k], l)->nbytes);
    if (!m->shared_classifier)
        put(&o, T(m, "output.weight", -1)->data, T(m, "output.weight", -1)->nbytes);
    return o;
}

/* export.py quantize_q80: per group scale = max|w| / 127, q = round(w / scale) */
static void quantize(const ss_tensor *t, int gs, buf *o, float *deq)
{
    int64_t n = ss_tensor_numel(t);
    float *w = iot_f32(t);
    signed char *q = malloc((size_t)n);
    float *s = malloc((size_t)(n / gs) * 4);
    for (int64_t g = 0; g < n / gs; g++) {
        float mx = 0;
        for (int i = 0; i < gs; i++)
            mx = fmaxf(mx, fabsf(w[g * gs + i]));
        s[g] = mx / 127.0f;
        for (int i = 0; i < gs; i++) {
            q[g * gs + i] = (signed char)nearbyintf(w[g * gs + i] / s[g]);
            deq[g * gs + i] = (float)q[g * gs + i] * s[g];
        }
    }
    put(o, q, (size_t)n);
    put(o, s, (size_t)(n / gs) * 4);
    free(w);
    free(q);
    free(s);
}

static void check_v1_equals_legacy(const char *bin)
{
    ss_llama2c m, v;
    ss_error err = {0};
    CHECK(ss_llama2c_load(shared(bin), &m, &err) == SS_OK);
    if (err.code)
        return;
    buf o = write_v1(&m);
    const char *path = iot_tmp("v1.bin");
    CHECK(iot_write(path, o.b, o.n));
    ss_code rc = ss_llama2c_load(path, &v, &err);
    CHECK_MSG(rc == SS_OK, "%s", err.msg);
    if (!rc) {
        CHECK(v.version == 1 && v.dim == m.dim && v.vocab_size == m.vocab_size &&
              v.shared_classifier == m.shared_classifier && v.tensors.count == m.tensors.count);
        int same = 0;
        for (int t = 0; t < m.tensors.count; t++)
            same += same_tensor(&m.tensors.items[t],
                                ss_tensor_list_find(&v.tensors, m.tensors.items[t].name));
        CHECK(same == m.tensors.count);
        ss_llama2c_free(&v);
    }
    /* one byte short, one byte long */
    ss_error e2 = {0};
    rc = ss_llama2c_parse(path, o.b, o.n - 1, &v, &e2);
    CHECK_ERR(rc, e2, SS_ERR_FORMAT, "version 1", "truncated", NULL);
    free(o.b);
    ss_llama2c_free(&m);
}

static void version1(void)
{
    check_v1_equals_legacy("models/stories260K/stories260K.bin");
    check_v1_equals_legacy("fixtures/mistral_mha/model.bin"); /* separate classifier */
}

static void version2(void)
{
    ss_llama2c m, v;
    ss_error err = {0};
    CHECK(ss_llama2c_load(shared("fixtures/mistral_mha/model.bin"), &m, &err) == SS_OK);
    if (err.code)
        return;
    const int gs = 32;
    buf o = {0};
    header(&o, &m, 2, gs);
    for (int l = 0; l < m.n_layers; l++)
        put(&o, T(&m, "attn_norm", l)->data, T(&m, "attn_norm", l)->nbytes);
    for (int l = 0; l < m.n_layers; l++)
        put(&o, T(&m, "ffn_norm", l)->data, T(&m, "ffn_norm", l)->nbytes);
    put(&o, T(&m, "output_norm.weight", -1)->data, (size_t)m.dim * 4);
    /* quantized tensors in file order, with the values a reader must get */
    const char *names[1 + 7 * 2 + 1];
    float *want[1 + 7 * 2 + 1];
    int nq = 0;
    static const char *mats[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate",
                                 "ffn_down", "ffn_up"};
    names[nq++] = "token_embd.weight";
    for (int k = 0; k < 7; k++)
        for (int l = 0; l < m.n_layers; l++) {
            static char nm[14][48];
            snprintf(nm[k * 2 + l], 48, "blk.%d.%s.weight", l, mats[k]);
            names[nq++] = nm[k * 2 + l];
        }
    names[nq++] = "output.weight";
    for (int i = 0; i < nq; i++) {
        const ss_tensor *t = ss_tensor_list_find(&m.tensors, names[i]);
        want[i] = malloc((size_t)ss_tensor_numel(t) * 4);
        quantize(t, gs, &o, want[i]);
    }
    const char *path = iot_tmp("v2.bin");
    CHECK(iot_write(path, o.b, o.n));
    ss_code rc = ss_llama2c_load(path, &v, &err);
    CHECK_MSG(rc == SS_OK, "%s", err.msg);
    if (!rc) {
        CHECK(v.version == 2 && v.tensors.count == m.tensors.count);
        int ok = 0;
        double worst = 0;
        for (int i = 0; i < nq; i++) {
            const ss_tensor *t = ss_tensor_list_find(&v.tensors, names[i]);
            const ss_tensor *t0 = ss_tensor_list_find(&m.tensors, names[i]);
            if (!t || t->dtype != SS_DT_F32 || t->shape[0] != t0->shape[0])
                continue;
            float *got = iot_f32(t), *orig = iot_f32(t0);
            int64_t n = ss_tensor_numel(t);
            ok += memcmp(got, want[i], (size_t)n * 4) == 0;
            for (int64_t e = 0; e < n; e++)
                worst = fmax(worst, fabs(got[e] - orig[e]));
            free(got);
            free(orig);
        }
        CHECK(ok == nq);
        CHECK(worst > 0 && worst < 0.01); /* int8 groups of weights ~0.2 */
        for (int l = 0; l < m.n_layers; l++)
            CHECK(same_tensor(T(&m, "ffn_norm", l), T(&v, "ffn_norm", l)));
        ss_llama2c_free(&v);
    }
    /* a group size that does not divide dim */
    iot_put_u32(o.b + 37, 48);
    ss_error e2 = {0};
    rc = ss_llama2c_parse("v2_gs48.bin", o.b, o.n, &v, &e2);
    CHECK_ERR(rc, e2, SS_ERR_FORMAT, "v2_gs48.bin", "group_size 48", NULL);
    for (int i = 0; i < nq; i++)
        free(want[i]);
    free(o.b);
    ss_llama2c_free(&m);
}

/* ---- hostile ----------------------------------------------------------------- */

static void expect_reject(const char *name, const unsigned char *b, size_t n, ss_code code,
                          const char *frag1, const char *frag2)
{
    const char *path = iot_tmp(name);
    CHECK(iot_write(path, b, n));
    ss_llama2c m;
    ss_error err = {0};
    ss_code rc = ss_llama2c_load(path, &m, &err);
    CHECK_ERR(rc, err, code, path, frag1, frag2);
    CHECK(m.tensors.count == 0 && m.tensors.n_maps == 0);
}

static void hostile(void)
{
    size_t n;
    unsigned char *orig = iot_read(shared("models/stories260K/stories260K.bin"), &n);
    unsigned char *b = malloc(n + 8);
    CHECK(orig && b);
    if (!orig || !b)
        return;
    expect_reject("l_short.bin", orig, 10, SS_ERR_FORMAT, "too short", "header");
    expect_reject("l_trunc.bin", orig, n - 4, SS_ERR_FORMAT, "implies exactly", "truncated");
    memcpy(b, orig, n);
    memset(b + n, 0, 8);
    expect_reject("l_trailing.bin", b, n + 8, SS_ERR_FORMAT, "implies exactly",
                  "trailing bytes");
    struct { int field; int32_t value; const char *frag1, *frag2; } dims[] = {
        {0, 0, "'dim' is 0", NULL},
        {0, -64, "'dim' is -64", NULL},
        {2, -1, "'n_layers' is -1", NULL},
        {3, 7, "n_heads 7 does not divide dim 64", NULL},
        {4, 3, "n_kv_heads 3 does not divide n_heads 8", NULL},
        {4, 0, "'n_kv_heads' is 0", NULL},
        {5, INT32_MIN, "vocab_size", NULL},
        {6, 0, "'seq_len' is 0", NULL},
        {0, (1 << 24) + 1, "'dim' is 16777217", NULL},
        {1, 1 << 24, "implies exactly", "truncated"},
        {0, 2000000000, "'dim' is 2000000000", NULL},
    };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        memcpy(b, orig, n);
        iot_put_u32(b + 4 * dims[i].field, (uint32_t)dims[i].value);
        char name[32];
        snprintf(name, sizeof name, "l_dims%zu.bin", i);
        expect_reject(name, b, n, SS_ERR_FORMAT, dims[i].frag1, dims[i].frag2);
    }
    /* head size 1: 64 heads of 64 dims */
    memcpy(b, orig, n);
    iot_put_u32(b + 12, 64);
    iot_put_u32(b + 16, 64);
    expect_reject("l_oddhead.bin", b, n, SS_ERR_FORMAT, "head size 1", "odd");
    /* every field huge: sizes overflow 64 bits or exceed the file, never wrap */
    memcpy(b, orig, n);
    for (int f = 0; f < 7; f++)
        iot_put_u32(b + 4 * f, f == 2 ? 1 << 16 : f == 3 || f == 4 ? 64 : 1 << 24);
    expect_reject("l_huge.bin", b, n, SS_ERR_FORMAT, "overflow", NULL);
    /* ak42 headers */
    unsigned char h[300] = {0};
    iot_put_u32(h, 0x616b3432u);
    iot_put_u32(h + 4, 3);
    expect_reject("l_v3.bin", h, sizeof h, SS_ERR_UNSUPPORTED, "version 3", NULL);
    iot_put_u32(h + 4, 1);
    expect_reject("l_v1short.bin", h, 100, SS_ERR_FORMAT, "too short", "'ak42'");
    expect_reject("l_v1zero.bin", h, sizeof h, SS_ERR_FORMAT, "'dim' is 0", NULL);
    ss_llama2c m;
    ss_error err = {0};
    const char *gg = shared("fixtures/mistral_mha/model.gguf");
    ss_code rc = ss_llama2c_load(gg, &m, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, gg, "is a GGUF file", NULL);
    free(b);
    free(orig);
}

TEST_MAIN(TEST(legacy_models), TEST(version1), TEST(version2), TEST(hostile))
