/* io/gguf: every GGUF in shared/ loads with the README shapes and metadata;
 * the F16 and Q8_0 copies of mistral_mha agree with the F32 file the way
 * their formats promise; a GGUF written here (v1, v2, v3, every value type)
 * reads back; hostile variants of a real file are rejected with a message
 * naming the file and the problem. */
#include "io_testutil.h"

#include <math.h>

#include "io/gguf.h"

static const char *shared(const char *rel) { return ss_test_path("%s/%s", ss_test_shared(), rel); }

typedef struct {
    const char *file, *arch;
    int hidden, inter, layers, heads, kv, head_dim, vocab, ctx;
    int has_output, has_bias, has_rope_freqs, n_tensors;
} gguf_model;

/* README tables (+ NOTES: stories260K's GGUF stores output.weight and says
 * context 2048) */
static const gguf_model models[] = {
    {"models/stories260K/stories260K.gguf", "llama", 64, 172, 5, 8, 4, 8, 512, 2048, 1, 0, 0, 48},
    {"models/llama2xs_tinystories/model.gguf", "llama", 64, 192, 5, 8, 4, 8, 512, 256, 0, 0, 0, 47},
    {"models/aidreams260K/aidreams260K.gguf", "llama", 64, 172, 4, 4, 4, 16, 512, 128, 0, 0, 0, 38},
    {"fixtures/llama3_gqa/model.gguf", "llama", 128, 256, 2, 4, 2, 32, 512, 512, 1, 0, 1, 22},
    {"fixtures/qwen2/model.gguf", "qwen2", 128, 256, 2, 4, 2, 32, 384, 512, 0, 1, 0, 26},
    {"fixtures/gemma/model.gguf", "gemma", 64, 192, 3, 4, 1, 32, 320, 512, 0, 0, 0, 29},
    {"fixtures/mistral_mha/model.gguf", "llama", 64, 160, 2, 4, 4, 16, 300, 512, 1, 0, 0, 21},
    {"fixtures/mistral_mha/model.f16.gguf", "llama", 64, 160, 2, 4, 4, 16, 300, 512, 1, 0, 0, 21},
    {"fixtures/mistral_mha/model.q8_0.gguf", "llama", 64, 160, 2, 4, 4, 16, 300, 512, 1, 0, 0, 21},
};

static int shape_is(const ss_gguf *g, const char *name, int ndim, int64_t d0, int64_t d1)
{
    const ss_tensor *t = ss_tensor_list_find(&g->tensors, name);
    int ok = t && t->ndim == ndim && t->shape[0] == d0 && (ndim < 2 || t->shape[1] == d1);
    if (!ok)
        fprintf(stderr, "%s: %s %s\n", g->path, name, t ? "has the wrong shape" : "missing");
    return ok;
}

static int64_t get_int(const ss_gguf *g, const char *arch, const char *key)
{
    int64_t v = -1;
    ss_error err = {0};
    if (ss_gguf_get_int(g, ss_test_path("%s.%s", arch, key), &v, &err) != SS_OK)
        fprintf(stderr, "%s\n", err.msg);
    return v;
}

