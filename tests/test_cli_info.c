/* `slashscope info --json` on every model file in shared/, field by field
 * against the folder's own config.json (read here independently) and the
 * reference RoPE frequencies. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct {
    const char *dir, *file, *arch, *dtype, *pairing;
} info_case;

static const info_case cases[] = {
    {"fixtures/llama3_gqa", "hf", "llama", "BF16", "half"},
    {"fixtures/llama3_gqa", "model.gguf", "llama", "F32", "interleaved"},
    {"fixtures/qwen2", "hf", "qwen2", "F32", "half"},
    {"fixtures/qwen2", "model.gguf", "qwen2", "F32", "half"},
    {"fixtures/gemma", "hf", "gemma", "F32", "half"},
    {"fixtures/gemma", "model.gguf", "gemma", "F32", "half"},
    {"fixtures/mistral_mha", "hf", "mistral", "F32", "half"},
    {"fixtures/mistral_mha", "model.gguf", "llama", "F32", "interleaved"},
    {"fixtures/mistral_mha", "model.f16.gguf", "llama", "F16", "interleaved"},
    {"fixtures/mistral_mha", "model.q8_0.gguf", "llama", "Q8_0", "interleaved"},
    {"fixtures/mistral_mha", "model.bin", "llama", "F32", "interleaved"},
    {"models/stories260K", "hf", "llama", "F32", "half"},
    {"models/stories260K", "stories260K.gguf", "llama", "F32", "interleaved"},
    {"models/stories260K", "stories260K.bin", "llama", "F32", "interleaved"},
    {"models/aidreams260K", "aidreams260K.bin", "llama", "F32", "interleaved"},
};

static cJSON *run_info(const char *path)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' info '%s' --json", ss_test_bin(), path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = '\0';
    int rc = pclose(p);
    return rc == 0 ? cJSON_Parse(buf) : NULL;
}

static cJSON *load_config(const char *dir)
{
    FILE *f = fopen(ss_test_path("%s/%s/hf/config.json", ss_test_shared(), dir), "r");
    static char buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return cJSON_Parse(buf);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -12345;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void test_info_fields(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const info_case *c = &cases[i];
        const char *path = ss_test_path("%s/%s/%s", ss_test_shared(), c->dir, c->file);
        cJSON *info = run_info(path), *cfg = load_config(c->dir);
        CHECK_MSG(info && cfg, "%s: info --json failed or config unreadable", path);
        if (!info || !cfg)
            continue;
        double heads = num(cfg, "num_attention_heads"), hidden = num(cfg, "hidden_size");
        double kv = cJSON_GetObjectItem(cfg, "num_key_value_heads") ? num(cfg, "num_key_value_heads") : heads;
        double head_dim = cJSON_GetObjectItem(cfg, "head_dim") ? num(cfg, "head_dim") : hidden / heads;
        CHECK_MSG(strcmp(str(info, "architecture"), c->arch) == 0, "%s arch %s", path, str(info, "architecture"));
        CHECK_MSG(strcmp(str(info, "dtype"), c->dtype) == 0, "%s dtype %s", path, str(info, "dtype"));
        CHECK(num(info, "n_layer") == num(cfg, "num_hidden_layers"));
        CHECK(num(info, "d_model") == hidden);
        CHECK(num(info, "n_head") == heads);
        CHECK(num(info, "n_kv_head") == kv);
        CHECK(num(info, "d_head") == head_dim);
        CHECK(num(info, "d_ff") == num(cfg, "intermediate_size"));
        CHECK(num(info, "vocab") == num(cfg, "vocab_size"));
        CHECK_NEAR(num(info, "norm_eps"), num(cfg, "rms_norm_eps"), 1e-12);
        CHECK_NEAR(num(info, "attn_scale"), 1.0 / sqrt(head_dim), 1e-12);
        /* the GGUF of stories260K says 2048 (see its NOTES.md); others agree */
        if (strcmp(c->file, "stories260K.gguf") != 0)
            CHECK_MSG(num(info, "context") == num(cfg, "max_position_embeddings"), "%s context %g",
                      path, num(info, "context"));
        const cJSON *rope = cJSON_GetObjectItem(info, "rope");
        CHECK_NEAR(num(rope, "base"), num(cfg, "rope_theta"), 1e-6);
        CHECK_MSG(strcmp(str(rope, "checkpoint_pairing"), c->pairing) == 0, "%s pairing %s", path,
                  str(rope, "checkpoint_pairing"));
        int nd;
        long shape[4];
        double *inv = ss_test_load_npy(ss_test_path("%s/%s/ref/rope_inv_freq.npy", ss_test_shared(), c->dir), &nd, shape);
        const cJSON *theta = cJSON_GetObjectItem(rope, "theta");
        CHECK(inv && cJSON_GetArraySize(theta) == shape[0] && shape[0] == head_dim / 2);
        for (int f = 0; inv && f < cJSON_GetArraySize(theta) && f < shape[0]; f++)
            CHECK_MSG(fabs(cJSON_GetArrayItem(theta, f)->valuedouble - inv[f]) <= 1e-7 * inv[f],
                      "%s theta[%d]", path, f);
        free(inv);
        cJSON_Delete(info);
        cJSON_Delete(cfg);
    }
}

TEST_MAIN(TEST(test_info_fields))
