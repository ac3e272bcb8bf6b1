/* Generic results of the public API: named arrays viewing a library result
 * struct that the handle owns. */
#include <stdlib.h>
#include <string.h>

#include "api/handles.h"
#include "common/mem.h"

ss_result *ss_api_result_new(const char *kind, void *owned, void (*release)(void *),
                             ss_error *err)
{
    ss_result *r = ss_calloc(1, sizeof *r, "result", err);
    if (r) {
        r->kind = kind;
        r->meta = cJSON_CreateObject();
    }
    if (!r || !r->meta) {
        if (r)
            free(r);
        release(owned);
        ss_fail(err, SS_ERR_NOMEM, "%s result: out of memory", kind);
        return NULL;
    }
    r->owned = owned;
    r->release = release;
    return r;
}

static void add(ss_result *r, const char *name, ss_array_type type, const void *data, int ndim,
                int64_t d0, int64_t d1, int64_t d2)
{
    if (r->n == SS_RESULT_MAX_ARRAYS) /* a programming error: the kinds add a fixed few */
        abort();
    ss_array *a = &r->arrays[r->n++];
    *a = (ss_array){.name = name, .type = type, .ndim = ndim, .data = data};
    int64_t d[3] = {d0, d1, d2};
    for (int i = 0; i < ndim; i++)
        a->shape[i] = d[i];
}

void ss_api_result_add(ss_result *r, const char *name, const double *data, int ndim,
                       int64_t d0, int64_t d1, int64_t d2)
{
    add(r, name, SS_ARRAY_F64, data, ndim, d0, d1, d2);
}

void ss_api_result_add_i64(ss_result *r, const char *name, const int64_t *data, int ndim,
                           int64_t d0, int64_t d1, int64_t d2)
{
    add(r, name, SS_ARRAY_I64, data, ndim, d0, d1, d2);
}

const char *ss_result_kind(const ss_result *r)
{
    return r->kind;
}

int ss_result_n_arrays(const ss_result *r)
{
    return r->n;
}

const ss_array *ss_result_array(const ss_result *r, int i)
{
    return i >= 0 && i < r->n ? &r->arrays[i] : NULL;
}

const ss_array *ss_result_find(const ss_result *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->arrays[i].name, name) == 0)
            return &r->arrays[i];
    return NULL;
}

char *ss_result_json(const ss_result *r, ss_error *err)
{
    char *text = cJSON_PrintUnformatted(r->meta);
    if (!text)
        ss_fail(err, SS_ERR_NOMEM, "%s result: out of memory", r->kind);
    return text;
}

void ss_result_free(ss_result *r)
{
    if (!r)
        return;
    if (r->release)
        r->release(r->owned);
    cJSON_Delete(r->meta);
    free(r);
}
