#include "cli/explain_out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/scan_result.h"
#include "io/atomic_file.h"

ss_code ss_json_write_file(const char *path, const cJSON *root, ss_error *err)
{
    char *text = cJSON_Print(root);
    if (!text)
        return ss_fail(err, SS_ERR_NOMEM, "%s: out of memory printing JSON", path);
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the terminator: the write takes a length */
    ss_code rc = ss_write_file_atomic(path, text, n + 1, err);
    free(text);
    return rc;
}

cJSON *ss_json_num_or_null(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

void ss_csv_num(FILE *f, double v)
{
    if (isnan(v))
        fputs("nan", f);
    else
        fprintf(f, "%.10g", v);
}

ss_code ss_out_path(char *buf, size_t cap, const char *dir, const char *name, ss_error *err)
{
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return ss_fail(err, SS_ERR_USAGE, "output path %s/%s is too long", dir, name);
    return SS_OK;
}

cJSON *ss_headsel_json(const ss_headsel *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "source", s->source);
    cJSON *list = cJSON_AddArrayToObject(j, "heads");
    for (int l = 0; l < s->n_layer; l++)
        for (int h = 0; h < s->n_head; h++)
            if (s->flags[l * s->n_head + h]) {
                char name[32];
                ss_head_name(l, h, name, sizeof name);
                cJSON_AddItemToArray(list, cJSON_CreateString(name));
            }
    if (s->n_sdh) {
        cJSON *sdh = cJSON_AddArrayToObject(j, "sdh");
        for (int i = 0; i < s->n_sdh; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "layer", s->sdh[i].layer);
            cJSON_AddNumberToObject(e, "head", s->sdh[i].head);
            cJSON_AddNumberToObject(e, "delta", s->sdh[i].delta);
            cJSON_AddItemToObject(e, "score", ss_json_num_or_null(s->sdh[i].score));
            cJSON_AddItemToArray(sdh, e);
        }
    }
    return j;
}
