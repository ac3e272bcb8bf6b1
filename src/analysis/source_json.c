#include "analysis/source_json.h"

#include <stdio.h>
#include <stdlib.h>

/* An absolute path when the file exists (so a resume from another working
 * directory matches), else the path as given. */
cJSON *ss_json_abs_path(const char *path)
{
    if (!path)
        return cJSON_CreateNull();
    char *abs = realpath(path, NULL);
    cJSON *j = cJSON_CreateString(abs ? abs : path);
    free(abs);
    return j;
}

cJSON *ss_prompt_source_json(const ss_prompt_opts *s, const char *sha)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "source", ss_source_kind_name(s->kind));
    int synthetic = s->kind == SS_SRC_OOD || s->kind == SS_SRC_REPEAT;
    cJSON_AddItemToObject(j, "path", synthetic ? cJSON_CreateNull() : ss_json_abs_path(s->path));
    cJSON_AddStringToObject(j, "sha256", sha);
    if (s->kind == SS_SRC_JSONL)
        cJSON_AddItemToObject(j, "field", s->field ? cJSON_CreateString(s->field)
                                                   : cJSON_CreateString("context|text"));
    if (!synthetic) {
        cJSON_AddBoolToObject(j, "chunk", s->chunk);
        cJSON_AddNumberToObject(j, "count_limit", (double)s->count);
    }
    if (s->kind == SS_SRC_LINES || s->kind == SS_SRC_JSONL || s->kind == SS_SRC_TXT_DIR)
        cJSON_AddBoolToObject(j, "add_bos", s->add_bos);
    if (synthetic) {
        cJSON_AddNumberToObject(j, "count", (double)s->count);
        /* a 64-bit seed does not fit a JSON number exactly: a string */
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
        cJSON_AddStringToObject(j, "seed", seed);
        cJSON_AddStringToObject(j, "rng", "splitmix64, per-prompt streams (analysis/ood.h)");
        cJSON_AddNumberToObject(j, "vocab", s->vocab);
        cJSON_AddNumberToObject(j, "bos", s->bos);
        if (s->kind == SS_SRC_REPEAT)
            cJSON_AddNumberToObject(j, "segment", s->segment);
    }
    return j;
}
