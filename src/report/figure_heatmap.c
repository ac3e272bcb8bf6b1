/* Heatmap figures: the cells as one embedded PNG (pixel-exact colours, no
 * anti-aliased seams between thousands of SVG rectangles), the axes, ticks,
 * title and colour bar as SVG text and lines. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/colormap.h"
#include "report/figure.h"
#include "report/figure_axes.h"
#include "report/png_encode.h"

#define CHAR_W 7.0 /* average width of a 12 px sans-serif character */
#define BAR_W 14
#define BAR_STEPS 64

/* The matrix as drawn: pooled to at most SS_FIG_MAX_SIDE cells a side. */
typedef struct {
    int rows, cols, by, bx; /* pooled size and block sizes */
    double *v;              /* [rows, cols]; NaN where blank or missing */
    unsigned char *blank;   /* 1: nothing to draw (above a causal diagonal) */
    int cw, ch;             /* pixels per cell */
    ss_heat_scale s;
    unsigned char *rgb;     /* [rows, cols, 3]: each cell's colour, found once */
} grid;

static int blocks(int n)
{
    return n > SS_FIG_MAX_SIDE ? (n + SS_FIG_MAX_SIDE - 1) / SS_FIG_MAX_SIDE : 1;
}

/* Block means over the finite, drawn entries. */
static void pool(grid *g, const double *m, int rows, int cols, int upper_blank)
{
    for (int i = 0; i < g->rows; i++)
        for (int j = 0; j < g->cols; j++) {
            double sum = 0;
            int n = 0, drawn = 0;
            for (int a = i * g->by; a < (i + 1) * g->by && a < rows; a++)
                for (int b = j * g->bx; b < (j + 1) * g->bx && b < cols; b++) {
                    if (upper_blank && b > a)
                        continue;
                    drawn = 1;
                    double v = m[(size_t)a * cols + b];
                    if (isfinite(v)) {
                        sum += v;
                        n++;
                    }
                }
            size_t k = (size_t)i * g->cols + j;
            g->blank[k] = !drawn;
            g->v[k] = n ? sum / n : NAN;
        }
}

static int cell_px(int cells, int square)
{
    int c = square;
    if (cells * c < SS_FIG_MIN_SIDE)
        c = (SS_FIG_MIN_SIDE + cells - 1) / cells;
    return c < 1 ? 1 : c;
}

static void raster_row(void *ctx, int y, unsigned char *px)
{
    const grid *g = ctx;
    const unsigned char *rgb = g->rgb + (size_t)(y / g->ch) * g->cols * 3;
    for (int j = 0; j < g->cols; j++)
        for (int x = 0; x < g->cw; x++)
            memcpy(px + ((size_t)j * g->cw + x) * 3, rgb + (size_t)j * 3, 3);
}

static size_t longest_name(const ss_fig_axis *a, int n)
{
    size_t w = 0;
    for (int i = 0; a->names && i < n; i++)
        if (a->names[i] && strlen(a->names[i]) > w)
            w = strlen(a->names[i]);
    return a->names ? w : 6;
}

/* Ticks along one side of the map: x (bottom, left to right) or y (left,
 * top to bottom); span is the map's pixel extent along the axis. The
 * names of pooled axes are those of each block's first cell. */
static void map_axis(ss_text *t, const ss_fig_axis *a, int n_src, int cells, int block,
                     double p0, double len, double other, int is_x)
{
    if (a->names) {
        double cell = len / cells;
        double need = is_x ? longest_name(a, n_src) * CHAR_W + 6 : 14;
        int every = (int)ceil(need / cell);
        for (int i = 0; i < cells; i += every < 1 ? 1 : every) {
            double p = p0 + (i + 0.5) * cell;
            const char *name = a->names[(size_t)i * block];
            if (is_x)
                ss_text_printf(t, "<line x1=\"%.2f\" y1=\"%g\" x2=\"%.2f\" y2=\"%g\" "
                                  "stroke=\"#444\"/>\n<text x=\"%.2f\" y=\"%g\" "
                                  "text-anchor=\"middle\">", p, other, p, other + 4, p,
                               other + 17);
            else
                ss_text_printf(t, "<line x1=\"%g\" y1=\"%.2f\" x2=\"%g\" y2=\"%.2f\" "
                                  "stroke=\"#444\"/>\n<text x=\"%g\" y=\"%.2f\" "
                                  "text-anchor=\"end\">", other - 4, p, other, p, other - 7,
                               p + 4);
            ss_text_escape(t, name ? name : "");
            ss_text_put(t, "</text>\n");
        }
        return;
    }
    ss_fig_span s = ss_fig_span_pad((ss_fig_span){a->lo, a->hi, 0});
    double step = ss_fig_nice_step(s.lo, s.hi, is_x ? 6 : 5);
    for (double v = ceil(s.lo / step - 1e-9) * step; v <= s.hi + 1e-9 * step; v += step) {
        double p = ss_fig_map(s, v, p0, p0 + len);
        char label[48];
        ss_fig_tick_label(label, sizeof label, v, step, 0);
        if (is_x)
            ss_text_printf(t, "<line x1=\"%.2f\" y1=\"%g\" x2=\"%.2f\" y2=\"%g\" stroke=\"#444\"/>"
                              "\n<text x=\"%.2f\" y=\"%g\" text-anchor=\"middle\">%s</text>\n",
                           p, other, p, other + 4, p, other + 17, label);
        else
            ss_text_printf(t, "<line x1=\"%g\" y1=\"%.2f\" x2=\"%g\" y2=\"%.2f\" stroke=\"#444\"/>"
                              "\n<text x=\"%g\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
                           other - 4, p, other, p, other - 7, p + 4, label);
    }
}