static void all_model_ggufs(void)
{
    char name[96];
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        const gguf_model *m = &models[i];
        ss_gguf g;
        ss_error err = {0};
        ss_code rc = ss_gguf_load(shared(m->file), &g, &err);
        CHECK_MSG(rc == SS_OK, "%s", err.msg);
        if (rc)
            continue;
        CHECK(g.version == 3 && g.alignment == 32);
        CHECK_MSG(g.tensors.count == m->n_tensors, "%s: %d tensors", m->file, g.tensors.count);
        const char *arch = NULL;
        CHECK(ss_gguf_get_str(&g, "general.architecture", &arch, &err) == SS_OK &&
              strcmp(arch, m->arch) == 0);
        CHECK(get_int(&g, m->arch, "embedding_length") == m->hidden);
        CHECK(get_int(&g, m->arch, "feed_forward_length") == m->inter);
        CHECK(get_int(&g, m->arch, "block_count") == m->layers);
        CHECK(get_int(&g, m->arch, "attention.head_count") == m->heads);
        CHECK(get_int(&g, m->arch, "attention.head_count_kv") == m->kv);
        CHECK(get_int(&g, m->arch, "context_length") == m->ctx);
        double eps = 0;
        CHECK(ss_gguf_get_float(&g, ss_test_path("%s.attention.layer_norm_rms_epsilon", m->arch),
                                &eps, &err) == SS_OK && eps > 0 && eps < 1e-4);
        const ss_gguf_kv *tok = ss_gguf_find(&g, "tokenizer.ggml.tokens");
        CHECK(tok && tok->type == SS_GGUF_ARRAY && tok->arr_type == SS_GGUF_STRING &&
              tok->arr_len == (uint64_t)m->vocab && strcmp(tok->strs[1], "<s>") == 0);
        int q = m->heads * m->head_dim, kv = m->kv * m->head_dim;
        CHECK(shape_is(&g, "token_embd.weight", 2, m->vocab, m->hidden));
        CHECK(shape_is(&g, "output_norm.weight", 1, m->hidden, 0));
        CHECK((ss_tensor_list_find(&g.tensors, "output.weight") != NULL) == m->has_output);
        if (m->has_output)
            CHECK(shape_is(&g, "output.weight", 2, m->vocab, m->hidden));
        if (m->has_rope_freqs)
            CHECK(shape_is(&g, "rope_freqs.weight", 1, m->head_dim / 2, 0));
        for (int j = 0; j < m->layers; j++) {
#define P(s) (snprintf(name, sizeof name, "blk.%d." s, j), name)
            CHECK(shape_is(&g, P("attn_q.weight"), 2, q, m->hidden));
            CHECK(shape_is(&g, P("attn_k.weight"), 2, kv, m->hidden));
            CHECK(shape_is(&g, P("attn_v.weight"), 2, kv, m->hidden));
            CHECK(shape_is(&g, P("attn_output.weight"), 2, m->hidden, q));
            CHECK(shape_is(&g, P("ffn_gate.weight"), 2, m->inter, m->hidden));
            CHECK(shape_is(&g, P("ffn_up.weight"), 2, m->inter, m->hidden));
            CHECK(shape_is(&g, P("ffn_down.weight"), 2, m->hidden, m->inter));
            CHECK(shape_is(&g, P("attn_norm.weight"), 1, m->hidden, 0));
            CHECK(shape_is(&g, P("ffn_norm.weight"), 1, m->hidden, 0));
            if (m->has_bias) {
                CHECK(shape_is(&g, P("attn_q.bias"), 1, q, 0));
                CHECK(shape_is(&g, P("attn_k.bias"), 1, kv, 0));
                CHECK(shape_is(&g, P("attn_v.bias"), 1, kv, 0));
            }
#undef P
        }
        ss_gguf_free(&g);
    }
}

/* Vocabulary-only GGUFs: no tensors, large string arrays. */
static void vocab_ggufs(void)
{
    ss_gguf g;
    ss_error err = {0};
    ss_code rc = ss_gguf_load(shared("tokenizers/llama-spm/ggml-vocab-llama-spm.gguf"), &g, &err);
    CHECK_MSG(rc == SS_OK, "%s", err.msg);
    if (!rc) {
        CHECK(g.tensors.count == 0);
        const ss_gguf_kv *t = ss_gguf_find(&g, "tokenizer.ggml.tokens");
        const ss_gguf_kv *s = ss_gguf_find(&g, "tokenizer.ggml.scores");
        const ss_gguf_kv *ty = ss_gguf_find(&g, "tokenizer.ggml.token_type");
        CHECK(t && t->arr_len == 32000 && strcmp(t->strs[0], "<unk>") == 0 &&
              strcmp(t->strs[3], "<0x00>") == 0 && t->str_lens[3] == 6);
        CHECK(s && s->arr_type == SS_GGUF_F32 && s->arr_len == 32000);
        CHECK(ty && ty->arr_type == SS_GGUF_I32 && ty->arr_len == 32000 && ty->nums[0] == 2 &&
              ty->nums[1] == 3 && ty->nums[3] == 6); /* unknown, control, byte */
        int lens_ok = 1;
        for (uint64_t i = 0; t && i < t->arr_len; i++)
            lens_ok &= strlen(t->strs[i]) == t->str_lens[i];
        CHECK(lens_ok);
        int64_t bos;
        CHECK(ss_gguf_get_int(&g, "tokenizer.ggml.bos_token_id", &bos, &err) == SS_OK && bos == 1);
        ss_gguf_free(&g);
    }
    rc = ss_gguf_load(shared("tokenizers/gpt-2/ggml-vocab-gpt-2.gguf"), &g, &err);
    CHECK_MSG(rc == SS_OK, "%s", err.msg);
    if (!rc) {
        const ss_gguf_kv *t = ss_gguf_find(&g, "tokenizer.ggml.tokens");
        const ss_gguf_kv *mg = ss_gguf_find(&g, "tokenizer.ggml.merges");
        CHECK(g.tensors.count == 0);
        CHECK(t && t->arr_len == 50257 && strcmp(t->strs[0], "!") == 0 &&
              strcmp(t->strs[50256], "<|endoftext|>") == 0);
        CHECK(mg && mg->arr_len == 50000 && strcmp(mg->strs[0], "\xc4\xa0 t") == 0);
        ss_gguf_free(&g);
    }
}

