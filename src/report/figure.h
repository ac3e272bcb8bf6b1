/* SVG figures with axes, ticks, a title and, for heatmaps, a labelled
 * colour bar: the building blocks of the HTML report and of the figure
 * files the single commands write. Each builder appends one <svg> element
 * to a text buffer, which a caller inlines into HTML or writes to a file
 * (ss_text_write). Heatmaps carry their cells as an embedded base64 PNG
 * <image> (exact colours, one raster) under vector axes and text
 * (docs/report.md says why). Line plots are in report/lineplot.h. */
#ifndef SS_REPORT_FIGURE_H
#define SS_REPORT_FIGURE_H

#include "common/error.h"
#include "report/heatmap.h"
#include "report/textbuf.h"

/* ---- heatmaps (Figures 3, 6, 15; the whole-model view) ---- */

/* One axis of a heatmap. Named cells (names[i] labels cell i: heads,
 * frequency indices), or numeric: cell i covers [lo + i w, lo + (i + 1) w)
 * with w = (hi - lo) / cells, and ticks fall at nice values. */
typedef struct {
    const char *label;
    const char *const *names; /* NULL: numeric */
    double lo, hi;
} ss_fig_axis;

typedef struct {
    const char *title;
    ss_fig_axis x, y;        /* x: columns; y: rows, row 0 at the top */
    const char *cbar_label;  /* what the colours mean */
    ss_heatmap_opts scale;   /* log_scale, vmin/vmax (0, 0: from the data), upper_blank */
} ss_fig_heatmap_opts;

/* Cells are drawn at least SS_FIG_MIN_SIDE px per side (a 4-frequency map
 * gets wide columns), at most SS_FIG_MAX_SIDE: longer axes are averaged in
 * equal blocks, and the subtitle says so. */
#define SS_FIG_MIN_SIDE 200
#define SS_FIG_TARGET_SIDE 380
#define SS_FIG_MAX_SIDE 480

/* m is [rows, cols] row-major; NaN cells are grey. */
ss_code ss_fig_heatmap(ss_text *svg, const double *m, int rows, int cols,
                       const ss_fig_heatmap_opts *o, ss_error *err);

/* The same, written atomically to its own .svg file. */
ss_code ss_fig_heatmap_write(const char *path, const double *m, int rows, int cols,
                             const ss_fig_heatmap_opts *o, ss_error *err);

/* Axis names "<prefix><first>", "<prefix><first + 1>", ...: n strings in one
 * allocation (release with free). NULL when memory runs out. */
const char **ss_fig_names(const char *prefix, int first, int n);

/* ---- box plots (Figure 7's OOD/ID ratios, Figure 16's band ablations) ---- */

/* One box: the five-number summary (whiskers at min and max, as
 * analysis/compare.h computes it) and optionally the values themselves,
 * drawn as dots. */
typedef struct {
    const char *name;
    double min, q1, median, q3, max;
    const double *points;
    int n_points;
} ss_fig_box;

typedef struct {
    const char *title, *xlabel, *ylabel;
    double ref;    /* a dashed reference line (e.g. ratio 1); NaN: none */
} ss_fig_box_opts;

ss_code ss_fig_boxplot(ss_text *svg, const ss_fig_box *b, int n, const ss_fig_box_opts *o,
                       ss_error *err);

/* ---- grouped bar charts (Figures 9, 10: SDHs vs all heads) ---- */

typedef struct {
    const char *title, *xlabel, *ylabel;
    int n_cat, n_series;
    const char *const *cats, *const *series;
    const double *v;       /* [series][cat]; NaN: no bar */
    const double *lo, *hi; /* optional error bars, same shape (NULL: none) */
    const char *ref_label; /* a dashed line at ref, named in the legend (NULL: none) */
    double ref;
} ss_fig_bars;

ss_code ss_fig_barchart(ss_text *svg, const ss_fig_bars *b, ss_error *err);

/* ---- scatter plots (sdh-effect: loss change against slash score) ---- */

typedef struct {
    const char *name;           /* legend entry */
    const double *x, *y;        /* NaN points are left out */
    const char *const *labels;  /* optional text beside each point (NULL: none) */
    int n;
} ss_fig_points;

typedef struct {
    const char *title, *xlabel, *ylabel;
    double ref_y;               /* a dashed horizontal reference line (e.g. 0); NaN: none */
} ss_fig_scatter_opts;

ss_code ss_fig_scatter(ss_text *svg, const ss_fig_points *p, int n_series,
                       const ss_fig_scatter_opts *o, ss_error *err);

#endif
