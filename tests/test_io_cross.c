/* The same weights through different loaders must agree: every Hugging Face
 * tensor against its GGUF (and llama2.c) counterpart. Conversions the
 * README documents are applied on the test side: q/k rows of GGUF-llama and
 * llama2.c are in interleaved rotary order (within a head, interleaved row
 * 2i + j = HF row j*hd/2 + i), Gemma's GGUF norms hold 1 + w, a tied
 * classifier is the embedding, BF16 widens exactly to F32. */
#include "io_testutil.h"

#include "io/gguf.h"
#include "io/llama2c.h"
#include "io/safetensors.h"

static const char *shared(const char *rel) { return ss_test_path("%s/%s", ss_test_shared(), rel); }

typedef struct {
    const char *dir, *gguf;
    int layers, heads, kv;
    int interleaved; /* GGUF arch llama: q/k permuted */
    int gemma;       /* norms stored as 1 + w */
} cross_model;

static const cross_model models[] = {
    {"fixtures/mistral_mha", "model.gguf", 2, 4, 4, 1, 0},
    {"fixtures/llama3_gqa", "model.gguf", 2, 4, 2, 1, 0},
    {"fixtures/qwen2", "model.gguf", 2, 4, 2, 0, 0},
    {"fixtures/gemma", "model.gguf", 3, 4, 1, 0, 1},
    {"models/stories260K", "stories260K.gguf", 5, 8, 4, 1, 0},
    {"models/llama2xs_tinystories", "model.gguf", 5, 8, 4, 1, 0},
    {"models/aidreams260K", "aidreams260K.gguf", 4, 4, 4, 1, 0},
};

/* HF name -> GGUF name (and how many heads its rows are permuted with). */
static int gguf_name(const char *hf, const cross_model *m, char *out, size_t cap, int *perm)
{
    static const char *map[][2] = {
        {"self_attn.q_proj.weight", "attn_q.weight"}, {"self_attn.k_proj.weight", "attn_k.weight"},
        {"self_attn.v_proj.weight", "attn_v.weight"}, {"self_attn.o_proj.weight", "attn_output.weight"},
        {"self_attn.q_proj.bias", "attn_q.bias"},     {"self_attn.k_proj.bias", "attn_k.bias"},
        {"self_attn.v_proj.bias", "attn_v.bias"},     {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"},      {"mlp.down_proj.weight", "ffn_down.weight"},
        {"input_layernorm.weight", "attn_norm.weight"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"}};
    *perm = 0;
    if (strcmp(hf, "model.embed_tokens.weight") == 0)
        return snprintf(out, cap, "token_embd.weight"), 1;
    if (strcmp(hf, "model.norm.weight") == 0)
        return snprintf(out, cap, "output_norm.weight"), 1;
    if (strcmp(hf, "lm_head.weight") == 0)
        return snprintf(out, cap, "output.weight"), 1;
    int layer, used = 0;
    if (sscanf(hf, "model.layers.%d.%n", &layer, &used) != 1 || !used)
        return 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(hf + used, map[i][0]) == 0) {
            snprintf(out, cap, "blk.%d.%s", layer, map[i][1]);
            if (m->interleaved && i == 0)
                *perm = m->heads;
            if (m->interleaved && i == 1)
                *perm = m->kv;
            return 1;
        }
    }
    return 0;
}

/* Compares b (interleaved when perm > 0, else same order) with HF tensor a;
 * `plus_one`: b = 1 + a. */
static int agrees(const ss_tensor *a, const ss_tensor *b, int perm, int plus_one)
{
    if (!a || !b || a->ndim != b->ndim || ss_tensor_numel(a) != ss_tensor_numel(b))
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    float *x = iot_f32(a), *y = iot_f32(b);
    int64_t rows = a->ndim ? a->shape[0] : 1, cols = ss_tensor_numel(a) / (rows ? rows : 1);
    int ok = 1;
    if (perm) {
        int64_t hd = rows / perm;
        for (int64_t h = 0; h < perm && ok; h++)
            for (int64_t i = 0; i < hd / 2 && ok; i++)
                for (int j = 0; j < 2 && ok; j++)
                    ok = memcmp(y + (h * hd + 2 * i + j) * cols, x + (h * hd + j * hd / 2 + i) * cols,
                                (size_t)cols * 4) == 0;
    } else {
        for (int64_t e = 0; e < rows * cols && ok; e++)
            ok = y[e] == (plus_one ? 1.0f + x[e] : x[e]);
    }
    free(x);
    free(y);
    return ok;
}

static ss_code load_hf(const char *dir, ss_tensor_list *l, ss_error *err)
{
    const char *single = shared(ss_test_path("%s/hf/model.safetensors", dir));
    FILE *f = fopen(single, "rb");
    if (f) {
        fclose(f);
        return ss_safetensors_load(single, l, err);
    }
    ss_code rc = SS_OK;
    for (int s = 1; s <= 2 && !rc; s++)
        rc = ss_safetensors_load(
            shared(ss_test_path("%s/hf/model-%05d-of-00002.safetensors", dir, s)), l, err);
    return rc;
}

static void hf_vs_gguf(void)
{
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        const cross_model *m = &models[i];
        ss_tensor_list hf = {0};
        ss_gguf g;
        ss_error err = {0};
        CHECK(load_hf(m->dir, &hf, &err) == SS_OK);
        CHECK(ss_gguf_load(shared(ss_test_path("%s/%s", m->dir, m->gguf)), &g, &err) == SS_OK);
        if (err.code) {
            fprintf(stderr, "%s\n", err.msg);
            continue;
        }
        int matched = 0;
        for (int t = 0; t < hf.count; t++) {
            const ss_tensor *a = &hf.items[t];
            char name[128];
            int perm;
            if (!gguf_name(a->name, m, name, sizeof name, &perm))
                continue;
            const ss_tensor *b = ss_tensor_list_find(&g.tensors, name);
            if (!b && strcmp(name, "output.weight") == 0) /* tied: the embedding */
                b = ss_tensor_list_find(&g.tensors, "token_embd.weight");
            int is_norm = strstr(name, "norm") != NULL;
            int ok = agrees(a, b, perm, m->gemma && is_norm);
            if (!ok)
                fprintf(stderr, "%s: %s vs %s differ\n", m->dir, a->name, name);
            matched += ok;
        }
        CHECK_MSG(matched == hf.count, "%s: %d of %d HF tensors agree", m->dir, matched,
                  hf.count);
        /* and the permutation is not the identity (it is really needed) */
        if (m->interleaved) {
            const ss_tensor *q = ss_tensor_list_find(&hf, "model.layers.0.self_attn.q_proj.weight");
            CHECK(!agrees(q, ss_tensor_list_find(&g.tensors, "blk.0.attn_q.weight"), 0, 0));
        }
        ss_gguf_free(&g);
        ss_tensor_list_free(&hf);
    }
}