static void getters(void)
{
    ss_gguf g;
    ss_error err = {0};
    const char *path = shared("fixtures/mistral_mha/model.gguf");
    CHECK(ss_gguf_load(path, &g, &err) == SS_OK);
    int64_t v;
    double f;
    const char *s;
    CHECK(ss_gguf_get_float(&g, "llama.rope.freq_base", &f, &err) == SS_OK && f == 10000.0);
    CHECK(ss_gguf_get_float(&g, "llama.block_count", &f, &err) == SS_OK && f == 2.0);
    ss_code rc = ss_gguf_get_int(&g, "llama.no_such_key", &v, &err);
    CHECK_ERR(rc, err, SS_ERR_MISSING, path, "'llama.no_such_key'", "missing");
    ss_error_clear(&err);
    rc = ss_gguf_get_int(&g, "general.architecture", &v, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, path, "is a string", "expected an integer");
    ss_error_clear(&err);
    rc = ss_gguf_get_str(&g, "llama.block_count", &s, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, "'llama.block_count'", "u32", "expected a string");
    ss_error_clear(&err);
    rc = ss_gguf_get_int(&g, "tokenizer.ggml.tokens", &v, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, "array", NULL, NULL);
    ss_error_clear(&err);
    rc = ss_gguf_get_float(&g, "tokenizer.ggml.add_bos_token", &f, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, "bool", "expected a number", NULL);
    ss_gguf_free(&g);
}

/* ---- F16 and Q8_0 copies of mistral_mha against its F32 GGUF ------------ */

static uint16_t ref_f2h(float x)
{
    _Float16 h = (_Float16)x;
    uint16_t u;
    memcpy(&u, &h, 2);
    return u;
}

static float ref_h2f(uint16_t u)
{
    _Float16 h;
    memcpy(&h, &u, 2);
    return (float)h;
}

