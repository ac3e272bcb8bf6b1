/* A heat map of one number per head: layers as rows (layer 0 on top), heads
 * as columns, viridis on a linear scale, with a title, axis labels and
 * ticks, a labelled colour bar, and optionally some heads marked with a
 * white dot (e.g. the slash-dominant ones) and a legend saying what the dot
 * means. NaN cells are grey. */
#ifndef SS_REPORT_HEADMAP_H
#define SS_REPORT_HEADMAP_H

#include "common/error.h"

typedef struct {
    const char *title, *subtitle;   /* subtitle may be NULL */
    const char *row_label, *col_label, *bar_label;
    double vmin, vmax;              /* colour range; vmin < vmax */
    const unsigned char *mark;      /* [rows * cols], non-zero: marked; or NULL */
    const char *mark_label;         /* legend text for the dot */
} ss_headmap_opts;

/* Where cell (i, j) is drawn in the image of a rows x cols map with these
 * options: its top-left pixel and its side (for tests, or an image map
 * that links cells to heads). */
void ss_headmap_cell(const ss_headmap_opts *o, int rows, int cols, int i, int j, int *x, int *y,
                     int *side);

/* m is [rows, cols] row-major; written atomically as PNG. */
ss_code ss_headmap_png(const char *path, const double *m, int rows, int cols,
                       const ss_headmap_opts *o, ss_error *err);

#endif
