/* Writes a random-weight model with SmolLM2-135M's shape (30 layers, d 576,
 * 9 heads, 3 KV heads, d_h 64, FFN 1536, vocab 49152, tied embeddings) as a
 * Hugging Face folder (F32 safetensors) and as an F32 GGUF holding the same
 * weights (q/k rows permuted to llama.cpp's interleaved order, as its
 * converter does). Usage: gen_model OUT_DIR [layers] [bf16|f32] [shape];
 * with bf16 only the Hugging Face folder is written, its weights rounded to
 * BF16 (the dtype of Hugging Face checkpoints). shape `llama-3.2-1b` gives
 * Llama-3.2-1B's (16 layers, d 2048, 32 heads, 8 KV heads, d_h 64, FFN 8192,
 * vocab 128256, RoPE base 500000, tied embeddings; issue #10's BF16 figure);
 * layers 0 keeps the shape's own count. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/random.h"

enum { DH = 64 };
static int D = 576, H = 9, HKV = 3, FF = 1536, VOCAB = 49152, CTX = 8192;
static double THETA = 100000.0;
static int n_layer = 30, bf16 = 0;

/* The second shape the benchmark knows; SmolLM2-135M's is the default above. */
static int use_shape(const char *name)
{
    if (strcmp(name, "smollm2-135m") == 0)
        return 1;
    if (strcmp(name, "llama-3.2-1b") != 0)
        return 0;
    D = 2048, H = 32, HKV = 8, FF = 8192, VOCAB = 128256, CTX = 131072, THETA = 500000.0;
    n_layer = 16;
    return 1;
}

static FILE *open_or_die(const char *path, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (!f) {
        perror(path);
        exit(1);
    }
    return f;
}

/* float32 -> bfloat16, rounding to nearest even (weights are finite) */
static uint16_t to_bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

typedef struct { char name[96]; int64_t rows, cols; int is_norm, qk_heads; } tensor_spec;

static tensor_spec specs[512];
static int n_specs;