static void f16_and_q8_0_copies(void)
{
    ss_gguf g32, g16, g8;
    ss_error err = {0};
    CHECK(ss_gguf_load(shared("fixtures/mistral_mha/model.gguf"), &g32, &err) == SS_OK);
    CHECK(ss_gguf_load(shared("fixtures/mistral_mha/model.f16.gguf"), &g16, &err) == SS_OK);
    CHECK(ss_gguf_load(shared("fixtures/mistral_mha/model.q8_0.gguf"), &g8, &err) == SS_OK);
    if (err.code)
        return;
    int n_f16 = 0, n_q8 = 0, bad16 = 0, bad_deq16 = 0, bad8 = 0, bad_deq8 = 0, bad_amax = 0;
    double worst8 = 0;
    for (int i = 0; i < g32.tensors.count; i++) {
        const ss_tensor *a = &g32.tensors.items[i];
        const ss_tensor *h = ss_tensor_list_find(&g16.tensors, a->name);
        const ss_tensor *q = ss_tensor_list_find(&g8.tensors, a->name);
        CHECK(h && q && h->ndim == a->ndim && q->ndim == a->ndim &&
              h->shape[0] == a->shape[0] && q->shape[0] == a->shape[0]);
        if (!h || !q)
            continue;
        int64_t n = ss_tensor_numel(a);
        float *x = iot_f32(a), *xh = iot_f32(h), *xq = iot_f32(q);
        /* 2-D weights are converted, norm vectors stay F32 */
        CHECK(h->dtype == (a->ndim == 2 ? SS_DT_F16 : SS_DT_F32));
        CHECK(q->dtype == (a->ndim == 2 ? SS_DT_Q8_0 : SS_DT_F32));
        if (h->dtype == SS_DT_F16) {
            n_f16++;
            const unsigned char *raw = h->data;
            for (int64_t e = 0; e < n; e++) {
                uint16_t stored;
                memcpy(&stored, raw + 2 * e, 2);
                bad16 += stored != ref_f2h(x[e]);     /* the file holds f16(x) */
                bad_deq16 += xh[e] != ref_h2f(stored); /* and we decode it exactly */
            }
        } else {
            bad16 += memcmp(x, xh, (size_t)n * 4) != 0;
        }
        if (q->dtype == SS_DT_Q8_0) {
            n_q8++;
            const unsigned char *raw = q->data;
            for (int64_t b = 0; b < n / 32; b++) {
                uint16_t d16;
                memcpy(&d16, raw + 34 * b, 2);
                double d = ref_h2f(d16);
                const signed char *qs = (const signed char *)(raw + 34 * b + 2);
                int qmax = 0;
                for (int j = 0; j < 32; j++) {
                    int64_t e = 32 * b + j;
                    qmax = abs(qs[j]) > qmax ? abs(qs[j]) : qmax;
                    bad_deq8 += xq[e] != (float)(d * qs[j]);
                    /* half a step of the fp32 scale, plus the fp16 rounding
                     * of that scale times |q| <= 127 */
                    double err8 = fabs(x[e] - d * qs[j]);
                    double tol = 0.5 * fabs(d) + 127 * fabs(d) * 0x1p-11 + 1e-7;
                    bad8 += err8 > tol;
                    if (d != 0 && err8 / fabs(d) > worst8)
                        worst8 = err8 / fabs(d);
                }
                bad_amax += d != 0 && qmax != 127; /* the block maximum maps to +-127 */
            }
        } else {
            bad8 += memcmp(x, xq, (size_t)n * 4) != 0;
        }
        free(x);
        free(xh);
        free(xq);
    }
    CHECK(n_f16 == 16 && n_q8 == 16); /* README: the 16 2-D weights */
    CHECK_MSG(bad16 == 0 && bad_deq16 == 0, "f16: %d stored, %d decoded mismatches", bad16,
              bad_deq16);
    CHECK_MSG(bad8 == 0 && bad_deq8 == 0 && bad_amax == 0,
              "q8_0: %d beyond half a step (worst %.3f steps), %d decode, %d amax", bad8, worst8,
              bad_deq8, bad_amax);
    ss_gguf_free(&g32);
    ss_gguf_free(&g16);
    ss_gguf_free(&g8);
}

/* ---- a GGUF written here ------------------------------------------------- */

typedef struct {
    unsigned char *b;
    size_t n, cap;
    int v; /* GGUF version */
} gb;

static void gb_raw(gb *g, const void *p, size_t k)
{
    if (g->n + k > g->cap) {
        g->cap = (g->n + k) * 2 + 256;
        g->b = realloc(g->b, g->cap);
    }
    memcpy(g->b + g->n, p, k);
    g->n += k;
}

static void gb_uint(gb *g, uint64_t v, int k)
{
    unsigned char t[8];
    for (int i = 0; i < k; i++)
        t[i] = (unsigned char)(v >> (8 * i));
    gb_raw(g, t, (size_t)k);
}

static void gb_cnt(gb *g, uint64_t v) { gb_uint(g, v, g->v >= 2 ? 8 : 4); }
static void gb_str(gb *g, const char *s)
{
    gb_cnt(g, strlen(s));
    gb_raw(g, s, strlen(s));
}
static void gb_key(gb *g, const char *k, uint32_t type)
{
    gb_str(g, k);
    gb_uint(g, type, 4);
}
static void gb_pad(gb *g, size_t a)
{
    while (g->n % a)
        gb_uint(g, 0, 1);
}

/* Tensor infos of the file written below: ggml type ids and ne. */
static const struct { const char *name; uint32_t type; int nd; uint64_t ne[2]; size_t bytes; }
    tens[] = {{"t.f32", 0, 2, {3, 2}, 24},     {"t.f16", 1, 1, {5, 0}, 10},
              {"t.bf16", 30, 1, {4, 0}, 8},    {"t.q8_0", 8, 2, {32, 2}, 68},
              {"t.q4_0", 2, 1, {64, 0}, 36},   {"t.q4_k", 12, 2, {256, 1}, 144},
              {"t.q6_k", 14, 1, {256, 0}, 210}};
enum { N_TENS = sizeof tens / sizeof tens[0] };

