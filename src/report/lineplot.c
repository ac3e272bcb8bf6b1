#include "report/lineplot.h"

#include <math.h>
#include <stdio.h>

#include "io/atomic_file.h"

/* matplotlib's "tab10": distinct, colour-blind-friendlier than primaries */
static const char *const PALETTE[10] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

typedef struct {
    double lo, hi;
} span;

static double value_at(const ss_series *s, int i, int want_x, int log_y)
{
    if (want_x)
        return s->x ? s->x[i] : (double)i;
    double y = s->y[i];
    if (log_y)
        return y > 0 ? log10(y) : NAN;
    return y;
}

static span data_span(const ss_series *s, int n_series, int want_x, int log_y)
{
    span r = {INFINITY, -INFINITY};
    for (int k = 0; k < n_series; k++)
        for (int i = 0; i < s[k].n; i++) {
            double v = value_at(&s[k], i, want_x, log_y);
            if (isfinite(v) && isfinite(value_at(&s[k], i, !want_x, log_y))) {
                r.lo = fmin(r.lo, v);
                r.hi = fmax(r.hi, v);
            }
        }
    if (!(r.lo <= r.hi)) /* no finite point at all */
        r.lo = 0, r.hi = 1;
    if (r.hi - r.lo < 1e-300) { /* one value: give it room */
        double pad = fabs(r.lo) > 0 ? fabs(r.lo) * 0.1 : 1;
        r.lo -= pad;
        r.hi += pad;
    }
    return r;
}

/* A tick step of 1, 2 or 5 times a power of ten giving about 6 ticks. */
static double nice_step(span r)
{
    double raw = (r.hi - r.lo) / 6, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void escape(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '&': fputs("&amp;", fp); break;
        case '"': fputs("&quot;", fp); break;
        default: fputc(*s, fp);
        }
    }
}

static void axis_ticks(FILE *fp, span r, int vertical, int log_axis)
{
    const double x0 = SS_PLOT_LEFT, x1 = SS_PLOT_WIDTH - SS_PLOT_RIGHT;
    const double y0 = SS_PLOT_HEIGHT - SS_PLOT_BOTTOM, y1 = SS_PLOT_TOP;
    double step = log_axis ? fmax(1, round(nice_step(r))) : nice_step(r);
    for (double v = ceil(r.lo / step - 1e-9) * step; v <= r.hi + 1e-9 * step; v += step) {
        double t = (v - r.lo) / (r.hi - r.lo);
        char label[48];
        if (log_axis)
            snprintf(label, sizeof label, "1e%g", v);
        else
            snprintf(label, sizeof label, "%g", fabs(v) < 1e-12 * step ? 0.0 : v);
        if (vertical) {
            double y = y0 + t * (y1 - y0);
            fprintf(fp, "<line x1=\"%g\" y1=\"%.2f\" x2=\"%g\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>\n",
                    x0, y, x1, y);
            fprintf(fp, "<text x=\"%g\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n", x0 - 6, y + 4,
                    label);
        } else {
            double x = x0 + t * (x1 - x0);
            fprintf(fp, "<line x1=\"%.2f\" y1=\"%g\" x2=\"%.2f\" y2=\"%g\" stroke=\"#e4e4e4\"/>\n",
                    x, y0, x, y1);
            fprintf(fp, "<text x=\"%.2f\" y=\"%g\" text-anchor=\"middle\">%s</text>\n", x, y0 + 18,
                    label);
        }
    }
}

static void polyline(FILE *fp, const ss_series *s, span xs, span ys, int log_y, const char *colour)
{
    const double x0 = SS_PLOT_LEFT, x1 = SS_PLOT_WIDTH - SS_PLOT_RIGHT;
    const double y0 = SS_PLOT_HEIGHT - SS_PLOT_BOTTOM, y1 = SS_PLOT_TOP;
    int open = 0;
    for (int i = 0; i < s->n; i++) {
        double x = value_at(s, i, 1, log_y), y = value_at(s, i, 0, log_y);
        if (!isfinite(x) || !isfinite(y)) {
            if (open)
                fputs("\"/>\n", fp);
            open = 0;
            continue;
        }
        double px = x0 + (x - xs.lo) / (xs.hi - xs.lo) * (x1 - x0);
        double py = y0 + (y - ys.lo) / (ys.hi - ys.lo) * (y1 - y0);
        if (!open)
            fprintf(fp, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" points=\"",
                    colour);
        fprintf(fp, "%s%.2f,%.2f", open ? " " : "", px, py);
        open = 1;
    }
    if (open)
        fputs("\"/>\n", fp);
}

ss_code ss_lineplot_svg(const char *path, const ss_series *s, int n_series,
                        const ss_plot_opts *o, ss_error *err)
{
    if (n_series < 1 || n_series > SS_PLOT_MAX_SERIES)
        return ss_fail(err, SS_ERR_USAGE, "%s: a line plot takes 1 to %d series, not %d", path,
                       SS_PLOT_MAX_SERIES, n_series);
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc)
        return rc;
    FILE *fp = f.fp;
    span xs = data_span(s, n_series, 1, o->log_y), ys = data_span(s, n_series, 0, o->log_y);
    const double x0 = SS_PLOT_LEFT, x1 = SS_PLOT_WIDTH - SS_PLOT_RIGHT;
    const double y0 = SS_PLOT_HEIGHT - SS_PLOT_BOTTOM, y1 = SS_PLOT_TOP;
    fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
            SS_PLOT_WIDTH, SS_PLOT_HEIGHT, SS_PLOT_WIDTH, SS_PLOT_HEIGHT);
    fprintf(fp, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(fp, "<text x=\"%g\" y=\"24\" font-size=\"14\" font-weight=\"bold\">", x0);
    escape(fp, o->title);
    fputs("</text>\n", fp);
    axis_ticks(fp, ys, 1, o->log_y);
    axis_ticks(fp, xs, 0, 0);
    fprintf(fp, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" "
                "stroke=\"#444\"/>\n", x0, y1, x1 - x0, y0 - y1);
    fprintf(fp, "<text x=\"%g\" y=\"%d\" text-anchor=\"middle\">", (x0 + x1) / 2,
            SS_PLOT_HEIGHT - 14);
    escape(fp, o->xlabel);
    fprintf(fp, "</text>\n<text transform=\"translate(18,%g) rotate(-90)\" "
                "text-anchor=\"middle\">", (y0 + y1) / 2);
    escape(fp, o->ylabel);
    fputs("</text>\n", fp);
    for (int k = 0; k < n_series; k++) {
        const char *colour = PALETTE[k % 10];
        polyline(fp, &s[k], xs, ys, o->log_y, colour);
        double ly = y1 + 10 + 18 * k;
        fprintf(fp, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" "
                    "stroke-width=\"2.5\"/>\n<text x=\"%g\" y=\"%g\">", x1 + 14, ly, x1 + 36, ly,
                colour, x1 + 42, ly + 4);
        escape(fp, s[k].name);
        fputs("</text>\n", fp);
    }
    fputs("</svg>\n", fp);
    return ss_atomic_commit(&f, err);
}
