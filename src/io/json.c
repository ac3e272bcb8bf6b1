/* JSON files and typed field getters. A JSON null counts as absent: Hugging
 * Face configs write "sliding_window": null for "not set". */
#include "io/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

/* How deep [ and { nest in buf[0..n) (strings skipped): cJSON gives up past
 * CJSON_NESTING_LIMIT levels and reports only where it stopped. */
static int max_depth(const char *buf, size_t n)
{
    int depth = 0, deepest = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest)
                deepest = depth;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return deepest;
}

ss_code ss_json_parse(const char *name, const char *what, const char *buf, size_t n, cJSON **out,
                      ss_error *err)
{
    *out = NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, n, &end, 0);
    if (!root) {
        size_t off = end && end >= buf && end <= buf + n ? (size_t)(end - buf) : 0;
        if (max_depth(buf, off + 1 < n ? off + 1 : n) > CJSON_NESTING_LIMIT)
            return ss_fail(err, SS_ERR_FORMAT, "%s: %s nested more than %d levels deep (at byte "
                           "offset %zu): refused", name, what, CJSON_NESTING_LIMIT, off);
        return ss_fail(err, SS_ERR_FORMAT, "%s: malformed %s at byte offset %zu", name, what, off);
    }
    for (const char *p = end; p && p < buf + n; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(root);
            return ss_fail(err, SS_ERR_FORMAT, "%s: unexpected data after the %s value at byte "
                           "offset %zu", name, what, (size_t)(p - buf));
        }
    }
    *out = root;
    return SS_OK;
}

ss_code ss_json_load(const char *path, size_t max_bytes, cJSON **out, ss_error *err)
{
    *out = NULL;
    char *buf;
    size_t n;
    ss_code rc = ss_read_file(path, max_bytes, &buf, &n, err);
    if (rc)
        return rc;
    rc = ss_json_parse(path, "JSON", buf, n, out, err);
    free(buf);
    return rc;
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