static gb build_gguf(int version, uint64_t align)
{
    gb g = {NULL, 0, 0, version};
    gb_raw(&g, "GGUF", 4);
    gb_uint(&g, (uint64_t)version, 4);
    gb_cnt(&g, N_TENS);
    gb_cnt(&g, 18);
    gb_key(&g, "general.alignment", SS_GGUF_U32);
    gb_uint(&g, align, 4);
    gb_key(&g, "k.u8", SS_GGUF_U8);
    gb_uint(&g, 200, 1);
    gb_key(&g, "k.i8", SS_GGUF_I8);
    gb_uint(&g, (uint8_t)-5, 1);
    gb_key(&g, "k.u16", SS_GGUF_U16);
    gb_uint(&g, 60000, 2);
    gb_key(&g, "k.i16", SS_GGUF_I16);
    gb_uint(&g, (uint16_t)-30000, 2);
    gb_key(&g, "k.u32", SS_GGUF_U32);
    gb_uint(&g, 4000000000u, 4);
    gb_key(&g, "k.i32", SS_GGUF_I32);
    gb_uint(&g, (uint32_t)-2000000000, 4);
    float f = 1.5f;
    uint32_t fu;
    memcpy(&fu, &f, 4);
    gb_key(&g, "k.f32", SS_GGUF_F32);
    gb_uint(&g, fu, 4);
    gb_key(&g, "k.bool", SS_GGUF_BOOL);
    gb_uint(&g, 1, 1);
    gb_key(&g, "k.str", SS_GGUF_STRING);
    gb_str(&g, "hello");
    gb_key(&g, "k.u64", SS_GGUF_U64);
    gb_uint(&g, (1ull << 63) + 5, 8);
    gb_key(&g, "k.i64", SS_GGUF_I64);
    gb_uint(&g, (uint64_t)-(1ll << 40), 8);
    double d = 0.1;
    uint64_t du;
    memcpy(&du, &d, 8);
    gb_key(&g, "k.f64", SS_GGUF_F64);
    gb_uint(&g, du, 8);
    gb_key(&g, "k.arr_i32", SS_GGUF_ARRAY);
    gb_uint(&g, SS_GGUF_I32, 4);
    gb_cnt(&g, 3);
    gb_uint(&g, 1, 4);
    gb_uint(&g, (uint32_t)-2, 4);
    gb_uint(&g, 3, 4);
    gb_key(&g, "k.arr_str", SS_GGUF_ARRAY);
    gb_uint(&g, SS_GGUF_STRING, 4);
    gb_cnt(&g, 3);
    gb_str(&g, "a");
    gb_str(&g, "");
    gb_str(&g, "ccc");
    gb_key(&g, "k.arr_f32", SS_GGUF_ARRAY);
    gb_uint(&g, SS_GGUF_F32, 4);
    gb_cnt(&g, 2);
    gb_uint(&g, fu, 4);
    gb_uint(&g, fu, 4);
    gb_key(&g, "k.arr_empty", SS_GGUF_ARRAY);
    gb_uint(&g, SS_GGUF_U8, 4);
    gb_cnt(&g, 0);
    gb_key(&g, "k.arr_bool", SS_GGUF_ARRAY);
    gb_uint(&g, SS_GGUF_BOOL, 4);
    gb_cnt(&g, 2);
    gb_uint(&g, 0, 1);
    gb_uint(&g, 1, 1);
    uint64_t off = 0;
    for (int i = 0; i < N_TENS; i++) {
        gb_str(&g, tens[i].name);
        gb_uint(&g, (uint64_t)tens[i].nd, 4);
        for (int k = 0; k < tens[i].nd; k++)
            gb_cnt(&g, tens[i].ne[k]);
        gb_uint(&g, tens[i].type, 4);
        gb_uint(&g, off, 8);
        off += (tens[i].bytes + align - 1) / align * align;
    }
    gb_pad(&g, align);
    /* tensor i's bytes are all (i + 1), so each view can be told apart */
    for (int i = 0; i < N_TENS; i++) {
        for (size_t k = 0; k < tens[i].bytes; k++)
            gb_uint(&g, (uint64_t)(i + 1), 1);
        gb_pad(&g, align);
    }
    return g;
}

