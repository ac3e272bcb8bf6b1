#include "report/headmap.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/canvas.h"
#include "report/colormap.h"

#define TS 2          /* text scale: 10 x 14 pixel characters */
#define PAD 14
#define GAP 6
#define TICK 4
#define BAR_W 18
#define BAR_GAP 22
#define BAR_TICKS 5

static const unsigned char BLACK[3] = {0, 0, 0}, WHITE[3] = {255, 255, 255};
static const unsigned char GREY[3] = {200, 200, 200}, LINE[3] = {235, 235, 235};

/* The smallest of 1, 2, 5, 10, 20, 50, ... with step * cell >= room, so
 * tick labels never overlap. */
static int tick_step(int cell, int room)
{
    for (int base = 1;; base *= 10)
        for (int k = 0; k < 3; k++) {
            int step = base * (k == 0 ? 1 : k == 1 ? 2 : 5);
            if (step * cell >= room || step >= 1000000)
                return step;
        }
}

typedef struct {
    int cell, gx, gy, gw, gh;     /* the grid */
    int bar_x, bar_lab_x, bar_h, w, h;
    int legend_y;                 /* below the axis labels and the colour bar */
    int row_lab_w;                /* widest row tick label */
} layout;

static void make_layout(const ss_headmap_opts *o, int rows, int cols, layout *L)
{
    char buf[32];
    int big = rows > cols ? rows : cols;
    L->cell = 512 / big;
    L->cell = L->cell < 4 ? 4 : L->cell > 40 ? 40 : L->cell;
    L->gw = cols * L->cell;
    L->gh = rows * L->cell;
    snprintf(buf, sizeof buf, "%d", rows - 1);
    L->row_lab_w = ss_text_width(buf, TS);
    int th = ss_text_height(TS);
    L->gx = PAD + th + GAP + L->row_lab_w + GAP + TICK;
    L->gy = PAD + th + GAP + (o->subtitle ? th + GAP : 0) + GAP;
    L->bar_x = L->gx + L->gw + BAR_GAP;
    L->bar_lab_x = L->bar_x + BAR_W + TICK + GAP;
    int w = L->bar_lab_x + ss_text_width("-0.000", TS) + GAP + th + PAD;
    int tw = ss_text_width(o->title, TS) + 2 * PAD;
    int sw = o->subtitle ? ss_text_width(o->subtitle, TS) + 2 * PAD : 0;
    L->w = w > tw ? (w > sw ? w : sw) : (tw > sw ? tw : sw);
    /* the bar is as tall as the grid, and at least as its vertical label */
    int bar_h = ss_text_width(o->bar_label, TS) + 2 * GAP;
    bar_h = bar_h < 120 ? 120 : bar_h;
    L->bar_h = bar_h > L->gh ? bar_h : L->gh;
    int axis = L->gh + TICK + GAP + th + GAP + th; /* grid, tick labels, axis label */
    int bar = L->bar_h + th / 2; /* the bottom tick label hangs below the bar */
    L->legend_y = L->gy + (axis > bar ? axis : bar) + GAP;
    L->h = L->legend_y + (o->mark ? th + GAP : 0) + PAD;
}

void ss_headmap_cell(const ss_headmap_opts *o, int rows, int cols, int i, int j, int *x, int *y,
                     int *side)
{
    layout L;
    make_layout(o, rows, cols, &L);
    *x = L.gx + j * L.cell;
    *y = L.gy + i * L.cell;
    *side = L.cell;
}

static void draw_cells(ss_canvas *c, const layout *L, const double *m, int rows, int cols,
                       const ss_headmap_opts *o)
{
    int line = L->cell >= 8; /* a light gap between cells when they are big enough */
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            double v = m[(size_t)i * cols + j];
            unsigned char rgb[3];
            if (isnan(v))
                memcpy(rgb, GREY, 3);
            else
                ss_viridis((v - o->vmin) / (o->vmax - o->vmin), rgb);
            int x = L->gx + j * L->cell, y = L->gy + i * L->cell;
            ss_canvas_rect(c, x, y, L->cell, L->cell, LINE);
            ss_canvas_rect(c, x, y, L->cell - line, L->cell - line, rgb);
            if (o->mark && o->mark[(size_t)i * cols + j]) {
                double cx = x + (L->cell - line) / 2.0, cy = y + (L->cell - line) / 2.0;
                double r = L->cell * 0.16 < 1.5 ? 1.5 : L->cell * 0.16;
                ss_canvas_disc(c, cx, cy, r + 1.2, BLACK);
                ss_canvas_disc(c, cx, cy, r, WHITE);
            }
        }
}

