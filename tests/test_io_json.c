/* io/json: loading config.json files and the typed getters' values,
 * defaults and error messages (file, field, expectation, offending value). */
#include "io_testutil.h"

#include <limits.h>

#include "io/json.h"

static void real_configs(void)
{
    /* README tables */
    struct { const char *dir; long long hidden, heads, kv, layers; double theta; int tied; } c[] = {
        {"fixtures/llama3_gqa", 128, 4, 2, 2, 500000, 0},
        {"fixtures/qwen2", 128, 4, 2, 2, 1e6, 1},
        {"fixtures/gemma", 64, 4, 1, 3, 10000, 1},
        {"fixtures/mistral_mha", 64, 4, 4, 2, 10000, 0},
        {"models/stories260K", 64, 8, 4, 5, 10000, 1},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        const char *path = ss_test_path("%s/%s/hf/config.json", ss_test_shared(), c[i].dir);
        cJSON *root;
        ss_error err = {0};
        CHECK(ss_json_load(path, 1 << 20, &root, &err) == SS_OK);
        if (err.code)
            continue;
        long long v = -1;
        double theta = 0;
        int tied = -1;
        const char *type = NULL;
        CHECK(ss_json_int(root, path, "hidden_size", 1, 1, 1 << 20, &v, &err) == SS_OK &&
              v == c[i].hidden);
        CHECK(ss_json_int(root, path, "num_attention_heads", 1, 1, 65536, &v, &err) == SS_OK &&
              v == c[i].heads);
        CHECK(ss_json_int(root, path, "num_key_value_heads", 1, 1, 65536, &v, &err) == SS_OK &&
              v == c[i].kv);
        CHECK(ss_json_int(root, path, "num_hidden_layers", 1, 1, 65536, &v, &err) == SS_OK &&
              v == c[i].layers);
        CHECK(ss_json_num(root, path, "rope_theta", 1, &theta, &err) == SS_OK &&
              theta == c[i].theta);
        CHECK(ss_json_bool(root, path, "tie_word_embeddings", 1, &tied, &err) == SS_OK &&
              tied == c[i].tied);
        CHECK(ss_json_str(root, path, "model_type", 1, &type, &err) == SS_OK && type);
        CHECK_MSG(err.code == SS_OK, "%s", err.msg);
        cJSON_Delete(root);
    }
}