static void check_built(const ss_gguf *g, int version, uint64_t align)
{
    ss_error err = {0};
    int64_t v;
    double f;
    const char *s;
    CHECK(g->version == (uint32_t)version && g->alignment == align && g->n_kv == 18);
    CHECK(ss_gguf_get_int(g, "k.u8", &v, &err) == SS_OK && v == 200);
    CHECK(ss_gguf_get_int(g, "k.i8", &v, &err) == SS_OK && v == -5);
    CHECK(ss_gguf_get_int(g, "k.u16", &v, &err) == SS_OK && v == 60000);
    CHECK(ss_gguf_get_int(g, "k.i16", &v, &err) == SS_OK && v == -30000);
    CHECK(ss_gguf_get_int(g, "k.u32", &v, &err) == SS_OK && v == 4000000000ll);
    CHECK(ss_gguf_get_int(g, "k.i32", &v, &err) == SS_OK && v == -2000000000ll);
    CHECK(ss_gguf_get_int(g, "k.i64", &v, &err) == SS_OK && v == -(1ll << 40));
    CHECK(ss_gguf_get_float(g, "k.f32", &f, &err) == SS_OK && f == 1.5);
    CHECK(ss_gguf_get_float(g, "k.f64", &f, &err) == SS_OK && f == 0.1);
    CHECK(ss_gguf_get_str(g, "k.str", &s, &err) == SS_OK && strcmp(s, "hello") == 0);
    CHECK(ss_gguf_find(g, "k.bool")->num.u == 1);
    CHECK(err.code == SS_OK);
    ss_code rc = ss_gguf_get_int(g, "k.u64", &v, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, "'k.u64'", "too large", NULL);
    CHECK(ss_gguf_find(g, "k.u64")->num.u == (1ull << 63) + 5);
    const ss_gguf_kv *a = ss_gguf_find(g, "k.arr_i32");
    CHECK(a && a->arr_len == 3 && a->nums[0] == 1 && a->nums[1] == -2 && a->nums[2] == 3);
    a = ss_gguf_find(g, "k.arr_str");
    CHECK(a && a->arr_len == 3 && strcmp(a->strs[0], "a") == 0 && a->str_lens[1] == 0 &&
          strcmp(a->strs[1], "") == 0 && strcmp(a->strs[2], "ccc") == 0);
    a = ss_gguf_find(g, "k.arr_f32");
    CHECK(a && a->arr_len == 2 && a->nums[1] == 1.5);
    a = ss_gguf_find(g, "k.arr_empty");
    CHECK(a && a->arr_len == 0);
    a = ss_gguf_find(g, "k.arr_bool");
    CHECK(a && a->arr_len == 2 && a->nums[0] == 0 && a->nums[1] == 1);
    static const ss_dtype want_dt[N_TENS] = {SS_DT_F32, SS_DT_F16, SS_DT_BF16, SS_DT_Q8_0,
                                             SS_DT_Q4_0, SS_DT_Q4_K, SS_DT_Q6_K};
    CHECK(g->tensors.count == N_TENS);
    for (int i = 0; i < N_TENS; i++) {
        const ss_tensor *t = ss_tensor_list_find(&g->tensors, tens[i].name);
        CHECK_MSG(t && t->dtype == want_dt[i] && t->ndim == tens[i].nd &&
                  t->nbytes == tens[i].bytes, "%s", tens[i].name);
        if (!t)
            continue;
        /* ne reversed into row-major shape */
        for (int k = 0; k < t->ndim; k++)
            CHECK(t->shape[k] == (int64_t)tens[i].ne[t->ndim - 1 - k]);
        const unsigned char *p = t->data;
        CHECK(p[0] == i + 1 && p[t->nbytes - 1] == i + 1);
    }
}

static void written_versions(void)
{
    const int versions[] = {1, 2, 3};
    const uint64_t aligns[] = {32, 64, 8};
    for (int vi = 0; vi < 3; vi++) {
        gb b = build_gguf(versions[vi], aligns[vi]);
        const char *path = iot_tmp("written.gguf");
        CHECK(iot_write(path, b.b, b.n));
        ss_gguf g;
        ss_error err = {0};
        ss_code rc = ss_gguf_load(path, &g, &err);
        CHECK_MSG(rc == SS_OK, "v%d: %s", versions[vi], err.msg);
        if (!rc) {
            check_built(&g, versions[vi], aligns[vi]);
            ss_gguf_free(&g);
        }
        rc = ss_gguf_parse("memory", b.b, b.n, &g, &err);
        CHECK(rc == SS_OK);
        if (!rc) {
            check_built(&g, versions[vi], aligns[vi]);
            const ss_tensor *t = ss_tensor_list_find(&g.tensors, "t.f32");
            CHECK(t && (const unsigned char *)t->data > b.b &&
                  (const unsigned char *)t->data < b.b + b.n);
            ss_gguf_free(&g);
        }
        free(b.b);
    }
}

