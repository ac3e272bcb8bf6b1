#include "report/png_encode.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

static void on_write(png_structp png, png_bytep data, png_size_t n)
{
    ss_text_putn(png_get_io_ptr(png), data, n);
}

static void on_flush(png_structp png)
{
    (void)png;
}

/* Returns 0 on success, -1 when libpng fails, -2 when memory runs out. The
 * row buffer is allocated by the caller so that no local that changes is
 * live across setjmp. */
static __attribute__((noinline)) int encode(ss_text *out, int w, int h, ss_png_row_fn row_fn,
                                            void *ctx, const char *desc, png_bytep row)
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
    png_set_write_fn(png, out, on_write, on_flush);
    /* Heatmaps are flat colour cells: one filter (Up repeats the row above
     * inside a cell) and zlib level 3 give nearly the smallest files at a
     * fraction of libpng's default cost (adaptive filters, level 6), which
     * was a fifth of a study's CPU. */
    png_set_filter(png, 0, PNG_FILTER_UP);
    png_set_compression_level(png, 3);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_text text[2];
    memset(text, 0, sizeof text);
    text[0].compression = PNG_TEXT_COMPRESSION_NONE;
    text[0].key = (png_charp) "Software";
    text[0].text = (png_charp) "slashscope";
    text[1].compression = PNG_TEXT_COMPRESSION_NONE;
    text[1].key = (png_charp) "Description";
    text[1].text = (png_charp)(desc ? desc : "");
    png_set_text(png, info, text, desc ? 2 : 1);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        row_fn(ctx, y, row);
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 0;
}

ss_code ss_png_encode(ss_text *out, int w, int h, ss_png_row_fn row_fn, void *ctx,
                      const char *desc, const char *what, ss_error *err)
{
    if (w < 1 || h < 1)
        return ss_fail(err, SS_ERR_USAGE, "%s: an empty %d x %d image", what, w, h);
    png_bytep row = malloc((size_t)w * 3);
    if (!row)
        return ss_fail(err, SS_ERR_NOMEM, "%s: out of memory for a %d px image row", what, w);
    int st = encode(out, w, h, row_fn, ctx, desc, row);
    free(row);
    if (st == 0 && out->oom)
        st = -2;
    if (st)
        return ss_fail(err, st == -2 ? SS_ERR_NOMEM : SS_ERR_IO, "%s: %s", what,
                       st == -2 ? "out of memory for the PNG encoder" : "libpng failed");
    return SS_OK;
}
