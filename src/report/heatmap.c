/* PNG heatmaps with libpng. The colour map is viridis (perceptually uniform,
 * readable in grey and by colour-blind readers). Rows are generated one at a
 * time, so memory stays O(width). */
#include "report/heatmap.h"

#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

#define MAX_SIDE 16384 /* pixels: beyond this, downsample the matrix first */
#define BAR_GAP 8
#define BAR_WIDTH 16
#define TICK_LEN 3
#define LABEL_GAP 5
#define LABEL_WIDTH 44
#define GLYPH_SCALE 2
#define MIN_HEIGHT 96

/* matplotlib's viridis, its 256 entries rounded to 8 bits (the table is
 * CC0, by Nathaniel Smith and Stefan van der Walt). */
static const unsigned char VIRIDIS[256][3] = {
    {68, 1, 84}, {68, 2, 86}, {69, 4, 87}, {69, 5, 89}, {70, 7, 90}, {70, 8, 92}, {70, 10, 93},
    {70, 11, 94}, {71, 13, 96}, {71, 14, 97}, {71, 16, 99}, {71, 17, 100}, {71, 19, 101},
    {72, 20, 103}, {72, 22, 104}, {72, 23, 105}, {72, 24, 106}, {72, 26, 108}, {72, 27, 109},
    {72, 28, 110}, {72, 29, 111}, {72, 31, 112}, {72, 32, 113}, {72, 33, 115}, {72, 35, 116},
    {72, 36, 117}, {72, 37, 118}, {72, 38, 119}, {72, 40, 120}, {72, 41, 121}, {71, 42, 122},
    {71, 44, 122}, {71, 45, 123}, {71, 46, 124}, {71, 47, 125}, {70, 48, 126}, {70, 50, 126},
    {70, 51, 127}, {70, 52, 128}, {69, 53, 129}, {69, 55, 129}, {69, 56, 130}, {68, 57, 131},
    {68, 58, 131}, {68, 59, 132}, {67, 61, 132}, {67, 62, 133}, {66, 63, 133}, {66, 64, 134},
    {66, 65, 134}, {65, 66, 135}, {65, 68, 135}, {64, 69, 136}, {64, 70, 136}, {63, 71, 136},
    {63, 72, 137}, {62, 73, 137}, {62, 74, 137}, {62, 76, 138}, {61, 77, 138}, {61, 78, 138},
    {60, 79, 138}, {60, 80, 139}, {59, 81, 139}, {59, 82, 139}, {58, 83, 139}, {58, 84, 140},
    {57, 85, 140}, {57, 86, 140}, {56, 88, 140}, {56, 89, 140}, {55, 90, 140}, {55, 91, 141},
    {54, 92, 141}, {54, 93, 141}, {53, 94, 141}, {53, 95, 141}, {52, 96, 141}, {52, 97, 141},
    {51, 98, 141}, {51, 99, 141}, {50, 100, 142}, {50, 101, 142}, {49, 102, 142}, {49, 103, 142},
    {49, 104, 142}, {48, 105, 142}, {48, 106, 142}, {47, 107, 142}, {47, 108, 142},
    {46, 109, 142}, {46, 110, 142}, {46, 111, 142}, {45, 112, 142}, {45, 113, 142},
    {44, 113, 142}, {44, 114, 142}, {44, 115, 142}, {43, 116, 142}, {43, 117, 142},
    {42, 118, 142}, {42, 119, 142}, {42, 120, 142}, {41, 121, 142}, {41, 122, 142},
    {41, 123, 142}, {40, 124, 142}, {40, 125, 142}, {39, 126, 142}, {39, 127, 142},
    {39, 128, 142}, {38, 129, 142}, {38, 130, 142}, {38, 130, 142}, {37, 131, 142},
    {37, 132, 142}, {37, 133, 142}, {36, 134, 142}, {36, 135, 142}, {35, 136, 142},
    {35, 137, 142}, {35, 138, 141}, {34, 139, 141}, {34, 140, 141}, {34, 141, 141},
    {33, 142, 141}, {33, 143, 141}, {33, 144, 141}, {33, 145, 140}, {32, 146, 140},
    {32, 146, 140}, {32, 147, 140}, {31, 148, 140}, {31, 149, 139}, {31, 150, 139},
    {31, 151, 139}, {31, 152, 139}, {31, 153, 138}, {31, 154, 138}, {30, 155, 138},
    {30, 156, 137}, {30, 157, 137}, {31, 158, 137}, {31, 159, 136}, {31, 160, 136},
    {31, 161, 136}, {31, 161, 135}, {31, 162, 135}, {32, 163, 134}, {32, 164, 134},
    {33, 165, 133}, {33, 166, 133}, {34, 167, 133}, {34, 168, 132}, {35, 169, 131},
    {36, 170, 131}, {37, 171, 130}, {37, 172, 130}, {38, 173, 129}, {39, 173, 129},
    {40, 174, 128}, {41, 175, 127}, {42, 176, 127}, {44, 177, 126}, {45, 178, 125},
    {46, 179, 124}, {47, 180, 124}, {49, 181, 123}, {50, 182, 122}, {52, 182, 121},
    {53, 183, 121}, {55, 184, 120}, {56, 185, 119}, {58, 186, 118}, {59, 187, 117},
    {61, 188, 116}, {63, 188, 115}, {64, 189, 114}, {66, 190, 113}, {68, 191, 112},
    {70, 192, 111}, {72, 193, 110}, {74, 193, 109}, {76, 194, 108}, {78, 195, 107},
    {80, 196, 106}, {82, 197, 105}, {84, 197, 104}, {86, 198, 103}, {88, 199, 101},
    {90, 200, 100}, {92, 200, 99}, {94, 201, 98}, {96, 202, 96}, {99, 203, 95}, {101, 203, 94},
    {103, 204, 92}, {105, 205, 91}, {108, 205, 90}, {110, 206, 88}, {112, 207, 87},
    {115, 208, 86}, {117, 208, 84}, {119, 209, 83}, {122, 209, 81}, {124, 210, 80},
    {127, 211, 78}, {129, 211, 77}, {132, 212, 75}, {134, 213, 73}, {137, 213, 72},
    {139, 214, 70}, {142, 214, 69}, {144, 215, 67}, {147, 215, 65}, {149, 216, 64},
    {152, 216, 62}, {155, 217, 60}, {157, 217, 59}, {160, 218, 57}, {162, 218, 55},
    {165, 219, 54}, {168, 219, 52}, {170, 220, 50}, {173, 220, 48}, {176, 221, 47},
    {178, 221, 45}, {181, 222, 43}, {184, 222, 41}, {186, 222, 40}, {189, 223, 38},
    {192, 223, 37}, {194, 223, 35}, {197, 224, 33}, {200, 224, 32}, {202, 225, 31},
    {205, 225, 29}, {208, 225, 28}, {210, 226, 27}, {213, 226, 26}, {216, 226, 25},
    {218, 227, 25}, {221, 227, 24}, {223, 227, 24}, {226, 228, 24}, {229, 228, 25},
    {231, 228, 25}, {234, 229, 26}, {236, 229, 27}, {239, 229, 28}, {241, 229, 29},
    {244, 230, 30}, {246, 230, 32}, {248, 230, 33}, {251, 231, 35}, {253, 231, 37}
};

