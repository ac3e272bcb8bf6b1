#include "store/checkpoint.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sha256.h"
#include "io/atomic_file.h"
#include "io/json.h"
#include "store/folder.h"

#define CK_CAP 4096
#define MAX_STATE ((size_t)64 << 20)

ss_code ss_checkpoint_init(ss_checkpoint *c, const char *work_dir, ss_error *err)
{
    memset(c, 0, sizeof *c);
    if ((size_t)snprintf(c->dir, sizeof c->dir, "%s/%s", work_dir, SS_FOLDER_CHECKPOINT) >=
        sizeof c->dir - 200)
        return ss_fail(err, SS_ERR_USAGE, "%s: path too long for a checkpoint", work_dir);
    return SS_OK;
}

ss_code ss_checkpoint_init_dir(ss_checkpoint *c, const char *dir, ss_error *err)
{
    memset(c, 0, sizeof *c);
    if ((size_t)snprintf(c->dir, sizeof c->dir, "%s", dir) >= sizeof c->dir - 200)
        return ss_fail(err, SS_ERR_USAGE, "%s: path too long for a checkpoint", dir);
    return SS_OK;
}

static void ck_file(const ss_checkpoint *c, char *buf, const char *name, int64_t gen)
{
    snprintf(buf, CK_CAP + 300, "%s/%s.%lld.npy", c->dir, name, (long long)gen);
}

ss_code ss_json_self_digest(const cJSON *obj, char hex[65], ss_error *err)
{
    cJSON *copy = cJSON_Duplicate(obj, 1);
    if (!copy)
        return ss_fail(err, SS_ERR_NOMEM, "digest: out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "sha256");
    char *text = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    if (!text)
        return ss_fail(err, SS_ERR_NOMEM, "digest: out of memory");
    ss_sha256 h;
    ss_sha256_init(&h);
    ss_sha256_update(&h, text, strlen(text));
    ss_sha256_hex(&h, hex);
    free(text);
    return SS_OK;
}

/* Removes the arrays of a generation (after the next one is committed). */
static void remove_generation(const ss_checkpoint *c, const ss_ck_array *a, int n, int64_t gen)
{
    char p[CK_CAP + 300];
    for (int k = 0; k < n; k++) {
        ck_file(c, p, a[k].name, gen);
        unlink(p);
    }
}

ss_code ss_checkpoint_save(ss_checkpoint *c, const ss_ck_array *a, int n, const cJSON *state,
                           ss_error *err)
{
    ss_code rc = ss_mkdirs(c->dir, err);
    if (rc)
        return rc;
    int64_t gen = c->generation + 1;
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "format", "slashscope-checkpoint");
    cJSON_AddNumberToObject(st, "generation", (double)gen);
    cJSON *arrays = cJSON_AddArrayToObject(st, "arrays");
    for (int k = 0; k < n && !rc; k++) {
        char p[CK_CAP + 300], hex[65];
        ck_file(c, p, a[k].name, gen);
        if ((rc = ss_npy_write(p, a[k].type, a[k].ndim, a[k].shape, a[k].data, err)) ||
            (rc = ss_sha256_file(p, hex, err)))
            break;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", a[k].name);
        cJSON_AddStringToObject(e, "file", strrchr(p, '/') + 1);
        cJSON_AddStringToObject(e, "sha256", hex);
        cJSON_AddItemToArray(arrays, e);
    }
    cJSON_AddItemToObject(st, "state", cJSON_Duplicate(state, 1));
    char hex[65];
    if (!rc)
        rc = ss_json_self_digest(st, hex, err);
    char *text = NULL;
    if (!rc) {
        cJSON_AddStringToObject(st, "sha256", hex);
        if (!(text = cJSON_Print(st)))
            rc = ss_fail(err, SS_ERR_NOMEM, "checkpoint: out of memory");
    }
    cJSON_Delete(st);
    if (!rc) {
        char p[CK_CAP + 64];
        snprintf(p, sizeof p, "%s/state.json", c->dir);
        rc = ss_write_file_atomic(p, text, strlen(text), err); /* the commit point */
    }
    free(text);
    if (rc) {
        remove_generation(c, a, n, gen);
        return rc;
    }
    remove_generation(c, a, n, c->generation);
    c->generation = gen;
    return SS_OK;
}

