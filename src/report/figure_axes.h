/* The pieces every SVG figure shares: the document frame with its title,
 * "nice" ticks (1, 2 or 5 times a power of ten), value axes with grid lines
 * and labels, and legends. Internal to src/report (the figures use it). */
#ifndef SS_REPORT_FIGURE_AXES_H
#define SS_REPORT_FIGURE_AXES_H

#include "report/textbuf.h"

/* A plot area in pixels: x0 left, x1 right, y0 bottom, y1 top (y0 > y1). */
typedef struct {
    double x0, x1, y0, y1;
} ss_fig_rect;

/* A value range; in log10 units when log is set. */
typedef struct {
    double lo, hi;
    int log;
} ss_fig_span;

/* <svg> of w x h with a white background and the title (also as <title>). */
void ss_fig_begin(ss_text *t, int w, int h, const char *title);
void ss_fig_end(ss_text *t);

/* A tick step giving about `target` ticks over [lo, hi]. */
double ss_fig_nice_step(double lo, double hi, int target);
/* A tick label for v ("1e-3" style on log axes). */
void ss_fig_tick_label(char *buf, size_t n, double v, double step, int log);

/* Grows s to hold v (non-finite values are left out). */
void ss_fig_span_extend(ss_fig_span *s, double v);
/* Widens a span to nice ends and gives a single value some room. */
ss_fig_span ss_fig_span_pad(ss_fig_span s);
/* The pixel of value v on the span along [p0, p1]. */
double ss_fig_map(ss_fig_span s, double v, double p0, double p1);

/* Ticks, labels and light grid lines of a value axis: the left axis
 * (vertical) or the bottom one. */
void ss_fig_value_axis(ss_text *t, ss_fig_rect r, ss_fig_span s, int vertical);
/* A dashed horizontal reference line at value v across the plot (none when
 * v is not finite). */
void ss_fig_ref_line(ss_text *t, ss_fig_rect r, ss_fig_span s, double v, const char *colour);
/* The frame, the x label under it and the y label rotated at the left. */
void ss_fig_frame(ss_text *t, ss_fig_rect r, const char *xlabel, const char *ylabel);

/* One legend entry at (x, y): a line (dash "" = solid) or a filled
 * square, then the escaped name. */
void ss_fig_legend_line(ss_text *t, double x, double y, const char *colour, const char *dash,
                        const char *name);
void ss_fig_legend_box(ss_text *t, double x, double y, const char *colour, const char *name);

#endif
