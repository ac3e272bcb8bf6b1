#include "report/figure_axes.h"

#include <math.h>
#include <stdio.h>

void ss_fig_begin(ss_text *t, int w, int h, const char *title)
{
    ss_text_printf(t,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                   "xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\" "
                   "role=\"img\">\n<title>",
                   w, h, w, h);
    ss_text_escape(t, title);
    ss_text_put(t, "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
                   "<text x=\"12\" y=\"22\" font-size=\"14\" font-weight=\"bold\">");
    ss_text_escape(t, title);
    ss_text_put(t, "</text>\n");
}

void ss_fig_end(ss_text *t)
{
    ss_text_put(t, "</svg>\n");
}

double ss_fig_nice_step(double lo, double hi, int target)
{
    double raw = (hi - lo) / (target > 0 ? target : 6);
    if (!(raw > 0) || !isfinite(raw))
        return 1;
    double p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

void ss_fig_tick_label(char *buf, size_t n, double v, double step, int log)
{
    if (log)
        snprintf(buf, n, "1e%g", v);
    else
        snprintf(buf, n, "%g", fabs(v) < 1e-9 * step ? 0.0 : v);
}

void ss_fig_span_extend(ss_fig_span *s, double v)
{
    if (isfinite(v)) {
        s->lo = fmin(s->lo, v);
        s->hi = fmax(s->hi, v);
    }
}

ss_fig_span ss_fig_span_pad(ss_fig_span s)
{
    if (!(s.lo <= s.hi) || !isfinite(s.lo) || !isfinite(s.hi)) {
        s.lo = 0;
        s.hi = 1;
    }
    if (s.hi - s.lo < 1e-300) {
        double pad = fabs(s.lo) > 0 ? fabs(s.lo) * 0.1 : 1;
        s.lo -= pad;
        s.hi += pad;
    }
    return s;
}

double ss_fig_map(ss_fig_span s, double v, double p0, double p1)
{
    return p0 + (v - s.lo) / (s.hi - s.lo) * (p1 - p0);
}

void ss_fig_value_axis(ss_text *t, ss_fig_rect r, ss_fig_span s, int vertical)
{
    double step = ss_fig_nice_step(s.lo, s.hi, vertical ? 6 : 7);
    if (s.log)
        step = fmax(1, round(step));
    for (double v = ceil(s.lo / step - 1e-9) * step; v <= s.hi + 1e-9 * step; v += step) {
        char label[48];
        ss_fig_tick_label(label, sizeof label, v, step, s.log);
        if (vertical) {
            double y = ss_fig_map(s, v, r.y0, r.y1);
            ss_text_printf(t,
                           "<line x1=\"%g\" y1=\"%.2f\" x2=\"%g\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>"
                           "\n<text x=\"%g\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
                           r.x0, y, r.x1, y, r.x0 - 6, y + 4, label);
        } else {
            double x = ss_fig_map(s, v, r.x0, r.x1);
            ss_text_printf(t,
                           "<line x1=\"%.2f\" y1=\"%g\" x2=\"%.2f\" y2=\"%g\" stroke=\"#e4e4e4\"/>"
                           "\n<text x=\"%.2f\" y=\"%g\" text-anchor=\"middle\">%s</text>\n",
                           x, r.y0, x, r.y1, x, r.y0 + 18, label);
        }
    }
}

void ss_fig_frame(ss_text *t, ss_fig_rect r, const char *xlabel, const char *ylabel)
{
    ss_text_printf(t, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" "
                      "stroke=\"#444\"/>\n", r.x0, r.y1, r.x1 - r.x0, r.y0 - r.y1);
    ss_text_printf(t, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">", (r.x0 + r.x1) / 2,
                   r.y0 + 40);
    ss_text_escape(t, xlabel);
    ss_text_printf(t, "</text>\n<text transform=\"translate(%g,%g) rotate(-90)\" "
                      "text-anchor=\"middle\">", 18.0, (r.y0 + r.y1) / 2);
    ss_text_escape(t, ylabel);
    ss_text_put(t, "</text>\n");
}

void ss_fig_ref_line(ss_text *t, ss_fig_rect r, ss_fig_span s, double v, const char *colour)
{
    if (!isfinite(v))
        return;
    double y = ss_fig_map(s, v, r.y0, r.y1);
    ss_text_printf(t, "<line x1=\"%g\" y1=\"%.2f\" x2=\"%g\" y2=\"%.2f\" stroke=\"%s\" "
                      "stroke-dasharray=\"5 3\"/>\n", r.x0, y, r.x1, y, colour);
}

void ss_fig_legend_line(ss_text *t, double x, double y, const char *colour, const char *dash,
                        const char *name)
{
    ss_text_printf(t, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" "
                      "stroke-width=\"2.5\"%s%s%s/>\n<text x=\"%g\" y=\"%g\">",
                   x, y, x + 22, y, colour, *dash ? " stroke-dasharray=\"" : "", dash,
                   *dash ? "\"" : "", x + 28, y + 4);
    ss_text_escape(t, name);
    ss_text_put(t, "</text>\n");
}

void ss_fig_legend_box(ss_text *t, double x, double y, const char *colour, const char *name)
{
    ss_text_printf(t, "<rect x=\"%g\" y=\"%g\" width=\"12\" height=\"12\" fill=\"%s\"/>\n"
                      "<text x=\"%g\" y=\"%g\">", x + 5, y - 6, colour, x + 28, y + 4);
    ss_text_escape(t, name);
    ss_text_put(t, "</text>\n");
}
