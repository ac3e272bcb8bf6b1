/* libFuzzer target: a Hugging Face config.json through the model layer's
 * parser and validation (model/config_hf.c), the file a user edits by hand. */
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *json = cJSON_ParseWithLength((const char *)data, size);
    if (!json)
        return 0;
    ss_config cfg;
    double base;
    ss_error err = {0};
    if (ss_config_from_hf(json, "fuzz/config.json", &cfg, &base, &err) == SS_OK &&
        ss_config_validate(&cfg, "fuzz/config.json", &err) == SS_OK) {
        ss_rope rope;
        ss_rope_standard(&rope, cfg.d_head, base, &cfg.scaling, &err);
    }
    cJSON_Delete(json);
    return 0;
}
