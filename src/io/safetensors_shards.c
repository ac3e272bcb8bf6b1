#include "io/safetensors_shards.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

int ss_shard_plan(const ss_tensor *const *t, int n, uint64_t max, int *shard_of)
{
    int count = 0, current = -1; /* the shard being filled (-1: none yet) */
    uint64_t size = 0;
    for (int i = 0; i < n; i++) {
        uint64_t b = t[i]->nbytes;
        if (b > max) {
            shard_of[i] = count++;
            continue;
        }
        if (current < 0 || size + b > max) {
            current = count++;
            size = 0;
        }
        shard_of[i] = current;
        size += b;
    }
    return count ? count : 1;
}

void ss_shard_name(int k, int count, char *buf, size_t cap)
{
    if (count <= 1)
        snprintf(buf, cap, "model.safetensors");
    else
        snprintf(buf, cap, "model-%05d-of-%05d.safetensors", k + 1, count);
}

ss_code ss_shard_index_write(const char *path, const ss_tensor *const *t, int n,
                             const int *shard_of, int count, ss_error *err)
{
    uint64_t total = 0; /* the sum of the tensors' bytes, as save_pretrained states it */
    for (int i = 0; i < n; i++)
        total += t[i]->nbytes;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(root, "metadata"), "total_size",
                            (double)total);
    cJSON *map = cJSON_AddObjectToObject(root, "weight_map");
    for (int i = 0; map && i < n; i++) {
        char name[64];
        ss_shard_name(shard_of[i], count, name, sizeof name);
        cJSON_AddStringToObject(map, t[i]->name, name);
    }
    char *text = map ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return ss_fail(err, SS_ERR_NOMEM, "%s: out of memory", path);
    ss_code rc = ss_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}
