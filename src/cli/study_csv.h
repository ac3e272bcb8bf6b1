/* The CSV files of the stage folders, read back for the study report: a
 * header row and plain comma-separated cells (the writers never quote). */
#ifndef SS_CLI_STUDY_CSV_H
#define SS_CLI_STUDY_CSV_H

#include "common/error.h"

typedef struct {
    char *text;    /* the file, cut into NUL-terminated cells */
    char **cell;   /* [rows + 1][cols], row 0 the header */
    int rows, cols;
    char path[4096];
} ss_csv;

/* Reads dir/name. Lines starting with '#' are left out. A missing file is
 * SS_ERR_MISSING, a row with the wrong number of cells SS_ERR_FORMAT. */
ss_code ss_csv_read(ss_csv *t, const char *dir, const char *name, ss_error *err);
void ss_csv_free(ss_csv *t);
/* Both files or neither (the first freed when the second fails). */
ss_code ss_csv_read_pair(ss_csv *a, const char *dir_a, const char *name_a, ss_csv *b,
                         const char *dir_b, const char *name_b, ss_error *err);

/* The column called name, or -1. */
int ss_csv_col(const ss_csv *t, const char *name);
/* Cell (row, col) of the data rows (0-based), "" when col < 0. */
const char *ss_csv_str(const ss_csv *t, int row, int col);
/* As a number: NaN when empty, not a number or col < 0. */
double ss_csv_value(const ss_csv *t, int row, int col);

/* Columns the report cannot do without: SS_ERR_FORMAT naming the file and
 * the column otherwise. names ends with NULL. */
ss_code ss_csv_need(const ss_csv *t, const char *const *names, ss_error *err);

#endif