/* ---- hostile inputs ---------------------------------------------------------- */

static void expect_reject(const char *name, const unsigned char *b, size_t n, ss_code code,
                          const char *frag1, const char *frag2)
{
    const char *path = iot_tmp(name);
    CHECK(iot_write(path, b, n));
    ss_gguf g;
    ss_error err = {0};
    ss_code rc = ss_gguf_load(path, &g, &err);
    CHECK_ERR(rc, err, code, path, frag1, frag2);
    CHECK(g.n_kv == 0 && g.tensors.count == 0 && g.kvs == NULL); /* left empty */
    ss_error e2 = {0};
    CHECK(ss_gguf_parse(path, b, n, &g, &e2) == code);
}

/* Offset of a tensor info's fields in a v3 file: the name is unique text. */
static size_t info_at(const unsigned char *b, size_t n, const char *name)
{
    unsigned char *p = memmem(b, n, name, strlen(name));
    return p ? (size_t)(p - b) + strlen(name) : 0;
}

static void hostile_real(void)
{
    size_t n;
    unsigned char *orig = iot_read(shared("fixtures/mistral_mha/model.gguf"), &n);
    unsigned char *b = malloc(n);
    CHECK(orig && b);
    if (!orig || !b)
        return;
    expect_reject("g_tiny.gguf", orig, 3, SS_ERR_FORMAT, "too short", NULL);
    /* counts shrunk so that they fit, then cut inside the second key/value */
    memcpy(b, orig, n);
    iot_put_u64(b + 8, 0);
    iot_put_u64(b + 16, 3);
    expect_reject("g_trunc_key.gguf", b, 100, SS_ERR_FORMAT, "general.name", "truncated");
    iot_put_u64(b + 16, 2);
    expect_reject("g_trunc_key2.gguf", b, 54, SS_ERR_FORMAT, "truncated",
                  "general.architecture");
    expect_reject("g_trunc_kv.gguf", orig, 1000, SS_ERR_FORMAT, "tokenizer.ggml.tokens",
                  "cannot fit");
    expect_reject("g_trunc_data.gguf", orig, n - 100, SS_ERR_FORMAT, "beyond the end", NULL);
    memcpy(b, orig, n);
    b[0] = 'X';
    expect_reject("g_magic.gguf", b, n, SS_ERR_FORMAT, "not a GGUF file", "magic");
    memcpy(b, orig, n);
    iot_put_u32(b + 4, 4);
    expect_reject("g_version.gguf", b, n, SS_ERR_UNSUPPORTED, "GGUF version 4", NULL);
    iot_put_u32(b + 4, 0x03000000u);
    expect_reject("g_bigendian.gguf", b, n, SS_ERR_UNSUPPORTED, "big-endian", NULL);
    memcpy(b, orig, n);
    iot_put_u64(b + 8, 1000000000000000ull);
    expect_reject("g_ntensors.gguf", b, n, SS_ERR_FORMAT, "tensor count", "impossible");
    memcpy(b, orig, n);
    iot_put_u64(b + 16, UINT64_MAX);
    expect_reject("g_nkv.gguf", b, n, SS_ERR_FORMAT, "metadata count", "impossible");
    /* the first key's length (right after the 24-byte header) */
    memcpy(b, orig, n);
    iot_put_u64(b + 24, (uint64_t)n);
    expect_reject("g_keylen.gguf", b, n, SS_ERR_FORMAT, "string length", "past the end");
    /* the first key's value type: general.architecture is 20 bytes */
    memcpy(b, orig, n);
    iot_put_u32(b + 24 + 8 + 20, 77);
    expect_reject("g_kvtype.gguf", b, n, SS_ERR_FORMAT, "general.architecture",
                  "unknown value type 77");
    /* a string array claiming 2^62 entries */
    memcpy(b, orig, n);
    size_t tok = info_at(b, n, "tokenizer.ggml.tokens");
    CHECK(tok);
    iot_put_u64(b + tok + 8, 1ull << 62);
    expect_reject("g_arrlen.gguf", b, n, SS_ERR_FORMAT, "tokenizer.ggml.tokens",
                  "cannot fit");
    /* one token's length */
    memcpy(b, orig, n);
    iot_put_u64(b + tok + 16, 1ull << 40);
    expect_reject("g_toklen.gguf", b, n, SS_ERR_FORMAT, "tokenizer.ggml.tokens",
                  "string length");
    /* tensor info of token_embd.weight: n_dims, ne[2], type, offset */
    size_t te = info_at(orig, n, "token_embd.weight");
    CHECK(te);
    memcpy(b, orig, n);
    iot_put_u32(b + te + 4 + 16, 99);
    expect_reject("g_type99.gguf", b, n, SS_ERR_UNSUPPORTED, "'token_embd.weight'",
                  "ggml type 99 (unknown)");
    memcpy(b, orig, n);
    iot_put_u32(b + te + 4 + 16, 3);
    expect_reject("g_type_q41.gguf", b, n, SS_ERR_UNSUPPORTED, "'token_embd.weight'", "Q4_1");
    memcpy(b, orig, n);
    iot_put_u64(b + te + 4 + 16 + 4, 1ull << 40);
    expect_reject("g_outside.gguf", b, n, SS_ERR_FORMAT, "'token_embd.weight'",
                  "beyond the end of the file");
    memcpy(b, orig, n);
    iot_put_u64(b + te + 4 + 16 + 4, 4);
    expect_reject("g_misaligned.gguf", b, n, SS_ERR_FORMAT, "'token_embd.weight'",
                  "alignment");
    memcpy(b, orig, n);
    iot_put_u64(b + te + 4, 1ull << 62);
    expect_reject("g_bigdim.gguf", b, n, SS_ERR_FORMAT, "'token_embd.weight'", NULL);
    memcpy(b, orig, n);
    iot_put_u32(b + te, 7);
    expect_reject("g_ndims.gguf", b, n, SS_ERR_FORMAT, "'token_embd.weight'", "7 dimensions");
    memcpy(b, orig, n);
    CHECK(iot_patch(b, n, "blk.0.attn_k.weight", "blk.0.attn_q.weight"));
    expect_reject("g_dupname.gguf", b, n, SS_ERR_FORMAT, "duplicate tensor name",
                  "blk.0.attn_q.weight");
    free(b);
    free(orig);
}

