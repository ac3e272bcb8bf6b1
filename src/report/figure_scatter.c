/* Scatter plots: a few point series on shared value axes, a legend, an
 * optional dashed reference line and optional point labels. */
#include <math.h>

#include "report/colormap.h"
#include "report/figure.h"
#include "report/figure_axes.h"

#define WIDTH 720
#define HEIGHT 440

static ss_fig_span padded(ss_fig_span s)
{
    if (!isfinite(s.lo)) /* no finite value at all */
        s.lo = s.hi = 0;
    s = ss_fig_span_pad(s);
    double pad = (s.hi - s.lo) * 0.04;
    s.lo -= pad;
    s.hi += pad;
    return s;
}

ss_code ss_fig_scatter(ss_text *t, const ss_fig_points *p, int n_series,
                       const ss_fig_scatter_opts *o, ss_error *err)
{
    const char *what = o->title ? o->title : "scatter plot";
    if (n_series < 1)
        return ss_fail(err, SS_ERR_USAGE, "%s: a scatter plot needs at least one series", what);
    ss_fig_span sx = {INFINITY, -INFINITY, 0}, sy = {INFINITY, -INFINITY, 0};
    for (int k = 0; k < n_series; k++)
        for (int i = 0; i < p[k].n; i++)
            if (isfinite(p[k].x[i]) && isfinite(p[k].y[i])) {
                ss_fig_span_extend(&sx, p[k].x[i]);
                ss_fig_span_extend(&sy, p[k].y[i]);
            }
    ss_fig_span_extend(&sy, o->ref_y);
    sx = padded(sx);
    sy = padded(sy);
    ss_fig_rect r = {78, WIDTH - 170, HEIGHT - 56, 40};
    ss_fig_begin(t, WIDTH, HEIGHT, o->title);
    ss_fig_value_axis(t, r, sx, 0);
    ss_fig_value_axis(t, r, sy, 1);
    ss_fig_ref_line(t, r, sy, o->ref_y, "#888");
    for (int k = 0; k < n_series; k++) {
        const char *colour = ss_series_colour(k);
        for (int i = 0; i < p[k].n; i++) {
            if (!isfinite(p[k].x[i]) || !isfinite(p[k].y[i]))
                continue;
            double cx = ss_fig_map(sx, p[k].x[i], r.x0, r.x1);
            double cy = ss_fig_map(sy, p[k].y[i], r.y0, r.y1);
            ss_text_printf(t, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"%s\" "
                              "fill-opacity=\"0.75\" stroke=\"#222\" stroke-width=\"0.5\"/>\n",
                           cx, cy, colour);
            if (p[k].labels && p[k].labels[i]) {
                ss_text_printf(t, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"10\">", cx + 6,
                               cy - 4);
                ss_text_escape(t, p[k].labels[i]);
                ss_text_put(t, "</text>\n");
            }
        }
        ss_fig_legend_box(t, r.x1 + 16, r.y1 + 10 + 20 * k, colour, p[k].name);
    }
    ss_fig_frame(t, r, o->xlabel, o->ylabel);
    ss_fig_end(t);
    return ss_text_check(t, what, err);
}
