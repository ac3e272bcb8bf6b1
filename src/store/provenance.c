#include "store/provenance.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/sha256.h"
#include "store/folder.h"

cJSON *ss_prov_environment(int threads)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "tool_version", SS_VERSION);
    cJSON *b = cJSON_AddObjectToObject(j, "blas");
    cJSON_AddStringToObject(b, "library", "OpenBLAS");
    const char *cfg = openblas_get_config();
    const char *core = openblas_get_corename();
    cJSON_AddStringToObject(b, "config", cfg ? cfg : "?");
    cJSON_AddStringToObject(b, "core", core ? core : "?");
    cJSON_AddNumberToObject(b, "threads", openblas_get_num_threads());
    cJSON_AddNumberToObject(j, "threads", threads > 0 ? threads : omp_get_max_threads());
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = '\0';
    cJSON_AddStringToObject(j, "host", host);
    return j;
}

void ss_prov_utc_now(char *buf, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    /* strftime leaves buf undefined when the text does not fit: "" then */
    if (cap > 0 && (t == (time_t)-1 || !gmtime_r(&t, &tm) ||
                    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0))
        buf[0] = '\0';
}

void ss_prov_add_run(cJSON *prov, const char *program, int argc, char *const *argv)
{
    char when[32];
    ss_prov_utc_now(when, sizeof when);
    cJSON_AddStringToObject(prov, "created", when);
    cJSON *cl = cJSON_AddArrayToObject(prov, "command_line");
    cJSON_AddItemToArray(cl, cJSON_CreateString(program));
    for (int i = 0; i < argc; i++)
        cJSON_AddItemToArray(cl, cJSON_CreateString(argv[i]));
}

/* dir/name into path, or an error naming both when it does not fit (a cut
 * path would digest another file). */
static ss_code folder_file(char *path, size_t cap, const char *dir, const char *name,
                           ss_error *err)
{
    int n = snprintf(path, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return ss_fail(err, SS_ERR_USAGE, "folder path too long (over %zu bytes) for its %s: "
                       "%s", cap - 1, name, dir);
    return SS_OK;
}

cJSON *ss_prov_folder_digest(const char *dir, const char *marker, ss_error *err)
{
    char path[4200];
    struct stat st;
    const char *of = SS_FOLDER_MANIFEST;
    if (folder_file(path, sizeof path, dir, of, err))
        return NULL;
    if (stat(path, &st) != 0) {
        of = marker;
        if (folder_file(path, sizeof path, dir, of, err))
            return NULL;
    }
    char hex[65];
    if (ss_sha256_file(path, hex, err))
        return NULL;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "path", dir);
    cJSON_AddStringToObject(j, "digest_of", of);
    cJSON_AddStringToObject(j, "sha256", hex);
    return j;
}

static int ignored(const char *key, const char *const *ignore)
{
    for (int k = 0; ignore && ignore[k]; k++)
        if (strcmp(key, ignore[k]) == 0)
            return 1;
    return 0;
}

static int diff_members(const cJSON *a, const cJSON *b, const char *const *ignore, char *buf,
                        size_t cap, int only_missing)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        if (!x->string || ignored(x->string, ignore))
            continue;
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
        if (only_missing) {
            if (!y) {
                snprintf(buf, cap, "%s", x->string);
                return 1;
            }
            continue;
        }
        if (y && cJSON_IsObject(x) && cJSON_IsObject(y)) {
            char sub[512];
            if (ss_json_first_difference(x, y, ignore, sub, sizeof sub)) {
                snprintf(buf, cap, "%s.%s", x->string, sub);
                return 1;
            }
            continue;
        }
        if (!y || !cJSON_Compare(x, y, 1)) {
            snprintf(buf, cap, "%s", x->string);
            return 1;
        }
    }
    return 0;
}

int ss_json_first_difference(const cJSON *a, const cJSON *b, const char *const *ignore,
                             char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!cJSON_IsObject(a) || !cJSON_IsObject(b)) {
        if (cJSON_Compare(a, b, 1))
            return 0;
        snprintf(buf, cap, "(value)");
        return 1;
    }
    return diff_members(a, b, ignore, buf, cap, 0) || diff_members(b, a, ignore, buf, cap, 1);
}

void ss_json_brief(const cJSON *v, char *buf, size_t cap)
{
    if (!v) {
        snprintf(buf, cap, "(absent)");
        return;
    }
    char *t = cJSON_PrintUnformatted(v);
    if (!t) {
        snprintf(buf, cap, "?");
        return;
    }
    if (strlen(t) > 60)
        snprintf(buf, cap, "%.57s...", t);
    else
        snprintf(buf, cap, "%s", t);
    free(t);
}

const cJSON *ss_json_at(const cJSON *obj, const char *dotted)
{
    char key[256];
    const char *p = dotted;
    while (obj && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        obj = cJSON_GetObjectItemCaseSensitive(obj, key);
        p += n + (p[n] == '.');
    }
    return obj;
}
