/* PNG heatmaps with libpng. The colour map is viridis (perceptually uniform,
 * readable in grey and by colour-blind readers). Rows are generated one at a
 * time, so memory stays O(width). */
#include "report/heatmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/colormap.h"
#include "report/png_encode.h"

#define MAX_SIDE 16384 /* pixels: beyond this, downsample the matrix first */
#define BAR_GAP 8
#define BAR_WIDTH 16
#define TICK_LEN 3
#define LABEL_GAP 5
#define LABEL_WIDTH 44
#define GLYPH_SCALE 2
#define MIN_HEIGHT 96

/* A 3x5 pixel font for tick labels: each glyph is 5 rows of 3 bits. */
static const char *GLYPHS = "0123456789.-+e";
static const unsigned char FONT[14][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
    {0, 0, 0, 0, 2}, {0, 0, 7, 0, 0}, {0, 2, 7, 2, 0}, {2, 5, 7, 4, 3},
};

typedef struct {
    int x, y; /* top-left of the label */
    char text[16];
} label;

/* Whether pixel (px, py) is ink of one of the labels. */
static int label_ink(const label *lb, int n, int px, int py)
{
    for (int i = 0; i < n; i++) {
        int dy = py - lb[i].y;
        if (dy < 0 || dy >= 5 * GLYPH_SCALE)
            continue;
        int dx = px - lb[i].x;
        if (dx < 0)
            continue;
        int g = dx / (4 * GLYPH_SCALE), gx = (dx % (4 * GLYPH_SCALE)) / GLYPH_SCALE;
        if (g >= (int)strlen(lb[i].text) || gx >= 3)
            continue;
        const char *at = strchr(GLYPHS, lb[i].text[g]);
        if (!at)
            continue;
        unsigned char bits = FONT[at - GLYPHS][dy / GLYPH_SCALE];
        if (bits & (4 >> gx))
            return 1;
    }
    return 0;
}

double ss_heat_scale_t(const ss_heat_scale *r, double v)
{
    if (r->log_scale)
        v = v > 0 ? log10(v) : r->lo;
    if (v < r->lo)
        v = r->lo;
    if (v > r->hi)
        v = r->hi;
    return r->hi > r->lo ? (v - r->lo) / (r->hi - r->lo) : 0.0;
}

void ss_heat_colour(const ss_heat_scale *s, double v, int blank, unsigned char rgb[3])
{
    if (blank)
        rgb[0] = rgb[1] = rgb[2] = 255;
    else if (isnan(v))
        rgb[0] = rgb[1] = rgb[2] = 200;
    else
        ss_viridis(ss_heat_scale_t(s, v), rgb);
}

/* The colour range from the options and the data (header: 0, 0 means
 * from the data). */
ss_code ss_heat_scale_find(const double *m, size_t n, const ss_heatmap_opts *o, ss_heat_scale *r,
                           ss_error *err)
{
    double vmin = o->vmin, vmax = o->vmax;
    int from_data = vmin == 0.0 && vmax == 0.0;
    if (from_data) {
        double mx = -INFINITY, mn = INFINITY, minpos = INFINITY;
        for (size_t i = 0; i < n; i++) {
            double v = m[i];
            if (!isfinite(v))
                continue;
            if (v > mx)
                mx = v;
            if (v < mn)
                mn = v;
            if (v > 0 && v < minpos)
                minpos = v;
        }
        if (o->log_scale) {
            vmax = mx > 0 ? mx : 1.0;
            vmin = isfinite(minpos) ? minpos : vmax * 1e-4;
            if (vmin < vmax * 1e-4)
                vmin = vmax * 1e-4;
            if (vmin >= vmax)
                vmin = vmax / 10.0;
        } else {
            vmax = isfinite(mx) ? mx : 1.0;
            vmin = isfinite(mn) ? mn : 0.0;
            if (vmin >= vmax)
                vmax = vmin + 1.0;
        }
    } else if (!isfinite(vmin) || !isfinite(vmax) || vmin >= vmax ||
               (o->log_scale && vmin <= 0)) {
        return ss_fail(err, SS_ERR_USAGE,
                       "heatmap: wants vmin < vmax%s, got vmin %g, vmax %g",
                       o->log_scale ? " and vmin > 0 for a log scale" : "", vmin, vmax);
    }
    r->log_scale = o->log_scale;
    r->lo = o->log_scale ? log10(vmin) : vmin;
    r->hi = o->log_scale ? log10(vmax) : vmax;
    r->vmin = vmin;
    r->vmax = vmax;
    return SS_OK;
}

