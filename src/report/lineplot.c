#include "report/lineplot.h"

#include <math.h>
#include <stdint.h>
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

int ss_plot_fixed2(char *out, double v)
{
    double a = fabs(v);
    if (!(a < 1e9) || (a != 0 && a < 1e-9)) /* NaN, inf, huge or tiny: printf itself */
        return snprintf(out, SS_PLOT_FIXED2_MAX, "%.2f", v);
    uint64_t q = 0;
    if (a != 0) {
        /* a = m 2^-sh exactly (m < 2^53, 23 <= sh <= 83): 100 a rounded to
         * an integer, half to even as printf rounds the exact value */
        int e;
        double f = frexp(a, &e);
        uint64_t m = (uint64_t)ldexp(f, 53), n = m * 100; /* n < 2^60 */
        int sh = 53 - e;
        if (sh <= 60) {
            uint64_t rem = n & (((uint64_t)1 << sh) - 1), half = (uint64_t)1 << (sh - 1);
            q = n >> sh;
            q += rem > half || (rem == half && (q & 1));
        } /* else 100 a < 2^60 / 2^61: below one half, 0 */
    }
    char digits[24];
    int nd = 0;
    for (uint64_t ip = q / 100; nd == 0 || ip > 0; ip /= 10)
        digits[nd++] = (char)('0' + ip % 10);
    int len = 0;
    if (signbit(v))
        out[len++] = '-';
    while (nd > 0)
        out[len++] = digits[--nd];
    out[len++] = '.';
    out[len++] = (char)('0' + q % 100 / 10);
    out[len++] = (char)('0' + q % 10);
    out[len] = '\0';
    return len;
}

/* " x,y" (no space before a polyline's first point) as "%.2f,%.2f" writes it. */
static void put_point(ss_text *t, int first, double px, double py)
{
    char buf[2 * SS_PLOT_FIXED2_MAX + 2];
    int n = 0;
    if (!first)
        buf[n++] = ' ';
    n += ss_plot_fixed2(buf + n, px);
    buf[n++] = ',';
    n += ss_plot_fixed2(buf + n, py);
    ss_text_putn(t, buf, (size_t)n);
}

/* The points of one polyline that fall in one pixel column, in order.
 * Beyond four, only the first, the lowest, the highest and the last are
 * kept (the M4 rule): the stroke through the others stays inside their
 * vertical span within that column, so the picture is the same, and a
 * 64-curve plot over 4096 offsets (freqcond_curve.svg) has a few points per
 * column instead of eight. Four or fewer are written as they are. */
typedef struct {
    int col, n;
    double px[4], py[4];  /* the first four; then first, low, high, last */
    int idx[4];           /* their order in the series */
} column_run;

static void run_set(column_run *c, int k, int i, double px, double py)
{
    c->px[k] = px;
    c->py[k] = py;
    c->idx[k] = i;
}

/* From the first four points to the kept roles: first, low, high, last. */
static void run_to_roles(column_run *c)
{
    int lo = 0, hi = 0;
    for (int k = 1; k < 4; k++) {
        lo = c->py[k] > c->py[lo] ? k : lo; /* SVG y grows downwards */
        hi = c->py[k] < c->py[hi] ? k : hi;
    }
    column_run r = *c;
    const int from[4] = {0, lo, hi, 3};
    for (int k = 0; k < 4; k++)
        run_set(c, k, r.idx[from[k]], r.px[from[k]], r.py[from[k]]);
}

static void run_add(column_run *c, int i, double px, double py)
{
    if (c->n == 4)
        run_to_roles(c);
    if (c->n < 4) {
        run_set(c, c->n, i, px, py);
    } else {
        if (py > c->py[1])
            run_set(c, 1, i, px, py);
        if (py < c->py[2])
            run_set(c, 2, i, px, py);
        run_set(c, 3, i, px, py);
    }
    c->n++;
}

/* Writes the run's points in series order (each once); returns how many. */
static int run_flush(ss_text *t, column_run *c, int written)
{
    int m = c->n < 4 ? c->n : 4, order[4] = {0, 1, 2, 3};
    if (c->n > 4 && c->idx[2] < c->idx[1]) { /* low and high in the order they came */
        order[1] = 2;
        order[2] = 1;
    }
    int last = -1;
    for (int k = 0; k < m; k++) {
        int at = order[k];
        if (c->idx[at] == last)
            continue; /* a point that is both low and high, or also last */
        put_point(t, !written, c->px[at], c->py[at]);
        last = c->idx[at];
        written++;
    }
    c->n = 0;
    return written;
}

/* The series as polylines (a NaN starts a new one); returns the last
 * drawn point in *lx, *ly (NaN when none) for a direct label. */
static void polyline(ss_text *t, const ss_series *s, ss_fig_span xs, ss_fig_span ys, int log_y,
                     int k, double *lx, double *ly)
{
    ss_fig_rect r = plot_rect();
    const char *dash = ss_series_dash(k);
    int open = 0, written = 0;
    column_run run = {0};
    *lx = *ly = NAN;
    for (int i = 0; i <= s->n; i++) {
        double x = i < s->n ? value_at(s, i, 1, log_y) : NAN;
        double y = i < s->n ? value_at(s, i, 0, log_y) : NAN;
        if (!isfinite(x) || !isfinite(y)) {
            if (open) {
                run_flush(t, &run, written);
                ss_text_put(t, "\"/>\n");
            }
            open = written = 0;
            continue;
        }
        double px = ss_fig_map(xs, x, r.x0, r.x1), py = ss_fig_map(ys, y, r.y0, r.y1);
        if (!open)
            ss_text_printf(t, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s%s%s "
                              "points=\"", ss_series_colour(k),
                           *dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
        int col = (int)floor(px);
        if (open && run.n > 0 && col != run.col)
            written = run_flush(t, &run, written);
        run.col = col;
        run_add(&run, i, px, py);
        open = 1;
        *lx = px;
        *ly = py;
    }
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
