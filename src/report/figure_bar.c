/* Grouped bar charts: categories along x, one bar per series in each,
 * optional error bars, a legend. */
#include <math.h>

#include "report/colormap.h"
#include "report/figure.h"
#include "report/figure_axes.h"

#define HEIGHT 380
#define LEGEND_W 170
#define REF_COLOUR "#d62728"

ss_code ss_fig_barchart(ss_text *t, const ss_fig_bars *b, ss_error *err)
{
    const char *what = b->title ? b->title : "bar chart";
    if (b->n_cat < 1 || b->n_series < 1 || b->n_series > SS_DISTINCT_SERIES)
        return ss_fail(err, SS_ERR_USAGE, "%s: a bar chart takes 1 or more categories and 1 to "
                       "%d series, not %d and %d", what, SS_DISTINCT_SERIES, b->n_cat,
                       b->n_series);
    ss_fig_span s = {0, -INFINITY, 0}; /* bars start at 0 */
    size_t n = (size_t)b->n_cat * b->n_series;
    for (size_t i = 0; i < n; i++) {
        double vals[3] = {b->v[i], b->lo ? b->lo[i] : NAN, b->hi ? b->hi[i] : NAN};
        for (int k = 0; k < 3; k++)
            ss_fig_span_extend(&s, vals[k]);
    }
    int has_ref = b->ref_label && isfinite(b->ref);
    if (has_ref)
        ss_fig_span_extend(&s, b->ref);
    if (!(s.hi > s.lo))
        s.hi = s.lo + 1;
    double pad = (s.hi - s.lo) * 0.05;
    s.hi += pad;
    if (s.lo < 0) /* bars below 0 end off the frame */
        s.lo -= pad;
    double group = fmax(40, 18.0 * b->n_series + 16);
    ss_fig_rect r = {72, 72 + group * b->n_cat, HEIGHT - 60, 40};
    int w = (int)(r.x1 + LEGEND_W);
    if (w < 480)
        w = 480;
    ss_fig_begin(t, w, HEIGHT, b->title);
    ss_fig_value_axis(t, r, s, 1);
    double bw = (group - 16) / b->n_series, y0 = ss_fig_map(s, 0, r.y0, r.y1);
    for (int c = 0; c < b->n_cat; c++) {
        double gx = r.x0 + c * group + 8;
        for (int k = 0; k < b->n_series; k++) {
            size_t i = (size_t)k * b->n_cat + c;
            if (!isfinite(b->v[i]))
                continue;
            double y = ss_fig_map(s, b->v[i], r.y0, r.y1), x = gx + k * bw;
            ss_text_printf(t, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                              "fill=\"%s\"><title>",
                           x, fmin(y, y0), bw - 1, fabs(y0 - y), ss_series_colour(k));
            ss_text_escapef(t, "%s, %s: %.4g", b->cats[c], b->series[k], b->v[i]);
            ss_text_put(t, "</title></rect>\n");
            if (b->lo && b->hi && isfinite(b->lo[i]) && isfinite(b->hi[i])) {
                double yl = ss_fig_map(s, b->lo[i], r.y0, r.y1);
                double yh = ss_fig_map(s, b->hi[i], r.y0, r.y1), cx = x + (bw - 1) / 2;
                ss_text_printf(t, "<path d=\"M%.2f %.2fV%.2fM%.2f %.2fH%.2fM%.2f %.2fH%.2f\" "
                                  "stroke=\"#222\" fill=\"none\"/>\n", cx, yl, yh, cx - 3, yl,
                               cx + 3, cx - 3, yh, cx + 3);
            }
        }
        ss_text_printf(t, "<text x=\"%.2f\" y=\"%g\" text-anchor=\"middle\">", gx + (group - 16) / 2,
                       r.y0 + 18);
        ss_text_escape(t, b->cats[c]);
        ss_text_put(t, "</text>\n");
    }
    ss_text_printf(t, "<line x1=\"%g\" y1=\"%.2f\" x2=\"%g\" y2=\"%.2f\" stroke=\"#444\"/>\n",
                   r.x0, y0, r.x1, y0);
    for (int k = 0; k < b->n_series; k++)
        ss_fig_legend_box(t, r.x1 + 10, r.y1 + 10 + 18 * k, ss_series_colour(k), b->series[k]);
    if (has_ref) {
        ss_fig_ref_line(t, r, s, b->ref, REF_COLOUR);
        ss_fig_legend_line(t, r.x1 + 10, r.y1 + 10 + 18 * b->n_series, REF_COLOUR, "5 3",
                           b->ref_label);
    }
    ss_fig_frame(t, r, b->xlabel, b->ylabel);
    ss_fig_end(t);
    return ss_text_check(t, what, err);
}