/* llama2.c checkpoints against their HF folders: the same rule, and the
 * [out, in] orientation of every matrix. */
static void hf_vs_llama2c(void)
{
    const char *bins[] = {"fixtures/mistral_mha/model.bin", "models/stories260K/stories260K.bin",
                          "models/llama2xs_tinystories/model.bin",
                          "models/aidreams260K/aidreams260K.bin"};
    const int idx[] = {0, 4, 5, 6};
    for (int k = 0; k < 4; k++) {
        const cross_model *m = &models[idx[k]];
        ss_tensor_list hf = {0};
        ss_llama2c b;
        ss_error err = {0};
        CHECK(load_hf(m->dir, &hf, &err) == SS_OK);
        CHECK(ss_llama2c_load(shared(bins[k]), &b, &err) == SS_OK);
        if (err.code) {
            fprintf(stderr, "%s\n", err.msg);
            continue;
        }
        int matched = 0;
        for (int t = 0; t < hf.count; t++) {
            const ss_tensor *a = &hf.items[t];
            char name[128];
            int perm;
            if (!gguf_name(a->name, m, name, sizeof name, &perm))
                continue;
            const ss_tensor *c = ss_tensor_list_find(&b.tensors, name);
            if (!c && b.shared_classifier && strcmp(name, "output.weight") == 0)
                c = ss_tensor_list_find(&b.tensors, "token_embd.weight");
            int ok = agrees(a, c, perm, 0);
            if (!ok)
                fprintf(stderr, "%s: %s vs %s differ\n", bins[k], a->name, name);
            matched += ok;
        }
        CHECK_MSG(matched == hf.count, "%s: %d of %d", bins[k], matched, hf.count);
        ss_llama2c_free(&b);
        ss_tensor_list_free(&hf);
    }
}

TEST_MAIN(TEST(hf_vs_gguf), TEST(hf_vs_llama2c))
