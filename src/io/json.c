/* JSON files and typed field getters. A JSON null counts as absent: Hugging
 * Face configs write "sliding_window": null for "not set". */
#include "io/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

ss_code ss_json_load(const char *path, size_t max_bytes, cJSON **out, ss_error *err)
{
    *out = NULL;
    char *buf;
    size_t n;
    ss_code rc = ss_read_file(path, max_bytes, &buf, &n, err);
    if (rc)
        return rc;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, n, &end, 0);
    if (!root) {
        size_t off = end && end >= buf && end <= buf + n ? (size_t)(end - buf) : 0;
        free(buf);
        return ss_fail(err, SS_ERR_FORMAT, "%s: malformed JSON at byte offset %zu", path, off);
    }
    for (const char *p = end; p && p < buf + n; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            size_t off = (size_t)(p - buf);
            free(buf);
            cJSON_Delete(root);
            return ss_fail(err, SS_ERR_FORMAT, "%s: unexpected data after the JSON value at byte "
                           "offset %zu", path, off);
        }
    }
    free(buf);
    *out = root;
    return SS_OK;
}

/* The value as a short printable string for an error message. */
static void describe(const cJSON *it, char *buf, size_t cap)
{
    if (cJSON_IsString(it)) {
        snprintf(buf, cap, "'%.60s'%s", it->valuestring,
                 strlen(it->valuestring) > 60 ? "..." : "");
        return;
    }
    char *s = cJSON_PrintUnformatted(it);
    if (!s) {
        snprintf(buf, cap, "(unprintable)");
        return;
    }
    snprintf(buf, cap, "%.60s%s", s, strlen(s) > 60 ? "..." : "");
    free(s);
}

/* Looks the field up; SS_OK with *it == NULL means absent and not required. */
static ss_code field(const cJSON *obj, const char *file, const char *key, int required,
                     const cJSON **it, ss_error *err)
{
    *it = NULL;
    if (!cJSON_IsObject(obj))
        return ss_fail(err, SS_ERR_FORMAT, "%s: expected a JSON object holding field '%s'", file,
                       key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return ss_fail(err, SS_ERR_MISSING, "%s: required field '%s' is missing", file, key);
        return SS_OK;
    }
    *it = v;
    return SS_OK;
}

ss_code ss_json_int(const cJSON *obj, const char *file, const char *key, int required,
                    long long min, long long max, long long *v, ss_error *err)
{
    const cJSON *it;
    ss_code rc = field(obj, file, key, required, &it, err);
    if (rc || !it)
        return rc;
    double d = it->valuedouble;
    /* integral, and inside [min, max] compared in double before converting */
    if (!cJSON_IsNumber(it) || !isfinite(d) || d != floor(d) || d < (double)min ||
        d > (double)max || d < -9.2e18 || d > 9.2e18 || (long long)d < min || (long long)d > max) {
        char got[96];
        describe(it, got, sizeof got);
        return ss_fail(err, SS_ERR_VALUE, "%s: field '%s' must be an integer from %lld to %lld, "
                       "got %s", file, key, min, max, got);
    }
    *v = (long long)d;
    return SS_OK;
}

ss_code ss_json_num(const cJSON *obj, const char *file, const char *key, int required,
                    double *v, ss_error *err)
{
    const cJSON *it;
    ss_code rc = field(obj, file, key, required, &it, err);
    if (rc || !it)
        return rc;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
        char got[96];
        describe(it, got, sizeof got);
        return ss_fail(err, SS_ERR_VALUE, "%s: field '%s' must be a finite number, got %s", file,
                       key, got);
    }
    *v = it->valuedouble;
    return SS_OK;
}

ss_code ss_json_str(const cJSON *obj, const char *file, const char *key, int required,
                    const char **v, ss_error *err)
{
    const cJSON *it;
    ss_code rc = field(obj, file, key, required, &it, err);
    if (rc || !it)
        return rc;
    if (!cJSON_IsString(it)) {
        char got[96];
        describe(it, got, sizeof got);
        return ss_fail(err, SS_ERR_VALUE, "%s: field '%s' must be a string, got %s", file, key,
                       got);
    }
    *v = it->valuestring;
    return SS_OK;
}

ss_code ss_json_bool(const cJSON *obj, const char *file, const char *key, int required,
                     int *v, ss_error *err)
{
    const cJSON *it;
    ss_code rc = field(obj, file, key, required, &it, err);
    if (rc || !it)
        return rc;
    if (!cJSON_IsBool(it)) {
        char got[96];
        describe(it, got, sizeof got);
        return ss_fail(err, SS_ERR_VALUE, "%s: field '%s' must be true or false, got %s", file,
                       key, got);
    }
    *v = cJSON_IsTrue(it) ? 1 : 0;
    return SS_OK;
}