/* The colour bar: BAR_STEPS bands of viridis, ticks at decades (and 2, 5
 * times them when the range spans less than two) or nice linear steps. */
static void colour_bar(ss_text *t, const ss_heat_scale *s, double x, double top, double h,
                       const char *label)
{
    for (int k = 0; k < BAR_STEPS; k++) {
        unsigned char rgb[3];
        ss_viridis((k + 0.5) / BAR_STEPS, rgb);
        double y = top + h - (k + 1) * h / BAR_STEPS;
        ss_text_printf(t, "<rect x=\"%g\" y=\"%.2f\" width=\"%d\" height=\"%.2f\" "
                          "fill=\"#%02x%02x%02x\" shape-rendering=\"crispEdges\"/>\n",
                       x, y, BAR_W, h / BAR_STEPS + 0.5, rgb[0], rgb[1], rgb[2]);
    }
    ss_text_printf(t, "<rect x=\"%g\" y=\"%g\" width=\"%d\" height=\"%g\" fill=\"none\" "
                      "stroke=\"#444\"/>\n", x, top, BAR_W, h);
    double ticks[64];
    int n = 0;
    if (s->log_scale) {
        int few = s->hi - s->lo < 2;
        for (int e = (int)floor(s->lo); e <= (int)ceil(s->hi) && n < 60; e++) {
            ticks[n++] = e;
            if (few) {
                ticks[n++] = e + log10(2);
                ticks[n++] = e + log10(5);
            }
        }
    } else {
        double step = ss_fig_nice_step(s->lo, s->hi, 5);
        for (double v = ceil(s->lo / step - 1e-9) * step; v <= s->hi + 1e-9 * step && n < 60;
             v += step)
            ticks[n++] = v;
    }
    for (int k = 0; k < n; k++) {
        double v = ticks[k];
        if (v < s->lo - 1e-9 || v > s->hi + 1e-9)
            continue;
        double y = top + h - (v - s->lo) / (s->hi - s->lo) * h;
        double shown = s->log_scale ? pow(10, v) : v;
        if (!s->log_scale && fabs(v) < 1e-9 * (s->hi - s->lo))
            shown = 0;
        ss_text_printf(t, "<line x1=\"%g\" y1=\"%.2f\" x2=\"%g\" y2=\"%.2f\" stroke=\"#444\"/>\n"
                          "<text x=\"%g\" y=\"%.2f\">%.3g</text>\n",
                       x + BAR_W, y, x + BAR_W + 4, y, x + BAR_W + 7, y + 4, shown);
    }
    ss_text_printf(t, "<text transform=\"translate(%g,%g) rotate(-90)\" text-anchor=\"middle\">",
                   x + BAR_W + 66, top + h / 2);
    ss_text_escape(t, label);
    ss_text_put(t, "</text>\n");
}