/* Tick labels at the decades (log) or at five even steps (linear), skipped
 * when they would overlap. */
static int make_labels(const ss_heat_scale *r, int x, int bar_h, label *lb, int max)
{
    int n = 0, last_y = -1000;
    double vals[64];
    int nv = 0;
    if (r->log_scale) {
        for (int e = (int)ceil(r->lo - 1e-9); e <= (int)floor(r->hi + 1e-9) && nv < 64; e++)
            vals[nv++] = e;
    } else {
        for (int k = 0; k <= 4; k++)
            vals[nv++] = r->lo + (r->hi - r->lo) * k / 4.0;
    }
    for (int k = nv - 1; k >= 0 && n < max; k--) {
        double t = r->hi > r->lo ? (vals[k] - r->lo) / (r->hi - r->lo) : 0.0;
        int y = (int)lround((1.0 - t) * (bar_h - 1)) - 5 * GLYPH_SCALE / 2;
        if (y < 0)
            y = 0;
        if (y > bar_h - 5 * GLYPH_SCALE)
            y = bar_h - 5 * GLYPH_SCALE;
        if (y - last_y < 5 * GLYPH_SCALE + 3)
            continue;
        lb[n].x = x;
        lb[n].y = y;
        if (r->log_scale) {
            int e = (int)vals[k];
            if (e == 0)
                snprintf(lb[n].text, sizeof lb[n].text, "1e0");
            else
                snprintf(lb[n].text, sizeof lb[n].text, "1e%d", e);
        } else {
            snprintf(lb[n].text, sizeof lb[n].text, "%.3g", vals[k]);
        }
        last_y = y;
        n++;
    }
    return n;
}

/* The cells of matrix row i, scale px each: what every image row of that
 * cell row repeats. */
static void cells_row(unsigned char *px, int i, const double *m, int cols, int scale,
                      const ss_heatmap_opts *o, const ss_heat_scale *r)
{
    for (int j = 0; j < cols; j++) {
        unsigned char rgb[3];
        ss_heat_colour(r, m[(size_t)i * cols + j], o->upper_blank && j > i, rgb);
        for (int s = 0; s < scale; s++)
            memcpy(px + ((size_t)j * scale + s) * 3, rgb, 3);
    }
}

/* Whether image row y crosses a label or a tick mark. */
static int row_has_ink(const label *lb, int n, int y)
{
    for (int k = 0; k < n; k++)
        if (y >= lb[k].y && y < lb[k].y + 5 * GLYPH_SCALE)
            return 1;
    return 0;
}

/* Everything the writer needs, computed before libpng's setjmp so that no
 * local of the caller is live across it. */
typedef struct {
    const double *m;
    int rows, cols, scale;
    const ss_heatmap_opts *o;
    ss_heat_scale r;
    int img_w, img_h, bar_x, bar_h;
    label lb[64];
    int n_lb;
    unsigned char *cells; /* the map part of the image rows of cell row cells_i */
    int cells_i;
} layout;

/* One image row: cells, colour bar, tick marks and labels. The cells are
 * computed once per cell row (a log and a colour look-up each), not once
 * per image row. */
