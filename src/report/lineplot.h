/* Line plots as SVG: a few series over a shared x axis, with axes, "nice"
 * ticks, a title and a legend, for curves a person would rather look at than
 * read (training trajectories, the summed-cosine curve of Figure 17).
 * SVG keeps the labels as text and opens in any browser. */
#ifndef SS_REPORT_LINEPLOT_H
#define SS_REPORT_LINEPLOT_H

#include "common/error.h"
#include "report/textbuf.h"

typedef struct {
    const char *name; /* legend entry */
    const double *x;  /* NULL: 0, 1, 2, ... */
    const double *y;  /* NaN values break the line */
    int n;
} ss_series;

typedef struct {
    const char *title, *xlabel, *ylabel;
    int log_y; /* log10 y axis (non-positive values are left out) */
} ss_plot_opts;

/* Plot geometry, exposed so tests can check where a value lands. */
#define SS_PLOT_WIDTH 760
#define SS_PLOT_HEIGHT 440
#define SS_PLOT_LEFT 78
#define SS_PLOT_RIGHT 190 /* room for the legend */
#define SS_PLOT_TOP 40
#define SS_PLOT_BOTTOM 56
#define SS_PLOT_MAX_SERIES 64 /* beyond SS_DISTINCT_SERIES (20) each line is labelled directly */

/* The plot as an SVG document appended to svg (for a report), and the
 * same written to its own file. */
ss_code ss_fig_lines(ss_text *svg, const ss_series *s, int n_series, const ss_plot_opts *o,
                     ss_error *err);
ss_code ss_lineplot_svg(const char *path, const ss_series *s, int n_series,
                        const ss_plot_opts *o, ss_error *err);

/* v as printf's "%.2f" writes it (the same text: the exact value rounded
 * half to even), without printf's cost for the thousands of points of a
 * long curve; out holds SS_PLOT_FIXED2_MAX chars (the longest double).
 * Returns the length. */
#define SS_PLOT_FIXED2_MAX 320
int ss_plot_fixed2(char *out, double v);

#endif
