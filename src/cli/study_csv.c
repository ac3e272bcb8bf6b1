#include "cli/study_csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

#define MAX_BYTES (256u << 20)

static int count_cells(const char *line)
{
    int n = 1;
    for (; *line && *line != '\n'; line++)
        n += *line == ',';
    return n;
}

ss_code ss_csv_read(ss_csv *t, const char *dir, const char *name, ss_error *err)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s/%s", dir, name);
    size_t n;
    ss_error e2 = {0};
    if (ss_read_file(t->path, MAX_BYTES, &t->text, &n, &e2))
        return ss_fail(err, SS_ERR_MISSING, "%s", e2.msg);
    /* count rows first, then cut in place */
    int lines = 0;
    for (char *p = t->text; *p; p++)
        lines += *p == '\n';
    t->cols = count_cells(t->text);
    t->cell = calloc((size_t)(lines + 2) * t->cols, sizeof *t->cell);
    if (!t->cell)
        return ss_fail(err, SS_ERR_NOMEM, "%s: out of memory", t->path);
    int row = 0;
    char *p = t->text;
    while (*p) {
        char *end = strchr(p, '\n');
        if (end)
            *end = '\0';
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r')
            p[len - 1] = '\0';
        if (*p && *p != '#') {
            if (count_cells(p) != t->cols) {
                ss_fail(err, SS_ERR_FORMAT, "%s: line %d has %d cells, the header %d",
                        t->path, row + 1, count_cells(p), t->cols);
                ss_csv_free(t);
                return SS_ERR_FORMAT;
            }
            char *c = p;
            for (int k = 0; k < t->cols; k++) {
                t->cell[(size_t)row * t->cols + k] = c;
                char *comma = strchr(c, ',');
                if (comma) {
                    *comma = '\0';
                    c = comma + 1;
                }
            }
            row++;
        }
        if (!end)
            break;
        p = end + 1;
    }
    if (row < 1) {
        ss_fail(err, SS_ERR_FORMAT, "%s: no header row", t->path);
        ss_csv_free(t);
        return SS_ERR_FORMAT;
    }
    t->rows = row - 1;
    return SS_OK;
}

ss_code ss_csv_read_pair(ss_csv *a, const char *dir_a, const char *name_a, ss_csv *b,
                         const char *dir_b, const char *name_b, ss_error *err)
{
    ss_code rc = ss_csv_read(a, dir_a, name_a, err);
    if (!rc && (rc = ss_csv_read(b, dir_b, name_b, err)))
        ss_csv_free(a);
    return rc;
}

void ss_csv_free(ss_csv *t)
{
    free(t->text);
    free(t->cell);
    t->text = NULL;
    t->cell = NULL;
    t->rows = t->cols = 0;
}

int ss_csv_col(const ss_csv *t, const char *name)
{
    for (int k = 0; k < t->cols; k++)
        if (strcmp(t->cell[k], name) == 0)
            return k;
    return -1;
}

const char *ss_csv_str(const ss_csv *t, int row, int col)
{
    if (col < 0 || col >= t->cols || row < 0 || row >= t->rows)
        return "";
    return t->cell[(size_t)(row + 1) * t->cols + col];
}

double ss_csv_value(const ss_csv *t, int row, int col)
{
    const char *s = ss_csv_str(t, row, col);
    if (!*s)
        return NAN;
    char *end;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}

ss_code ss_csv_need(const ss_csv *t, const char *const *names, ss_error *err)
{
    for (; *names; names++)
        if (ss_csv_col(t, *names) < 0)
            return ss_fail(err, SS_ERR_FORMAT, "%s: no column '%s' (a file of another "
                           "slashscope version?)", t->path, *names);
    return SS_OK;
}