/* t in [0, 1] to a colour, binned as matplotlib does (256 equal bins). */
void ss_viridis(double t, unsigned char rgb[3])
{
    int i = t >= 0.0 ? (int)(t * 256.0) : 0;
    if (i > 255)
        i = 255;
    memcpy(rgb, VIRIDIS[i], 3);
}

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

typedef struct {
    double lo, hi; /* the colour range, in log10 units when log_scale */
    int log_scale;
} range;

static double to_t(const range *r, double v)
{
    if (r->log_scale)
        v = v > 0 ? log10(v) : r->lo;
    if (v < r->lo)
        v = r->lo;
    if (v > r->hi)
        v = r->hi;
    return r->hi > r->lo ? (v - r->lo) / (r->hi - r->lo) : 0.0;
}

/* The colour range from the options and the data (header: 0, 0 means
 * from the data). */
static ss_code find_range(const double *m, size_t n, const ss_heatmap_opts *o, range *r,
                          double *vmin_out, double *vmax_out, ss_error *err)
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
    *vmin_out = vmin;
    *vmax_out = vmax;
    return SS_OK;
}

/* Tick labels at the decades (log) or at five even steps (linear), skipped
 * when they would overlap. */
static int make_labels(const range *r, int x, int bar_h, label *lb, int max)
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