static ss_code build(ss_text *t, grid *g, const ss_fig_heatmap_opts *o, int rows, int cols,
                     ss_error *err)
{
    const char *what = o->title ? o->title : "heatmap";
    ss_text png = {0};
    int map_w = g->cols * g->cw, map_h = g->rows * g->ch;
    char desc[160];
    snprintf(desc, sizeof desc, "%d x %d cells, %s colour scale from %.6g to %.6g (viridis)",
             g->rows, g->cols, g->s.log_scale ? "log10" : "linear", g->s.vmin, g->s.vmax);
    ss_code rc = ss_png_encode(&png, map_w, map_h, raster_row, g, desc, what, err);
    if (rc)
        return rc;
    double left = 34 + longest_name(&o->y, rows) * CHAR_W + 10;
    int pooled = g->by > 1 || g->bx > 1;
    double top = pooled ? 52 : 38, bottom = 50, right = 16 + BAR_W + 80;
    int w = (int)ceil(left + map_w + right), h = (int)ceil(top + map_h + bottom);
    double min_w = strlen(o->title ? o->title : "") * 8.0 + 24;
    if (pooled && min_w < 420)
        min_w = 420; /* the subtitle's length */
    if (w < min_w)
        w = (int)ceil(min_w);
    ss_fig_begin(t, w, h, o->title);
    if (pooled)
        ss_text_printf(t, "<text x=\"12\" y=\"40\" fill=\"#555\">cells averaged in blocks of "
                          "%d x %d (rows x columns) from %d x %d</text>\n", g->by, g->bx, rows,
                       cols);
    ss_text_printf(t, "<image x=\"%g\" y=\"%g\" width=\"%d\" height=\"%d\" "
                      "preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" "
                      "xlink:href=\"data:image/png;base64,", left, top, map_w, map_h);
    ss_text_base64(t, (const unsigned char *)png.p, png.len);
    ss_text_put(t, "\"/>\n");
    ss_text_free(&png);
    ss_text_printf(t, "<rect x=\"%g\" y=\"%g\" width=\"%d\" height=\"%d\" fill=\"none\" "
                      "stroke=\"#444\"/>\n", left, top, map_w, map_h);
    map_axis(t, &o->x, cols, g->cols, g->bx, left, map_w, top + map_h, 1);
    map_axis(t, &o->y, rows, g->rows, g->by, top, map_h, left, 0);
    ss_text_printf(t, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">", left + map_w / 2.0,
                   top + map_h + 38);
    ss_text_escape(t, o->x.label);
    ss_text_printf(t, "</text>\n<text transform=\"translate(16,%g) rotate(-90)\" "
                      "text-anchor=\"middle\">", top + map_h / 2.0);
    ss_text_escape(t, o->y.label);
    ss_text_put(t, "</text>\n");
    colour_bar(t, &g->s, left + map_w + 16, top, map_h, o->cbar_label);
    ss_fig_end(t);
    return ss_text_check(t, what, err);
}

ss_code ss_fig_heatmap(ss_text *t, const double *m, int rows, int cols,
                       const ss_fig_heatmap_opts *o, ss_error *err)
{
    const char *what = o->title ? o->title : "heatmap";
    if (rows < 1 || cols < 1)
        return ss_fail(err, SS_ERR_USAGE, "%s: heatmap of an empty %d x %d matrix", what, rows,
                       cols);
    grid g = {0};
    g.by = blocks(rows);
    g.bx = blocks(cols);
    g.rows = (rows + g.by - 1) / g.by;
    g.cols = (cols + g.bx - 1) / g.bx;
    size_t n = (size_t)g.rows * g.cols;
    g.v = malloc(n * sizeof *g.v);
    g.blank = malloc(n);
    g.rgb = malloc(n * 3);
    ss_code rc = SS_OK;
    if (!g.v || !g.blank || !g.rgb) {
        rc = ss_fail(err, SS_ERR_NOMEM, "%s: out of memory for %d x %d cells", what, rows, cols);
        goto done;
    }
    pool(&g, m, rows, cols, o->scale.upper_blank);
    int square = SS_FIG_TARGET_SIDE / (g.rows > g.cols ? g.rows : g.cols);
    g.cw = cell_px(g.cols, square);
    g.ch = cell_px(g.rows, square);
    ss_heatmap_opts so = o->scale;
    if ((rc = ss_heat_scale_find(g.v, n, &so, &g.s, err))) {
        ss_error_prefix(err, "%s", what);
        goto done;
    }
    for (size_t k = 0; k < n; k++)
        ss_heat_colour(&g.s, g.v[k], g.blank[k], g.rgb + 3 * k);
    rc = build(t, &g, o, rows, cols, err);
done:
    free(g.v);
    free(g.blank);
    free(g.rgb);
    return rc;
}

ss_code ss_fig_heatmap_write(const char *path, const double *m, int rows, int cols,
                             const ss_fig_heatmap_opts *o, ss_error *err)
{
    ss_text t = {0};
    return ss_text_save(&t, ss_fig_heatmap(&t, m, rows, cols, o, err), path, err);
}

const char **ss_fig_names(const char *prefix, int first, int n)
{
    if (n < 1)
        return NULL;
    size_t room = strlen(prefix ? prefix : "") + 13; /* an int and the NUL */
    const char **v = malloc((size_t)n * (sizeof *v + room));
    if (!v)
        return NULL;
    char *s = (char *)(v + n);
    for (int i = 0; i < n; i++, s += room) {
        snprintf(s, room, "%s%d", prefix ? prefix : "", first + i);
        v[i] = s;
    }
    return v;
}