static void draw_axes(ss_canvas *c, const layout *L, int rows, int cols, const ss_headmap_opts *o)
{
    char buf[32];
    int th = ss_text_height(TS);
    snprintf(buf, sizeof buf, "%d", cols - 1);
    int xstep = tick_step(L->cell, ss_text_width(buf, TS) + 2 * GAP);
    for (int j = 0; j < cols; j += xstep) {
        int cx = L->gx + j * L->cell + L->cell / 2;
        ss_canvas_rect(c, cx, L->gy + L->gh, 1, TICK, BLACK);
        snprintf(buf, sizeof buf, "%d", j);
        ss_canvas_text(c, cx - ss_text_width(buf, TS) / 2, L->gy + L->gh + TICK + GAP / 2, buf, TS,
                       BLACK);
    }
    int ystep = tick_step(L->cell, th + GAP);
    for (int i = 0; i < rows; i += ystep) {
        int cy = L->gy + i * L->cell + L->cell / 2;
        ss_canvas_rect(c, L->gx - TICK, cy, TICK, 1, BLACK);
        snprintf(buf, sizeof buf, "%d", i);
        ss_canvas_text(c, L->gx - TICK - GAP / 2 - ss_text_width(buf, TS), cy - th / 2, buf, TS,
                       BLACK);
    }
    int xl_y = L->gy + L->gh + TICK + GAP + th + GAP;
    ss_canvas_text(c, L->gx + L->gw / 2 - ss_text_width(o->col_label, TS) / 2, xl_y, o->col_label,
                   TS, BLACK);
    /* centred on the grid, but never above it (a grid of one or two layers) */
    int rw = ss_text_width(o->row_label, TS), ry = L->gy + L->gh / 2 + rw / 2;
    ss_canvas_text_up(c, PAD, ry - rw < L->gy ? L->gy + rw : ry, o->row_label, TS, BLACK);
    if (o->mark && o->mark_label) {
        int ly = L->legend_y;
        ss_canvas_disc(c, L->gx + th / 2.0, ly + th / 2.0, th * 0.3 + 1.2, BLACK);
        ss_canvas_disc(c, L->gx + th / 2.0, ly + th / 2.0, th * 0.3, WHITE);
        ss_canvas_text(c, L->gx + th + GAP, ly, o->mark_label, TS, BLACK);
    }
}

static void draw_bar(ss_canvas *c, const layout *L, const ss_headmap_opts *o)
{
    int bh = L->bar_h, th = ss_text_height(TS);
    for (int y = 0; y < bh; y++) {
        unsigned char rgb[3];
        ss_viridis(1.0 - (y + 0.5) / bh, rgb);
        ss_canvas_rect(c, L->bar_x, L->gy + y, BAR_W, 1, rgb);
    }
    char buf[32];
    for (int k = 0; k < BAR_TICKS; k++) {
        double t = (double)k / (BAR_TICKS - 1);
        int y = L->gy + (int)lround((1.0 - t) * (bh - 1));
        ss_canvas_rect(c, L->bar_x + BAR_W, y, TICK, 1, BLACK);
        snprintf(buf, sizeof buf, "%.3g", o->vmin + t * (o->vmax - o->vmin));
        ss_canvas_text(c, L->bar_lab_x, y - th / 2, buf, TS, BLACK);
    }
    int lx = L->bar_lab_x + ss_text_width("-0.000", TS) + GAP;
    ss_canvas_text_up(c, lx, L->gy + bh / 2 + ss_text_width(o->bar_label, TS) / 2, o->bar_label,
                      TS, BLACK);
}

ss_code ss_headmap_png(const char *path, const double *m, int rows, int cols,
                       const ss_headmap_opts *o, ss_error *err)
{
    if (rows < 1 || cols < 1)
        return ss_fail(err, SS_ERR_USAGE, "%s: heat map of an empty %d x %d table", path, rows,
                       cols);
    if (!(o->vmin < o->vmax) || !isfinite(o->vmin) || !isfinite(o->vmax))
        return ss_fail(err, SS_ERR_USAGE, "%s: colour range [%g, %g] is empty", path, o->vmin,
                       o->vmax);
    layout L;
    make_layout(o, rows, cols, &L);
    ss_canvas c;
    ss_code rc = ss_canvas_init(&c, L.w, L.h, err);
    if (rc) {
        ss_error_prefix(err, "%s", path);
        return rc;
    }
    int th = ss_text_height(TS);
    ss_canvas_text(&c, PAD, PAD, o->title, TS, BLACK);
    if (o->subtitle)
        ss_canvas_text(&c, PAD, PAD + th + GAP, o->subtitle, TS, BLACK);
    draw_cells(&c, &L, m, rows, cols, o);
    draw_axes(&c, &L, rows, cols, o);
    draw_bar(&c, &L, o);
    char desc[256];
    snprintf(desc, sizeof desc, "%s: %d x %d (%s x %s), linear colour scale %g to %g (viridis)",
             o->title, rows, cols, o->row_label, o->col_label, o->vmin, o->vmax);
    rc = ss_canvas_write_png(&c, path, desc, err);
    ss_canvas_free(&c);
    return rc;
}
