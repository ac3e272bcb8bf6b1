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
        /* the schedule, also at a length past every original context
         * (dynamic NTK and longrope switch there), and Gemma 3's local one */
        static ss_rope rope, at;
        if (ss_rope_standard(&rope, cfg.rotary_dim, base, &cfg.scaling, &err) == SS_OK)
            ss_rope_at_length(&rope, 1 << 30, &at);
        if (cfg.rope_local_base > 0)
            ss_rope_standard(&rope, cfg.rotary_dim, cfg.rope_local_base, NULL, &err);
    }
    cJSON_Delete(json);
    return 0;
}