/* One image row: cells, colour bar, tick marks and labels. */
static void draw_row(png_bytep px, int y, const double *m, int rows, int cols, int scale,
                     const ss_heatmap_opts *o, const range *r, int img_w, int bar_x, int bar_h,
                     const label *lb, int n_lb)
{
    memset(px, 255, (size_t)img_w * 3);
    int i = y / scale;
    if (y < rows * scale) {
        for (int j = 0; j < cols; j++) {
            unsigned char rgb[3] = {255, 255, 255};
            double v = m[(size_t)i * cols + j];
            if (o->upper_blank && j > i) {
                /* white */
            } else if (isnan(v)) {
                rgb[0] = rgb[1] = rgb[2] = 200;
            } else {
                ss_viridis(to_t(r, v), rgb);
            }
            for (int s = 0; s < scale; s++)
                memcpy(px + ((size_t)j * scale + s) * 3, rgb, 3);
        }
    }
    if (y < bar_h) {
        unsigned char rgb[3];
        ss_viridis(bar_h > 1 ? 1.0 - (double)y / (bar_h - 1) : 1.0, rgb);
        for (int x = bar_x; x < bar_x + BAR_WIDTH; x++)
            memcpy(px + (size_t)x * 3, rgb, 3);
    }
    for (int x = bar_x + BAR_WIDTH; x < img_w; x++) {
        int ink = label_ink(lb, n_lb, x, y);
        /* tick marks: a short line at each label's centre */
        for (int k = 0; k < n_lb && !ink; k++)
            if (y == lb[k].y + 5 * GLYPH_SCALE / 2 && x < bar_x + BAR_WIDTH + TICK_LEN)
                ink = 1;
        if (ink)
            memset(px + (size_t)x * 3, 0, 3);
    }
}

/* Everything the writer needs, computed before libpng's setjmp so that no
 * local of the caller is live across it. */
typedef struct {
    const double *m;
    int rows, cols, scale;
    const ss_heatmap_opts *o;
    range r;
    double vmin, vmax;
    int img_w, img_h, bar_x, bar_h;
    label lb[64];
    int n_lb;
} layout;

/* Returns 0 on success, -1 when libpng fails, -2 when memory runs out. */
static __attribute__((noinline)) int write_png(FILE *fp, const layout *L)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (!png)
        return -2;
    png_infop info = png_create_info_struct(png);
    png_bytep row = malloc((size_t)L->img_w * 3);
    if (!info || !row) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        free(row);
        return -2;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        return -1;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)L->img_w, (png_uint_32)L->img_h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    char desc[160];
    snprintf(desc, sizeof desc, "%d x %d matrix, %s colour scale from %.6g to %.6g (viridis)",
             L->rows, L->cols, L->o->log_scale ? "log10" : "linear", L->vmin, L->vmax);
    png_text text[2];
    memset(text, 0, sizeof text);
    text[0].compression = PNG_TEXT_COMPRESSION_NONE;
    text[0].key = (png_charp) "Software";
    text[0].text = (png_charp) "slashscope";
    text[1].compression = PNG_TEXT_COMPRESSION_NONE;
    text[1].key = (png_charp) "Description";
    text[1].text = desc;
    png_set_text(png, info, text, 2);
    png_write_info(png, info);
    for (int y = 0; y < L->img_h; y++) {
        draw_row(row, y, L->m, L->rows, L->cols, L->scale, L->o, &L->r, L->img_w, L->bar_x,
                 L->bar_h, L->lb, L->n_lb);
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    return 0;
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
    if ((rc = find_range(m, (size_t)rows * cols, o, &L->r, &L->vmin, &L->vmax, err)))
        goto done;
    int map_w = cols * L->scale, map_h = rows * L->scale;
    L->bar_x = map_w + BAR_GAP;
    L->img_w = L->bar_x + BAR_WIDTH + TICK_LEN + LABEL_GAP + LABEL_WIDTH;
    L->img_h = map_h > MIN_HEIGHT ? map_h : MIN_HEIGHT;
    L->bar_h = L->img_h;
    L->n_lb =
        make_labels(&L->r, L->bar_x + BAR_WIDTH + TICK_LEN + LABEL_GAP, L->bar_h, L->lb, 64);

    ss_atomic_file f;
    if ((rc = ss_atomic_open(&f, path, err)))
        goto done;
    int st = write_png(f.fp, L);
    if (st) {
        ss_atomic_abort(&f);
        rc = ss_fail(err, st == -2 ? SS_ERR_NOMEM : SS_ERR_IO,
                     "%s: %s", path, st == -2 ? "out of memory for the PNG writer"
                                              : "libpng failed while writing");
        goto done;
    }
    rc = ss_atomic_commit(&f, err);
done:
    free(L);
    return rc;
}