static void hostile_written(void)
{
    /* duplicate key, nested array, bad alignment, NUL in a key */
    for (int c = 0; c < 4; c++) {
        gb g = {NULL, 0, 0, 3};
        gb_raw(&g, "GGUF", 4);
        gb_uint(&g, 3, 4);
        gb_cnt(&g, 0);
        gb_cnt(&g, 2);
        gb_key(&g, c == 3 ? "a\0b" : "a", SS_GGUF_U8);
        if (c == 3) { /* rewrite the key with an embedded NUL */
            g.n = 24;
            gb_cnt(&g, 3);
            gb_raw(&g, "a\0b", 3);
            gb_uint(&g, SS_GGUF_U8, 4);
        }
        gb_uint(&g, 1, 1);
        if (c == 0) {
            gb_key(&g, "a", SS_GGUF_U8);
            gb_uint(&g, 2, 1);
        } else if (c == 1) {
            gb_key(&g, "nest", SS_GGUF_ARRAY);
            gb_uint(&g, SS_GGUF_ARRAY, 4);
            gb_cnt(&g, 1);
        } else {
            gb_key(&g, "general.alignment", SS_GGUF_U32);
            gb_uint(&g, 48, 4);
        }
        static const char *frag[] = {"duplicate metadata key 'a'", "nested arrays",
                                     "general.alignment is 48", "NUL"};
        static const ss_code code[] = {SS_ERR_FORMAT, SS_ERR_UNSUPPORTED, SS_ERR_FORMAT,
                                       SS_ERR_FORMAT};
        char name[32];
        snprintf(name, sizeof name, "g_written%d.gguf", c);
        expect_reject(name, g.b, g.n, code[c], frag[c], NULL);
        free(g.b);
    }
    ss_gguf g;
    ss_error err = {0};
    ss_code rc = ss_gguf_load(shared("fixtures/mistral_mha/model.bin"), &g, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, "model.bin", "not a GGUF file", NULL);
}

TEST_MAIN(TEST(all_model_ggufs), TEST(vocab_ggufs), TEST(getters), TEST(f16_and_q8_0_copies),
          TEST(written_versions), TEST(hostile_real), TEST(hostile_written))
