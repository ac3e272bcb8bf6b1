/* PNG heatmaps of attention-like matrices, like the paper's Figures 3 and 6:
 * a log colour scale (values clipped to [vmin, vmax], vmin > 0), each cell
 * drawn as a square of `scale` pixels, with a colour bar strip on the right. */
#ifndef SS_REPORT_HEATMAP_H
#define SS_REPORT_HEATMAP_H

#include <stddef.h>

#include "common/error.h"

typedef struct {
    int log_scale;    /* 1: log10 colour scale */
    double vmin, vmax; /* 0, 0: from the data (vmin = max(min positive, vmax * 1e-4) for log) */
    int scale;        /* pixels per cell (0: chosen so the image is about 512 px) */
    int upper_blank;  /* draw entries above the diagonal white (causal maps) */
} ss_heatmap_opts;

/* The colour scale of a matrix: [lo, hi] in log10 units when log_scale. */
typedef struct {
    double lo, hi;
    int log_scale;
    double vmin, vmax; /* the same range in data units */
} ss_heat_scale;

/* The range from the options, or from the finite data when vmin = vmax = 0
 * (for a log scale: vmin = max(least positive, vmax * 1e-4)). */
ss_code ss_heat_scale_find(const double *m, size_t n, const ss_heatmap_opts *o, ss_heat_scale *s,
                           ss_error *err);
/* Where v falls on the scale, clipped to [0, 1]. */
double ss_heat_scale_t(const ss_heat_scale *s, double v);
/* A cell's colour: white when blank (nothing drawn there), grey for NaN,
 * else viridis at its place on the scale. */
void ss_heat_colour(const ss_heat_scale *s, double v, int blank, unsigned char rgb[3]);

/* m is [rows, cols] row-major doubles; written atomically as PNG. */
ss_code ss_heatmap_png(const char *path, const double *m, int rows, int cols,
                       const ss_heatmap_opts *o, ss_error *err);

#endif
