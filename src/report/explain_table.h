/* A per-head table of numbers (one row per query head, named columns), and
 * the three views the explain commands write of it: the CSV, the averages
 * over the chosen heads next to the averages over all heads (the paper's
 * Figures 9, 10, 14), and the same as JSON. */
#ifndef SS_REPORT_EXPLAIN_TABLE_H
#define SS_REPORT_EXPLAIN_TABLE_H

#include <cjson/cJSON.h>

#include "common/error.h"

#define SS_TABLE_MAX_COLS 96

typedef struct {
    int n_rows, n_cols;
    char *names[SS_TABLE_MAX_COLS];
    int *layer, *head, *kv_head;
    unsigned char *listed;
    double *v; /* [n_rows, n_cols] */
} ss_table;

ss_code ss_table_init(ss_table *t, int n_rows, ss_error *err);
void ss_table_free(ss_table *t);
/* Appends a column (name copied, printf-style); returns its index or -1. */
int ss_table_col(ss_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
double *ss_table_at(ss_table *t, int row, int col);

/* layer,head,name,kv_head,listed,<columns> */
ss_code ss_table_write_csv(const ss_table *t, const char *path, ss_error *err);
/* group,heads,<columns>: rows "listed" and "all"; means skip NaN. */
ss_code ss_table_write_summary(const ss_table *t, const char *path, ss_error *err);
/* {"listed": {...}, "all": {...}} means, and an array of per-row objects. */
cJSON *ss_table_summary_json(const ss_table *t);
cJSON *ss_table_rows_json(const ss_table *t);

#endif