static ss_code load_array(const ss_checkpoint *c, const char *state_path, const cJSON *entry,
                          ss_ck_array *a, ss_error *err)
{
    const char *file = NULL, *sha = NULL;
    ss_code rc;
    if ((rc = ss_json_str(entry, state_path, "file", 1, &file, err)) ||
        (rc = ss_json_str(entry, state_path, "sha256", 1, &sha, err)))
        return rc;
    if (strchr(file, '/'))
        return ss_fail(err, SS_ERR_FORMAT, "%s: array file '%s' is outside the checkpoint",
                       state_path, file);
    char p[CK_CAP + 300], hex[65];
    snprintf(p, sizeof p, "%s/%s", c->dir, file);
    if ((rc = ss_sha256_file(p, hex, err)))
        return rc;
    if (strcmp(hex, sha) != 0)
        return ss_fail(err, SS_ERR_FORMAT, "%s: its SHA-256 is not the one %s recorded: the "
                       "checkpoint is damaged; start afresh with --force", p, state_path);
    ss_npy x;
    if ((rc = ss_npy_read(p, &x, err)))
        return rc;
    int ok = x.type == a->type && x.ndim == a->ndim;
    for (int d = 0; ok && d < a->ndim; d++)
        ok = x.shape[d] == a->shape[d];
    if (ok)
        memcpy(a->data, x.data, (size_t)x.count * ss_npy_elem_size(a->type));
    ss_npy_free(&x);
    return ok ? SS_OK : ss_fail(err, SS_ERR_SHAPE, "%s: expected %s of the shape this run "
                                "uses", p, ss_npy_descr(a->type));
}

ss_code ss_checkpoint_load(ss_checkpoint *c, ss_ck_array *a, int n, cJSON **state, int *found,
                           ss_error *err)
{
    *found = 0;
    *state = NULL;
    char p[CK_CAP + 64];
    snprintf(p, sizeof p, "%s/state.json", c->dir);
    if (access(p, F_OK) != 0)
        return SS_OK;
    cJSON *st;
    ss_code rc = ss_json_load(p, MAX_STATE, &st, err);
    if (rc)
        return rc;
    const char *sha = NULL;
    char hex[65];
    long long gen = 0;
    if (!(rc = ss_json_str(st, p, "sha256", 1, &sha, err)) &&
        !(rc = ss_json_self_digest(st, hex, err)) && strcmp(hex, sha) != 0)
        rc = ss_fail(err, SS_ERR_FORMAT, "%s: the file does not match its own \"sha256\": it "
                     "was edited or damaged; start afresh with --force", p);
    if (!rc)
        rc = ss_json_int(st, p, "generation", 1, 1, LLONG_MAX, &gen, err);
    const cJSON *arrays = cJSON_GetObjectItemCaseSensitive(st, "arrays");
    const cJSON *saved = cJSON_GetObjectItemCaseSensitive(st, "state");
    if (!rc && (!cJSON_IsArray(arrays) || !cJSON_IsObject(saved)))
        rc = ss_fail(err, SS_ERR_FORMAT, "%s: \"arrays\" list or \"state\" object missing", p);
    for (int k = 0; k < n && !rc; k++) {
        const cJSON *e, *hit = NULL;
        cJSON_ArrayForEach(e, arrays)
        {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
            if (cJSON_IsString(nm) && strcmp(nm->valuestring, a[k].name) == 0)
                hit = e;
        }
        rc = hit ? load_array(c, p, hit, &a[k], err)
                 : ss_fail(err, SS_ERR_MISSING, "%s: no array \"%s\" in the checkpoint", p,
                           a[k].name);
    }
    if (!rc) {
        *state = cJSON_Duplicate(saved, 1);
        c->generation = gen;
        *found = 1;
    }
    cJSON_Delete(st);
    return rc;
}
