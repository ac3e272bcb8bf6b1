/* Box plots: one box per group from its five-number summary, the values as
 * dots beside it, an optional dashed reference line. */
#include <math.h>
#include <stdint.h>

#include "report/colormap.h"
#include "report/figure.h"
#include "report/figure_axes.h"

#define BOX_SLOT 90 /* px per box */
#define HEIGHT 380

/* A deterministic jitter in [-1, 1] for dot k (splitmix-style hash, no
 * state), so a figure is the same run to run. */
static double jitter(int k)
{
    uint64_t z = (uint64_t)k * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z ^= z >> 27;
    return (double)(z >> 11) / 9007199254740992.0 * 2 - 1;
}

ss_code ss_fig_boxplot(ss_text *t, const ss_fig_box *b, int n, const ss_fig_box_opts *o,
                       ss_error *err)
{
    const char *what = o->title ? o->title : "box plot";
    if (n < 1)
        return ss_fail(err, SS_ERR_USAGE, "%s: a box plot needs at least one box", what);
    ss_fig_span s = {INFINITY, -INFINITY, 0};
    for (int k = 0; k < n; k++) {
        ss_fig_span_extend(&s, b[k].min);
        ss_fig_span_extend(&s, b[k].max);
        for (int i = 0; i < b[k].n_points; i++)
            ss_fig_span_extend(&s, b[k].points[i]);
    }
    ss_fig_span_extend(&s, o->ref);
    s = ss_fig_span_pad(s);
    double pad = (s.hi - s.lo) * 0.05;
    s.lo -= pad;
    s.hi += pad;
    ss_fig_rect r = {72, 72 + BOX_SLOT * (n < 3 ? 3 : n), HEIGHT - 60, 40};
    int w = (int)r.x1 + 24;
    if (w < 480)
        w = 480;
    ss_fig_begin(t, w, HEIGHT, o->title);
    ss_fig_value_axis(t, r, s, 1);
    ss_fig_ref_line(t, r, s, o->ref, "#d62728");
    double slot = (r.x1 - r.x0) / n;
    for (int k = 0; k < n; k++) {
        const ss_fig_box *x = &b[k];
        double cx = r.x0 + (k + 0.5) * slot, half = fmin(22, slot * 0.3);
        const char *colour = ss_series_colour(0);
        if (isfinite(x->median)) {
            double ymin = ss_fig_map(s, x->min, r.y0, r.y1), ymax = ss_fig_map(s, x->max, r.y0, r.y1);
            double y1 = ss_fig_map(s, x->q1, r.y0, r.y1), y3 = ss_fig_map(s, x->q3, r.y0, r.y1);
            double ym = ss_fig_map(s, x->median, r.y0, r.y1);
            ss_text_printf(t,
                           "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444\"/>\n"
                           "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444\"/>\n"
                           "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444\"/>\n"
                           "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                           "fill=\"%s\" fill-opacity=\"0.35\" stroke=\"#444\"/>\n"
                           "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#000\" "
                           "stroke-width=\"2\"/>\n",
                           cx, ymin, cx, ymax, cx - half / 2, ymin, cx + half / 2, ymin,
                           cx - half / 2, ymax, cx + half / 2, ymax, cx - half, y3, 2 * half,
                           fmax(y1 - y3, 0.5), colour, cx - half, ym, cx + half, ym);
        }
        for (int i = 0; i < x->n_points; i++) {
            if (!isfinite(x->points[i]))
                continue;
            ss_text_printf(t, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.2\" fill=\"%s\" "
                              "fill-opacity=\"0.6\"/>\n", cx + half + 8 + 5 * jitter(k * 7919 + i),
                           ss_fig_map(s, x->points[i], r.y0, r.y1), ss_series_colour(1));
        }
        ss_text_printf(t, "<text x=\"%.2f\" y=\"%g\" text-anchor=\"middle\">", cx, r.y0 + 18);
        ss_text_escape(t, x->name);
        ss_text_put(t, "</text>\n");
    }
    ss_fig_frame(t, r, o->xlabel, o->ylabel);
    ss_fig_end(t);
    return ss_text_check(t, what, err);
}