static void add(const char *name, int64_t rows, int64_t cols, int is_norm, int qk_heads)
{
    tensor_spec *t = &specs[n_specs++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rows = rows;
    t->cols = cols;
    t->is_norm = is_norm;
    t->qk_heads = qk_heads;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double uniform(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return ((rng >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static float normal(float std)
{
    double u1 = uniform(), u2 = uniform(), z0, z1;
    ss_box_muller(u1, u2, &z0, &z1);
    return std * (float)z0;
}

static float *make(const tensor_spec *t, uint64_t seed)
{
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
    float *w = malloc(sizeof(float) * t->rows * t->cols);
    for (int64_t i = 0; i < t->rows * t->cols; i++)
        w[i] = t->is_norm ? 1.0f + normal(0.05f) : normal(0.04f);
    return w;
}

/* HF (rotate_half) rows -> interleaved: within a head, HF row j*dh/2+i
 * becomes row 2i+j. */
static void permute_qk(float *w, const tensor_spec *t)
{
    float *tmp = malloc(sizeof(float) * t->rows * t->cols);
    for (int h = 0; h < t->qk_heads; h++)
        for (int j = 0; j < 2; j++)
            for (int i = 0; i < DH / 2; i++)
                memcpy(tmp + ((int64_t)h * DH + 2 * i + j) * t->cols,
                       w + ((int64_t)h * DH + j * DH / 2 + i) * t->cols, sizeof(float) * t->cols);
    memcpy(w, tmp, sizeof(float) * t->rows * t->cols);
    free(tmp);
}

static void put_str(FILE *f, const char *s)
{
    uint64_t n = strlen(s);
    fwrite(&n, 8, 1, f);
    fwrite(s, 1, n, f);
}
static void kv_u32(FILE *f, const char *k, uint32_t v) { uint32_t t = 4; put_str(f, k); fwrite(&t, 4, 1, f); fwrite(&v, 4, 1, f); }
static void kv_f32(FILE *f, const char *k, float v) { uint32_t t = 6; put_str(f, k); fwrite(&t, 4, 1, f); fwrite(&v, 4, 1, f); }
static void kv_str(FILE *f, const char *k, const char *v) { uint32_t t = 8; put_str(f, k); fwrite(&t, 4, 1, f); put_str(f, v); }

static const char *gguf_name(const char *hf, char *buf)
{
    int l;
    char what[64];
    static const char *map[][2] = {
        {"input_layernorm.weight", "attn_norm.weight"}, {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.k_proj.weight", "attn_k.weight"}, {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.o_proj.weight", "attn_output.weight"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"}, {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"}, {"mlp.down_proj.weight", "ffn_down.weight"}};
    if (strcmp(hf, "model.embed_tokens.weight") == 0) return "token_embd.weight";
    if (strcmp(hf, "model.norm.weight") == 0) return "output_norm.weight";
    if (sscanf(hf, "model.layers.%d.%63s", &l, what) == 2)
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (strcmp(what, map[i][0]) == 0) {
                sprintf(buf, "blk.%d.%s", l, map[i][1]);
                return buf;
            }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_model OUT_DIR [layers] [bf16|f32] [smollm2-135m|llama-3.2-1b]\n");
        return 2;
    }
    if (argc > 4 && !use_shape(argv[4])) {
        fprintf(stderr, "gen_model: shape '%s': expected smollm2-135m or llama-3.2-1b\n", argv[4]);
        return 2;
    }
    if (argc > 2 && atoi(argv[2]) > 0)
        n_layer = atoi(argv[2]);
    if (argc > 3 && strcmp(argv[3], "bf16") != 0 && strcmp(argv[3], "f32") != 0) {
        fprintf(stderr, "gen_model: dtype '%s': expected bf16 or f32\n", argv[3]);
        return 2;
    }
    bf16 = argc > 3 && strcmp(argv[3], "bf16") == 0;
    int esize = bf16 ? 2 : 4;
    const char *dir = argv[1];
    char path[4096];
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/hf", dir);
    mkdir(path, 0777);

    add("model.embed_tokens.weight", VOCAB, D, 0, 0);
    for (int l = 0; l < n_layer; l++) {
        char n[96];
#define L(s, r, c, norm, qk) snprintf(n, sizeof n, "model.layers.%d." s, l); add(n, r, c, norm, qk)
        L("input_layernorm.weight", 1, D, 1, 0);
        L("self_attn.q_proj.weight", H * DH, D, 0, H);
        L("self_attn.k_proj.weight", HKV * DH, D, 0, HKV);
        L("self_attn.v_proj.weight", HKV * DH, D, 0, 0);
        L("self_attn.o_proj.weight", D, H * DH, 0, 0);
        L("post_attention_layernorm.weight", 1, D, 1, 0);
        L("mlp.gate_proj.weight", FF, D, 0, 0);
        L("mlp.up_proj.weight", FF, D, 0, 0);
        L("mlp.down_proj.weight", D, FF, 0, 0);
#undef L
    }
    add("model.norm.weight", 1, D, 1, 0);

    /* config.json */
    snprintf(path, sizeof path, "%s/hf/config.json", dir);
    FILE *f = open_or_die(path, "w");
    fprintf(f, "{\"model_type\": \"llama\", \"hidden_size\": %d, \"intermediate_size\": %d,\n"
               " \"num_hidden_layers\": %d, \"num_attention_heads\": %d, \"num_key_value_heads\": %d,\n"
               " \"vocab_size\": %d, \"max_position_embeddings\": %d, \"rms_norm_eps\": 1e-05,\n"
               " \"rope_theta\": %.1f, \"tie_word_embeddings\": true, \"hidden_act\": \"silu\",\n"
               " \"bos_token_id\": 1, \"eos_token_id\": 2, \"torch_dtype\": \"%s\"}\n",
            D, FF, n_layer, H, HKV, VOCAB, CTX, THETA, bf16 ? "bfloat16" : "float32");
    fclose(f);

    /* safetensors: header then data in spec order */
    size_t cap = 1 << 20, len = 0;
    char *hdr = malloc(cap);
    len += sprintf(hdr + len, "{");
    uint64_t off = 0;
    for (int i = 0; i < n_specs; i++) {
        tensor_spec *t = &specs[i];
        uint64_t bytes = (uint64_t)esize * t->rows * t->cols;
        if (t->rows == 1)
            len += sprintf(hdr + len, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%lld],\"data_offsets\":[%llu,%llu]}",
                           i ? "," : "", t->name, bf16 ? "BF16" : "F32", (long long)t->cols, (unsigned long long)off,
                           (unsigned long long)(off + bytes));
        else
            len += sprintf(hdr + len, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%lld,%lld],\"data_offsets\":[%llu,%llu]}",
                           i ? "," : "", t->name, bf16 ? "BF16" : "F32", (long long)t->rows,
                           (long long)t->cols,
                           (unsigned long long)off, (unsigned long long)(off + bytes));
        off += bytes;
    }
    len += sprintf(hdr + len, "}");
    while (len % 8)
        hdr[len++] = ' ';
    snprintf(path, sizeof path, "%s/hf/model.safetensors", dir);
    f = open_or_die(path, "wb");
    uint64_t hl = len;
    fwrite(&hl, 8, 1, f);
    fwrite(hdr, 1, len, f);
    for (int i = 0; i < n_specs; i++) {
        float *w = make(&specs[i], (uint64_t)i + 1);
        size_t count = (size_t)(specs[i].rows * specs[i].cols);
        if (bf16)
            for (size_t j = 0; j < count; j++) {
                uint16_t h = to_bf16(w[j]);
                fwrite(&h, 2, 1, f);
            }
        else
            fwrite(w, 4, count, f);
        free(w);
    }
    fclose(f);
    if (bf16) {
        fprintf(stderr, "wrote %s/hf (BF16, %d tensors)\n", dir, n_specs);
        return 0;
    }

    /* GGUF v3, F32, alignment 32 */
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    f = open_or_die(path, "wb");
    uint32_t version = 3;
    uint64_t nt = (uint64_t)n_specs, nkv = 12;
    fwrite("GGUF", 1, 4, f);
    fwrite(&version, 4, 1, f);
    fwrite(&nt, 8, 1, f);
    fwrite(&nkv, 8, 1, f);
    kv_str(f, "general.architecture", "llama");
    kv_u32(f, "llama.block_count", (uint32_t)n_layer);
    kv_u32(f, "llama.embedding_length", (uint32_t)D);
    kv_u32(f, "llama.feed_forward_length", FF);
    kv_u32(f, "llama.attention.head_count", H);
    kv_u32(f, "llama.attention.head_count_kv", HKV);
    kv_u32(f, "llama.context_length", CTX);
    kv_f32(f, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    kv_f32(f, "llama.rope.freq_base", (float)THETA);
    kv_u32(f, "general.alignment", 32);
    /* no tokenizer (the bench feeds token ids); llama.cpp loads such a file
     * only when it says so and gives the vocabulary size ("none": dummy tokens) */
    kv_str(f, "tokenizer.ggml.model", "none");
    kv_u32(f, "llama.vocab_size", VOCAB);
    off = 0;
    for (int i = 0; i < n_specs; i++) {
        char buf[96];
        tensor_spec *t = &specs[i];
        put_str(f, gguf_name(t->name, buf));
        uint32_t nd = t->rows == 1 ? 1 : 2, type = 0;
        uint64_t ne[2] = {(uint64_t)t->cols, (uint64_t)t->rows};
        fwrite(&nd, 4, 1, f);
        fwrite(ne, 8, nd, f);
        fwrite(&type, 4, 1, f);
        fwrite(&off, 8, 1, f);
        off += (4ull * t->rows * t->cols + 31) / 32 * 32;
    }
    long pos = ftell(f);
    while (pos % 32) {
        fputc(0, f);
        pos++;
    }
    for (int i = 0; i < n_specs; i++) {
        float *w = make(&specs[i], (uint64_t)i + 1);
        if (specs[i].qk_heads)
            permute_qk(w, &specs[i]);
        uint64_t bytes = 4ull * specs[i].rows * specs[i].cols;
        fwrite(w, 1, bytes, f);
        for (uint64_t p = bytes; p % 32; p++)
            fputc(0, f);
        free(w);
    }
    fclose(f);
    free(hdr);
    fprintf(stderr, "wrote %s/hf and %s/model.gguf (%d tensors)\n", dir, dir, n_specs);
    return 0;
}
