#include "report/canvas.h"

#include <ctype.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

#define MAX_SIDE 8192
#define GLYPH_W 5
#define GLYPH_H 7
#define ADVANCE 6

/* Each glyph: 7 rows of 5 bits, the leftmost pixel in bit 4. */
typedef struct {
    char ch;
    unsigned char rows[GLYPH_H];
} glyph;

static const glyph FONT[] = {
    {'A', {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}},
    {'B', {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e}},
    {'C', {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e}},
    {'D', {0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e}},
    {'E', {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f}},
    {'F', {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10}},
    {'G', {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f}},
    {'H', {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}},
    {'I', {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f}},
    {'M', {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}},
    {'P', {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10}},
    {'Q', {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d}},
    {'R', {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11}},
    {'S', {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e}},
    {'T', {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a}},
    {'X', {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04}},
    {'Z', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f}},
    {'0', {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}},
    {'1', {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}},
    {'2', {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}},
    {'3', {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}},
    {'4', {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}},
    {'5', {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}},
    {'6', {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}},
    {'7', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}},
    {'9', {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}},
    {',', {0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08}},
    {':', {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00}},
    {';', {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x04, 0x08}},
    {'-', {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00}},
    {'+', {0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00}},
    {'=', {0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'[', {0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e}},
    {']', {0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f}},
    {'<', {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}},
    {'>', {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}},
    {'*', {0x00, 0x04, 0x15, 0x0e, 0x15, 0x04, 0x00}},
    {'\'', {0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00}},
    {'?', {0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}},
    {'!', {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04}},
    {'@', {0x00, 0x0e, 0x1f, 0x1f, 0x1f, 0x0e, 0x00}},
};

static const unsigned char *glyph_rows(char ch)
{
    static const unsigned char blank[GLYPH_H] = {0};
    if (ch == ' ')
        return blank;
    char up = (char)toupper((unsigned char)ch);
    for (size_t k = 0; k < sizeof FONT / sizeof FONT[0]; k++)
        if (FONT[k].ch == up)
            return FONT[k].rows;
    return glyph_rows('?');
}

ss_code ss_canvas_init(ss_canvas *c, int w, int h, ss_error *err)
{
    memset(c, 0, sizeof *c);
    if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE)
        return ss_fail(err, SS_ERR_VALUE, "figure of %d x %d pixels: expected 1 to %d per side", w,
                       h, MAX_SIDE);
    c->px = malloc((size_t)w * h * 3);
    if (!c->px)
        return ss_fail(err, SS_ERR_NOMEM, "out of memory for a %d x %d figure", w, h);
    memset(c->px, 255, (size_t)w * h * 3);
    c->w = w;
    c->h = h;
    return SS_OK;
}

void ss_canvas_free(ss_canvas *c)
{
    free(c->px);
    memset(c, 0, sizeof *c);
}

static void put(ss_canvas *c, int x, int y, const unsigned char rgb[3])
{
    if (x >= 0 && y >= 0 && x < c->w && y < c->h)
        memcpy(c->px + ((size_t)y * c->w + x) * 3, rgb, 3);
}

void ss_canvas_rect(ss_canvas *c, int x, int y, int w, int h, const unsigned char rgb[3])
{
    for (int yy = y < 0 ? 0 : y; yy < y + h && yy < c->h; yy++)
        for (int xx = x < 0 ? 0 : x; xx < x + w && xx < c->w; xx++)
            memcpy(c->px + ((size_t)yy * c->w + xx) * 3, rgb, 3);
}

void ss_canvas_disc(ss_canvas *c, double cx, double cy, double r, const unsigned char rgb[3])
{
    for (int y = (int)(cy - r) - 1; y <= (int)(cy + r) + 1; y++)
        for (int x = (int)(cx - r) - 1; x <= (int)(cx + r) + 1; x++) {
            double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
            if (dx * dx + dy * dy <= r * r)
                put(c, x, y, rgb);
        }
}

/* Draws s upright, or turned a quarter to the left (up: read bottom to
 * top, its baseline on the right). */
static void draw_text(ss_canvas *c, int x, int y, const char *s, int scale,
                      const unsigned char rgb[3], int up)
{
    for (int k = 0; s[k]; k++) {
        const unsigned char *rows = glyph_rows(s[k]);
        for (int gy = 0; gy < GLYPH_H; gy++)
            for (int gx = 0; gx < GLYPH_W; gx++) {
                if (!(rows[gy] & (0x10 >> gx)))
                    continue;
                int tx = (k * ADVANCE + gx) * scale, ty = gy * scale; /* text coordinates */
                for (int sy = 0; sy < scale; sy++)
                    for (int sx = 0; sx < scale; sx++) {
                        if (up) /* (tx, ty) -> (x + ty, y - tx): reads bottom to top */
                            put(c, x + ty + sy, y - tx - sx, rgb);
                        else
                            put(c, x + tx + sx, y + ty + sy, rgb);
                    }
            }
    }
}

void ss_canvas_text(ss_canvas *c, int x, int y, const char *s, int scale,
                    const unsigned char rgb[3])
{
    draw_text(c, x, y, s, scale, rgb, 0);
}

void ss_canvas_text_up(ss_canvas *c, int x, int y, const char *s, int scale,
                       const unsigned char rgb[3])
{
    draw_text(c, x, y, s, scale, rgb, 1);
}

int ss_text_width(const char *s, int scale)
{
    int n = (int)strlen(s);
    return n > 0 ? (n * ADVANCE - 1) * scale : 0;
}

int ss_text_height(int scale)
{
    return GLYPH_H * scale;
}

/* 0 on success, -1 when libpng fails, -2 when memory runs out. */
static __attribute__((noinline)) int write_png(FILE *fp, const ss_canvas *c, const char *desc)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (!png)
        return -2;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return -2;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)c->w, (png_uint_32)c->h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_text text[2];
    memset(text, 0, sizeof text);
    text[0].compression = text[1].compression = PNG_TEXT_COMPRESSION_NONE;
    text[0].key = (png_charp) "Software";
    text[0].text = (png_charp) "slashscope";
    text[1].key = (png_charp) "Description";
    text[1].text = (png_charp)desc;
    png_set_text(png, info, text, 2);
    png_write_info(png, info);
    for (int y = 0; y < c->h; y++)
        png_write_row(png, c->px + (size_t)y * c->w * 3);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 0;
}

ss_code ss_canvas_write_png(const ss_canvas *c, const char *path, const char *description,
                            ss_error *err)
{
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc)
        return rc;
    int st = write_png(f.fp, c, description ? description : "");
    if (st) {
        ss_atomic_abort(&f);
        return ss_fail(err, st == -2 ? SS_ERR_NOMEM : SS_ERR_IO, "%s: %s", path,
                       st == -2 ? "out of memory writing the PNG" : "libpng failed to write");
    }
    return ss_atomic_commit(&f, err);
}
