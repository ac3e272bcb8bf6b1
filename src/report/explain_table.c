#include "report/explain_table.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/scan_result.h"
#include "report/explain_out.h"
#include "common/mem.h"
#include "io/atomic_file.h"

ss_code ss_table_init(ss_table *t, int n_rows, ss_error *err)
{
    memset(t, 0, sizeof *t);
    t->n_rows = n_rows;
    size_t n = n_rows > 0 ? (size_t)n_rows : 1;
    if (!(t->layer = ss_calloc(n, sizeof(int), "table", err)) ||
        !(t->head = ss_calloc(n, sizeof(int), "table", err)) ||
        !(t->kv_head = ss_calloc(n, sizeof(int), "table", err)) ||
        !(t->listed = ss_calloc(n, 1, "table", err)) ||
        !(t->v = ss_calloc(n * SS_TABLE_MAX_COLS, sizeof(double), "table", err))) {
        ss_table_free(t);
        return SS_ERR_NOMEM;
    }
    for (size_t i = 0; i < n * SS_TABLE_MAX_COLS; i++)
        t->v[i] = NAN;
    return SS_OK;
}

void ss_table_free(ss_table *t)
{
    for (int c = 0; c < t->n_cols; c++)
        free(t->names[c]);
    free(t->layer); free(t->head); free(t->kv_head); free(t->listed); free(t->v);
    memset(t, 0, sizeof *t);
}

int ss_table_col(ss_table *t, const char *fmt, ...)
{
    if (t->n_cols >= SS_TABLE_MAX_COLS)
        return -1;
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    t->names[t->n_cols] = strdup(buf);
    return t->names[t->n_cols] ? t->n_cols++ : -1;
}

double *ss_table_at(ss_table *t, int row, int col)
{
    return t->v + (size_t)row * SS_TABLE_MAX_COLS + col;
}

static double cell(const ss_table *t, int row, int col)
{
    return t->v[(size_t)row * SS_TABLE_MAX_COLS + col];
}

ss_code ss_table_write_csv(const ss_table *t, const char *path, ss_error *err)
{
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc)
        return rc;
    fprintf(f.fp, "layer,head,name,kv_head,listed");
    for (int c = 0; c < t->n_cols; c++)
        fprintf(f.fp, ",%s", t->names[c]);
    fputc('\n', f.fp);
    for (int r = 0; r < t->n_rows; r++) {
        char name[32];
        ss_head_name(t->layer[r], t->head[r], name, sizeof name);
        fprintf(f.fp, "%d,%d,%s,%d,%d", t->layer[r], t->head[r], name, t->kv_head[r],
                t->listed[r]);
        for (int c = 0; c < t->n_cols; c++) {
            fputc(',', f.fp);
            ss_csv_num(f.fp, cell(t, r, c));
        }
        fputc('\n', f.fp);
    }
    return ss_atomic_commit(&f, err);
}

int ss_table_means(const ss_table *t, int listed, double *mean, int *undefined)
{
    int rows = 0;
    for (int r = 0; r < t->n_rows; r++)
        rows += !listed || t->listed[r];
    for (int c = 0; c < t->n_cols; c++) {
        double s = 0;
        int n = 0;
        for (int r = 0; r < t->n_rows; r++) {
            double v = cell(t, r, c);
            if ((!listed || t->listed[r]) && !isnan(v)) {
                s += v;
                n++;
            }
        }
        mean[c] = n ? s / n : NAN;
        if (undefined)
            undefined[c] = rows - n;
    }
    return rows;
}

cJSON *ss_table_undefined_json(const ss_table *t, const int *undefined)
{
    cJSON *u = cJSON_CreateObject();
    for (int c = 0; c < t->n_cols; c++)
        if (undefined[c] > 0)
            cJSON_AddNumberToObject(u, t->names[c], undefined[c]);
    return u;
}

ss_code ss_table_write_summary(const ss_table *t, const char *path, ss_error *err)
{
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc)
        return rc;
    fprintf(f.fp, "group,heads");
    for (int c = 0; c < t->n_cols; c++)
        fprintf(f.fp, ",%s", t->names[c]);
    fputc('\n', f.fp);
    for (int g = 0; g < 2; g++) {
        double m[SS_TABLE_MAX_COLS];
        int rows = ss_table_means(t, g == 0, m, NULL);
        fprintf(f.fp, "%s,%d", g == 0 ? "listed" : "all", rows);
        for (int c = 0; c < t->n_cols; c++) {
            fputc(',', f.fp);
            ss_csv_num(f.fp, m[c]);
        }
        fputc('\n', f.fp);
    }
    return ss_atomic_commit(&f, err);
}

cJSON *ss_table_summary_json(const ss_table *t)
{
    cJSON *j = cJSON_CreateObject();
    for (int g = 0; g < 2; g++) {
        double m[SS_TABLE_MAX_COLS];
        int undef[SS_TABLE_MAX_COLS];
        int rows = ss_table_means(t, g == 0, m, undef);
        cJSON *o = cJSON_AddObjectToObject(j, g == 0 ? "listed" : "all");
        cJSON_AddNumberToObject(o, "heads", rows);
        for (int c = 0; c < t->n_cols; c++)
            cJSON_AddItemToObject(o, t->names[c], ss_json_num_or_null(m[c]));
        cJSON_AddItemToObject(o, "undefined", ss_table_undefined_json(t, undef));
    }
    return j;
}

cJSON *ss_table_rows_json(const ss_table *t)
{
    cJSON *arr = cJSON_CreateArray();
    for (int r = 0; r < t->n_rows; r++) {
        cJSON *o = cJSON_CreateObject();
        char name[32];
        ss_head_name(t->layer[r], t->head[r], name, sizeof name);
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddNumberToObject(o, "layer", t->layer[r]);
        cJSON_AddNumberToObject(o, "head", t->head[r]);
        cJSON_AddNumberToObject(o, "kv_head", t->kv_head[r]);
        cJSON_AddBoolToObject(o, "listed", t->listed[r]);
        for (int c = 0; c < t->n_cols; c++)
            cJSON_AddItemToObject(o, t->names[c], ss_json_num_or_null(cell(t, r, c)));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
