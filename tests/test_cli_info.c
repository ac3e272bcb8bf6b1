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
    {"fixtures/gemma2", "hf", "gemma2", "F32", "half"},
    {"fixtures/gemma2", "model.gguf", "gemma2", "F32", "half"},
    {"fixtures/gemma3", "hf", "gemma3", "F32", "half"},
    {"fixtures/qwen3", "hf", "qwen3", "F32", "half"},
    {"fixtures/olmo2", "hf", "olmo2", "F32", "half"},
    {"fixtures/olmo2", "model.gguf", "olmo2", "F32", "half"},
    {"fixtures/gptneox", "hf", "gpt_neox", "F32", "half"},
    {"fixtures/gptneox", "model.gguf", "gpt_neox", "F32", "half"},
    {"fixtures/phi3", "hf", "phi3", "F32", "half"},
    {"fixtures/phi3", "model.gguf", "phi3", "F32", "half"},
    {"fixtures/llama_yarn", "hf", "llama", "F32", "half"},
    {"fixtures/llama_yarn", "model.gguf", "llama", "F32", "interleaved"},
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
    return ss_test_load_json(ss_test_path("%s/%s/hf/config.json", ss_test_shared(), dir));
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

static int has(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return v && !cJSON_IsNull(v);
}

static cJSON *load_summary(const char *dir)
{
    return ss_test_load_json(ss_test_path("%s/%s/ref/summary.json", ss_test_shared(), dir));
}

/* Is layer l a sliding-window layer, by the config's own rule: layer_types
 * when listed, Gemma 2's even layers, else every layer when a window is set. */
static int expect_local(const cJSON *cfg, int l)
{
    const cJSON *lt = cJSON_GetObjectItem(cfg, "layer_types");
    if (cJSON_IsArray(lt))
        return strcmp(cJSON_GetArrayItem(lt, l)->valuestring, "sliding_attention") == 0;
    if (strcmp(str(cfg, "model_type"), "gemma2") == 0)
        return l % 2 == 0;
    return has(cfg, "sliding_window");
}