static void getters(void)
{
    const char *text = "{\"n\": 12, \"neg\": -3, \"big\": 1e300, \"frac\": 2.5, \"s\": \"abc\","
                       " \"t\": true, \"nul\": null, \"arr\": [1]}";
    cJSON *o = cJSON_Parse(text);
    ss_error err = {0};
    long long v = 7;
    double d = 1;
    const char *s = "default";
    int b = -1;
    /* absent and null keep the default unless required */
    CHECK(ss_json_int(o, "config.json", "missing", 0, 0, 10, &v, &err) == SS_OK && v == 7);
    CHECK(ss_json_int(o, "config.json", "nul", 0, 0, 10, &v, &err) == SS_OK && v == 7);
    CHECK(ss_json_str(o, "config.json", "missing", 0, &s, &err) == SS_OK &&
          strcmp(s, "default") == 0);
    CHECK(ss_json_int(o, "config.json", "n", 1, 0, 100, &v, &err) == SS_OK && v == 12);
    CHECK(ss_json_int(o, "config.json", "neg", 1, -5, 0, &v, &err) == SS_OK && v == -3);
    CHECK(ss_json_num(o, "config.json", "frac", 1, &d, &err) == SS_OK && d == 2.5);
    CHECK(ss_json_num(o, "config.json", "n", 1, &d, &err) == SS_OK && d == 12);
    CHECK(ss_json_bool(o, "config.json", "t", 1, &b, &err) == SS_OK && b == 1);
    CHECK(ss_json_str(o, "config.json", "s", 1, &s, &err) == SS_OK && strcmp(s, "abc") == 0);
    CHECK(err.code == SS_OK);

    ss_code rc = ss_json_int(o, "config.json", "missing", 1, 0, 10, &v, &err);
    CHECK_ERR(rc, err, SS_ERR_MISSING, "config.json", "'missing'", "missing");
    ss_error_clear(&err);
    rc = ss_json_int(o, "config.json", "nul", 1, 0, 10, &v, &err);
    CHECK_ERR(rc, err, SS_ERR_MISSING, "'nul'", NULL, NULL);
    ss_error_clear(&err);
    rc = ss_json_int(o, "config.json", "s", 1, 1, 65536, &v, &err);
    CHECK_ERR(rc, err, SS_ERR_VALUE,
              "config.json: field 's' must be an integer from 1 to 65536, got 'abc'", NULL, NULL);
    ss_error_clear(&err);
    rc = ss_json_int(o, "config.json", "frac", 1, 0, 10, &v, &err);
    CHECK_ERR(rc, err, SS_ERR_VALUE, "'frac'", "got 2.5", NULL);
    ss_error_clear(&err);
    rc = ss_json_int(o, "config.json", "n", 1, 0, 10, &v, &err);
    CHECK_ERR(rc, err, SS_ERR_VALUE, "from 0 to 10", "got 12", NULL);
    ss_error_clear(&err);
    rc = ss_json_int(o, "config.json", "big", 1, 0, 10, &v, &err);
    CHECK_ERR(rc, err, SS_ERR_VALUE, "'big'", NULL, NULL);
    ss_error_clear(&err);
    rc = ss_json_int(o, "config.json", "big", 1, LLONG_MIN, LLONG_MAX, &v, &err);
    CHECK_ERR(rc, err, SS_ERR_VALUE, "'big'", NULL, NULL);
    ss_error_clear(&err);
    rc = ss_json_num(o, "config.json", "s", 1, &d, &err);
    CHECK_ERR(rc, err, SS_ERR_VALUE, "'s' must be a finite number", "'abc'", NULL);
    ss_error_clear(&err);
    rc = ss_json_str(o, "config.json", "arr", 1, &s, &err);
    CHECK_ERR(rc, err, SS_ERR_VALUE, "'arr' must be a string", "[1]", NULL);
    ss_error_clear(&err);
    rc = ss_json_bool(o, "config.json", "n", 1, &b, &err);
    CHECK_ERR(rc, err, SS_ERR_VALUE, "'n' must be true or false", "12", NULL);
    ss_error_clear(&err);
    rc = ss_json_int(o->child, "config.json", "x", 1, 0, 1, &v, &err); /* not an object */
    CHECK_ERR(rc, err, SS_ERR_FORMAT, "config.json", "object", NULL);
    cJSON_Delete(o);
}

static void load_errors(void)
{
    ss_error err = {0};
    cJSON *root;
    const char *bad = iot_tmp("bad.json");
    CHECK(iot_write(bad, "{\"a\": 1,\n \"b\": }", 17));
    ss_code rc = ss_json_load(bad, 1 << 20, &root, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, bad, "malformed JSON at byte offset 15", NULL);
    const char *trail = iot_tmp("trail.json");
    CHECK(iot_write(trail, "{} {}", 5));
    ss_error_clear(&err);
    rc = ss_json_load(trail, 1 << 20, &root, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, trail, "after the JSON value", NULL);
    ss_error_clear(&err);
    rc = ss_json_load(trail, 3, &root, &err);
    CHECK_ERR(rc, err, SS_ERR_FORMAT, trail, "more than the 3 allowed", NULL);
    ss_error_clear(&err);
    rc = ss_json_load(iot_tmp("nope.json"), 100, &root, &err);
    CHECK_ERR(rc, err, SS_ERR_IO, "nope.json", NULL, NULL);
    const char *ok = iot_tmp("ok.json");
    CHECK(iot_write(ok, "{\"x\": [1, 2]}\n\n", 15));
    ss_error_clear(&err);
    CHECK(ss_json_load(ok, 100, &root, &err) == SS_OK && cJSON_IsObject(root));
    cJSON_Delete(root);
}

TEST_MAIN(TEST(real_configs), TEST(getters), TEST(load_errors))
