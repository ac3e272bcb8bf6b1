#include "report/explain_out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/blas.h"
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

cJSON *ss_explain_take(cJSON **part)
{
    cJSON *p = *part;
    *part = NULL;
    return p;
}

void ss_explain_record_free(ss_explain_record *r)
{
    cJSON_Delete(r->model);
    cJSON_Delete(r->provenance);
    cJSON_Delete(r->prompts);
    cJSON_Delete(r->selection);
    cJSON_Delete(r->interventions);
    *r = (ss_explain_record){0};
}

void ss_explain_add_interventions(cJSON *root, ss_explain_record *rec)
{
    if (rec->interventions)
        cJSON_AddItemToObject(root, "interventions", ss_explain_take(&rec->interventions));
}

cJSON *ss_explain_root(ss_explain_record *rec, const char *command, int with_blas, int *prov_ok)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "command", command);
    cJSON_AddStringToObject(root, "version", SS_VERSION);
    cJSON_AddItemToObject(root, "model", ss_explain_take(&rec->model));
    *prov_ok = rec->provenance != NULL;
    cJSON_AddItemToObject(root, "provenance", ss_explain_take(&rec->provenance));
    if (with_blas)
        cJSON_AddItemToObject(root, "blas", ss_blas_info_json());
    if (rec->prompts)
        cJSON_AddItemToObject(root, "prompts", ss_explain_take(&rec->prompts));
    ss_explain_add_interventions(root, rec);
    return root;
}