/* The fields the later families added, against config.json and summary.json. */
static void check_family_fields(const char *path, const char *dir, const cJSON *info,
                                const cJSON *cfg, double head_dim)
{
    const char *type = str(cfg, "model_type");
    double rot = head_dim * (has(cfg, "rotary_pct") ? num(cfg, "rotary_pct")
                             : has(cfg, "partial_rotary_factor") ? num(cfg, "partial_rotary_factor") : 1.0);
    CHECK_MSG(num(info, "rotary_dim") == rot, "%s rotary_dim %g", path, num(info, "rotary_dim"));
    CHECK_NEAR(num(info, "attn_softcap"), has(cfg, "attn_logit_softcapping") ? num(cfg, "attn_logit_softcapping") : 0, 1e-12);
    CHECK_NEAR(num(info, "final_softcap"), has(cfg, "final_logit_softcapping") ? num(cfg, "final_logit_softcapping") : 0, 1e-12);
    int neox = strcmp(type, "gpt_neox") == 0;
    CHECK(strcmp(str(info, "norm"), neox ? "layernorm" : "rmsnorm") == 0);
    CHECK(strcmp(str(info, "mlp"), neox ? "plain" : "gated") == 0);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(info, "parallel_residual")) ==
          (neox && cJSON_IsTrue(cJSON_GetObjectItem(cfg, "use_parallel_residual"))));
    const char *qk = strcmp(type, "qwen3") == 0 || strcmp(type, "gemma3_text") == 0 ? "per_head"
                     : strcmp(type, "olmo2") == 0 ? "projection" : "none";
    CHECK_MSG(strcmp(str(info, "qk_norm"), qk) == 0, "%s qk_norm %s", path, str(info, "qk_norm"));
    const char *act = str(cfg, has(cfg, "hidden_activation") ? "hidden_activation" : "hidden_act");
    const char *want_act = strcmp(act, "gelu") == 0 ? "gelu_erf" : strstr(act, "gelu") ? "gelu_tanh" : "silu";
    CHECK_MSG(strcmp(str(info, "activation"), want_act) == 0, "%s activation %s", path, str(info, "activation"));
    /* per-layer windows; Phi-3's one window covers every layer */
    const cJSON *layers = cJSON_GetObjectItem(info, "layers");
    double window = has(cfg, "sliding_window") ? num(cfg, "sliding_window") : 0;
    CHECK_NEAR(num(info, "sliding_window"), window, 0);
    for (int l = 0; l < cJSON_GetArraySize(layers); l++) {
        const cJSON *e = cJSON_GetArrayItem(layers, l);
        CHECK_MSG(num(e, "sliding_window") == (expect_local(cfg, l) ? window : 0), "%s layer %d window", path, l);
        const char *rope = has(cfg, "rope_local_base_freq") && expect_local(cfg, l) ? "local" : "global";
        CHECK_MSG(strcmp(str(e, "rope"), rope) == 0, "%s layer %d rope %s", path, l, str(e, "rope"));
    }
    int per_layer = cJSON_IsArray(cJSON_GetObjectItem(cfg, "layer_types")) || strcmp(type, "gemma2") == 0;
    CHECK_MSG(cJSON_GetArraySize(layers) == (per_layer ? num(cfg, "num_hidden_layers") : 0), "%s layers", path);
    /* the cos/sin factor (yarn): summary.json's rope_attention_scaling */
    cJSON *summary = load_summary(dir);
    const cJSON *scal = cJSON_GetObjectItem(summary, "rope_attention_scaling");
    CHECK_NEAR(num(cJSON_GetObjectItem(info, "rope"), "attn_factor"), scal ? cJSON_GetArrayItem(scal, 0)->valuedouble : 1.0, 1e-12);
    cJSON_Delete(summary);
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
        /* GGUF stores eps as float32 */
        CHECK_NEAR(num(info, "norm_eps"), num(cfg, has(cfg, "layer_norm_eps") ? "layer_norm_eps" : "rms_norm_eps"), 1e-12);
        double qpas = has(cfg, "query_pre_attn_scalar") ? num(cfg, "query_pre_attn_scalar") : head_dim;
        CHECK_NEAR(num(info, "attn_scale"), 1.0 / sqrt(qpas), 1e-12);
        if (strncmp(c->dir, "fixtures/", 9) == 0)
            check_family_fields(path, c->dir, info, cfg, head_dim);
        /* the GGUF of stories260K says 2048 (see its NOTES.md); others agree */
        if (strcmp(c->file, "stories260K.gguf") != 0)
            CHECK_MSG(num(info, "context") == num(cfg, "max_position_embeddings"), "%s context %g",
                      path, num(info, "context"));
        const cJSON *rope = cJSON_GetObjectItem(info, "rope");
        CHECK_NEAR(num(rope, "base"), num(cfg, has(cfg, "rope_theta") ? "rope_theta" : "rotary_emb_base"), 1e-6);
        CHECK_MSG(strcmp(str(rope, "checkpoint_pairing"), c->pairing) == 0, "%s pairing %s", path,
                  str(rope, "checkpoint_pairing"));
        int nd;
        long shape[4];
        double *inv = ss_test_load_npy(ss_test_path("%s/%s/ref/rope_inv_freq.npy", ss_test_shared(), c->dir), &nd, shape);
        /* [F] for the model, or [n_layer, F] (gemma3): each layer's row
         * against the schedule info says the layer uses */
        int rows = inv && nd == 2 ? (int)shape[0] : 1, F = (int)shape[nd - 1];
        CHECK(inv && F == num(info, "rotary_dim") / 2);
        for (int l = 0; inv && l < rows; l++) {
            const cJSON *lay = cJSON_GetArrayItem(cJSON_GetObjectItem(info, "layers"), l);
            const cJSON *sched = rows > 1 && strcmp(str(lay, "rope"), "local") == 0
                                     ? cJSON_GetObjectItem(info, "rope_local") : rope;
            const cJSON *theta = cJSON_GetObjectItem(sched, "theta");
            CHECK(cJSON_GetArraySize(theta) == F);
            for (int f = 0; f < cJSON_GetArraySize(theta) && f < F; f++)
                CHECK_MSG(fabs(cJSON_GetArrayItem(theta, f)->valuedouble - inv[l * F + f]) <= 1e-7 * inv[l * F + f],
                          "%s layer %d theta[%d]", path, l, f);
        }
        free(inv);
        cJSON_Delete(info);
        cJSON_Delete(cfg);
    }
}

TEST_MAIN(TEST(test_info_fields))
