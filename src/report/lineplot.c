#include "report/lineplot.h"

#include <math.h>
#include <stdio.h>

#include "report/colormap.h"
#include "report/figure_axes.h"

static double value_at(const ss_series *s, int i, int want_x, int log_y)
{
    if (want_x)
        return s->x ? s->x[i] : (double)i;
    double y = s->y[i];
    if (log_y)
        return y > 0 ? log10(y) : NAN;
    return y;
}

static ss_fig_span data_span(const ss_series *s, int n_series, int want_x, int log_y)
{
    ss_fig_span r = {INFINITY, -INFINITY, want_x ? 0 : log_y};
    for (int k = 0; k < n_series; k++)
        for (int i = 0; i < s[k].n; i++) {
            double v = value_at(&s[k], i, want_x, log_y);
            if (isfinite(v) && isfinite(value_at(&s[k], i, !want_x, log_y))) {
                r.lo = fmin(r.lo, v);
                r.hi = fmax(r.hi, v);
            }
        }
    return ss_fig_span_pad(r);
}

static ss_fig_rect plot_rect(void)
{
    return (ss_fig_rect){SS_PLOT_LEFT, SS_PLOT_WIDTH - SS_PLOT_RIGHT,
                         SS_PLOT_HEIGHT - SS_PLOT_BOTTOM, SS_PLOT_TOP};
}

/* The series as polylines (a NaN starts a new one); returns the last
 * drawn point in *lx, *ly (NaN when none) for a direct label. */
static void polyline(ss_text *t, const ss_series *s, ss_fig_span xs, ss_fig_span ys, int log_y,
                     int k, double *lx, double *ly)
{
    ss_fig_rect r = plot_rect();
    const char *dash = ss_series_dash(k);
    int open = 0;
    *lx = *ly = NAN;
    for (int i = 0; i < s->n; i++) {
        double x = value_at(s, i, 1, log_y), y = value_at(s, i, 0, log_y);
        if (!isfinite(x) || !isfinite(y)) {
            if (open)
                ss_text_put(t, "\"/>\n");
            open = 0;
            continue;
        }
        double px = ss_fig_map(xs, x, r.x0, r.x1), py = ss_fig_map(ys, y, r.y0, r.y1);
        if (!open)
            ss_text_printf(t, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s%s%s "
                              "points=\"", ss_series_colour(k),
                           *dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
        ss_text_printf(t, "%s%.2f,%.2f", open ? " " : "", px, py);
        open = 1;
        *lx = px;
        *ly = py;
    }
    if (open)
        ss_text_put(t, "\"/>\n");
}

ss_code ss_fig_lines(ss_text *t, const ss_series *s, int n_series, const ss_plot_opts *o,
                     ss_error *err)
{
    if (n_series < 1 || n_series > SS_PLOT_MAX_SERIES)
        return ss_fail(err, SS_ERR_USAGE, "%s: a line plot takes 1 to %d series, not %d",
                       o->title ? o->title : "plot", SS_PLOT_MAX_SERIES, n_series);
    ss_fig_span xs = data_span(s, n_series, 1, o->log_y), ys = data_span(s, n_series, 0, o->log_y);
    ss_fig_rect r = plot_rect();
    ss_fig_begin(t, SS_PLOT_WIDTH, SS_PLOT_HEIGHT, o->title);
    ss_fig_value_axis(t, r, ys, 1);
    ss_fig_value_axis(t, r, xs, 0);
    ss_fig_frame(t, r, o->xlabel, o->ylabel);
    int direct = n_series > SS_DISTINCT_SERIES;
    for (int k = 0; k < n_series; k++) {
        double lx, ly;
        polyline(t, &s[k], xs, ys, o->log_y, k, &lx, &ly);
        if (!direct) {
            ss_fig_legend_line(t, r.x1 + 14, r.y1 + 10 + 18 * k, ss_series_colour(k),
                               ss_series_dash(k), s[k].name);
        } else if (isfinite(lx)) {
            /* too many for a legend: each line carries its name at its end */
            ss_text_printf(t, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"9\" fill=\"%s\">",
                           lx + 3, ly + 3, ss_series_colour(k));
            ss_text_escape(t, s[k].name);
            ss_text_put(t, "</text>\n");
        }
    }
    ss_fig_end(t);
    return ss_text_check(t, o->title ? o->title : "plot", err);
}

ss_code ss_lineplot_svg(const char *path, const ss_series *s, int n_series,
                        const ss_plot_opts *o, ss_error *err)
{
    ss_text t = {0};
    return ss_text_save(&t, ss_fig_lines(&t, s, n_series, o, err), path, err);
}