static void layout_row(void *ctx, int y, unsigned char *px)
{
    layout *L = ctx;
    memset(px, 255, (size_t)L->img_w * 3);
    int i = y / L->scale;
    if (y < L->rows * L->scale) {
        if (i != L->cells_i) {
            cells_row(L->cells, i, L->m, L->cols, L->scale, L->o, &L->r);
            L->cells_i = i;
        }
        memcpy(px, L->cells, (size_t)L->cols * L->scale * 3);
    }
    if (y < L->bar_h) {
        unsigned char rgb[3];
        ss_viridis(L->bar_h > 1 ? 1.0 - (double)y / (L->bar_h - 1) : 1.0, rgb);
        for (int x = L->bar_x; x < L->bar_x + BAR_WIDTH; x++)
            memcpy(px + (size_t)x * 3, rgb, 3);
    }
    if (!row_has_ink(L->lb, L->n_lb, y))
        return;
    for (int x = L->bar_x + BAR_WIDTH; x < L->img_w; x++) {
        int ink = label_ink(L->lb, L->n_lb, x, y);
        /* tick marks: a short line at each label's centre */
        for (int k = 0; k < L->n_lb && !ink; k++)
            if (y == L->lb[k].y + 5 * GLYPH_SCALE / 2 && x < L->bar_x + BAR_WIDTH + TICK_LEN)
                ink = 1;
        if (ink)
            memset(px + (size_t)x * 3, 0, 3);
    }
}

ss_code ss_heatmap_png(const char *path, const double *m, int rows, int cols,
                       const ss_heatmap_opts *o, ss_error *err)
{
    if (rows < 1 || cols < 1)
        return ss_fail(err, SS_ERR_USAGE, "%s: heatmap of an empty %d x %d matrix", path, rows,
                       cols);
    layout *L = calloc(1, sizeof *L);
    if (!L)
        return ss_fail(err, SS_ERR_NOMEM, "%s: out of memory", path);
    L->m = m;
    L->rows = rows;
    L->cols = cols;
    L->o = o;
    L->scale = o->scale > 0 ? o->scale : 512 / (rows > cols ? rows : cols);
    if (L->scale < 1)
        L->scale = 1;
    ss_code rc = SS_OK;
    if ((long)rows * L->scale > MAX_SIDE || (long)cols * L->scale > MAX_SIDE) {
        rc = ss_fail(err, SS_ERR_VALUE,
                     "%s: a %d x %d heatmap at %d px per cell exceeds %d px; downsample the "
                     "matrix first", path, rows, cols, L->scale, MAX_SIDE);
        goto done;
    }
    if ((rc = ss_heat_scale_find(m, (size_t)rows * cols, o, &L->r, err)))
        goto done;
    int map_w = cols * L->scale, map_h = rows * L->scale;
    L->bar_x = map_w + BAR_GAP;
    L->img_w = L->bar_x + BAR_WIDTH + TICK_LEN + LABEL_GAP + LABEL_WIDTH;
    L->img_h = map_h > MIN_HEIGHT ? map_h : MIN_HEIGHT;
    L->bar_h = L->img_h;
    L->n_lb =
        make_labels(&L->r, L->bar_x + BAR_WIDTH + TICK_LEN + LABEL_GAP, L->bar_h, L->lb, 64);

    char desc[160];
    snprintf(desc, sizeof desc, "%d x %d matrix, %s colour scale from %.6g to %.6g (viridis)",
             rows, cols, o->log_scale ? "log10" : "linear", L->r.vmin, L->r.vmax);
    L->cells_i = -1;
    L->cells = malloc((size_t)map_w * 3);
    if (!L->cells) {
        rc = ss_fail(err, SS_ERR_NOMEM, "%s: out of memory for a %d px image row", path, map_w);
        goto done;
    }
    ss_text png = {0};
    if (!(rc = ss_png_encode(&png, L->img_w, L->img_h, layout_row, L, desc, path, err)))
        rc = ss_text_write(&png, path, err);
    ss_text_free(&png);
done:
    free(L->cells);
    free(L);
    return rc;
}
