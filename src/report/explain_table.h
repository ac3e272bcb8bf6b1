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

/* The averages' rule (docs/results.md): a cell with no defined value (NaN:
 * an RV whose mean is 0, a spectrum of a zero matrix) does not count, as a
 * prompt with no valid pair does not count at that offset (SPEC.md section
 * 2); so one undefined head does not turn a group's mean into NaN, and it is
 * never averaged as 0. That it was left out stays visible: the CSV row shows
 * nan, and the JSON summary counts, per column, the heads left out.
 * Means over the rows (only listed ones when `listed`) into mean[n_cols]
 * (NaN when no row has a value); undefined[n_cols] (may be NULL) gets how
 * many of those rows had none. Returns the number of rows in the group. */
int ss_table_means(const ss_table *t, int listed, double *mean, int *undefined);
/* {"<column>": heads without a value, ...} for the columns with any. */
cJSON *ss_table_undefined_json(const ss_table *t, const int *undefined);

/* layer,head,name,kv_head,listed,<columns> */
ss_code ss_table_write_csv(const ss_table *t, const char *path, ss_error *err);
/* group,heads,<columns>: rows "listed" and "all", ss_table_means. */
ss_code ss_table_write_summary(const ss_table *t, const char *path, ss_error *err);
/* {"listed": {"heads", <column means>, "undefined": {...}}, "all": {...}},
 * and an array of per-row objects. */
cJSON *ss_table_summary_json(const ss_table *t);
cJSON *ss_table_rows_json(const ss_table *t);

#endif
