/* Per-head heat maps and the figure canvas (src/report/headmap.c,
 * canvas.c): the font's glyphs pixel by pixel, upright and turned; a map
 * read back with libpng, its cells in matplotlib's viridis (#440154,
 * #21918C, #FDE725 at 0, 1/2, 1), NaN grey, the marked head's white dot,
 * text ink in the title band; and the errors. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "report/canvas.h"
#include "report/headmap.h"

static const unsigned char INK[3] = {0, 0, 0};

static int is_ink(const ss_canvas *c, int x, int y)
{
    return c->px[((size_t)y * c->w + x) * 3] == 0;
}

/* 'L' is its left column and its bottom row; 'T' its top row and its middle
 * column. */
static void test_font(void)
{
    ss_canvas c;
    ss_error err = {0};
    CHECK(ss_canvas_init(&c, 11, 7, &err) == SS_OK);
    ss_canvas_text(&c, 0, 0, "lT", 1, INK); /* lower case prints as capitals */
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 5; x++)
            CHECK_MSG(is_ink(&c, x, y) == (x == 0 || y == 6), "L at (%d, %d)", x, y);
    for (int y = 0; y < 7; y++)
        for (int x = 6; x < 11; x++)
            CHECK_MSG(is_ink(&c, x, y) == (y == 0 || x == 8), "T at (%d, %d)", x, y);
    CHECK(ss_text_width("lT", 1) == 11 && ss_text_width("lT", 2) == 22 && ss_text_height(3) == 21);
    ss_canvas_free(&c);
    /* turned a quarter left, read bottom to top from (0, 4): L's column runs
     * along the bottom row, its foot up the right-hand column */
    CHECK(ss_canvas_init(&c, 7, 5, &err) == SS_OK);
    ss_canvas_text_up(&c, 0, 4, "L", 1, INK);
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 7; x++)
            CHECK_MSG(is_ink(&c, x, y) == (y == 4 || x == 6), "turned L at (%d, %d)", x, y);
    ss_canvas_free(&c);
    CHECK(ss_canvas_init(&c, 0, 5, &err) == SS_ERR_VALUE);
}

static int near(const unsigned char *p, int r, int g, int b)
{
    return abs(p[0] - r) <= 1 && abs(p[1] - g) <= 1 && abs(p[2] - b) <= 1;
}

static void test_map(void)
{
    double m[12] = {0, 0.5, 1, NAN,
                    1, 1, 0.5, 0,
                    0.25, 0.75, 2, -1}; /* 2 and -1 clip to the ends */
    unsigned char mark[12] = {0};
    mark[6] = 1; /* L1H2 */
    ss_headmap_opts o = {.title = "Test map", .subtitle = "three layers", .row_label = "layer",
                         .col_label = "head", .bar_label = "value", .vmin = 0, .vmax = 1,
                         .mark = mark, .mark_label = "marked"};
    const char *path = ss_test_path("%s/headmap.png", ss_test_tmp());
    ss_error err = {0};
    CHECK_MSG(ss_headmap_png(path, m, 3, 4, &o, &err) == SS_OK, "%s", err.msg);
    ss_test_image im;
    int read = ss_test_read_png(path, &im);
    CHECK(read);
    if (!read)
        return;
    int x, y, side;
    ss_headmap_cell(&o, 3, 4, 0, 0, &x, &y, &side);
    CHECK(side >= 8 && x + 4 * side < im.w && y + 3 * side < im.h);
#define AT(i, j, dx, dy) (ss_headmap_cell(&o, 3, 4, i, j, &x, &y, &side), \
                          im.rgb + ((size_t)(y + (dy)) * im.w + x + (dx)) * 3)
    CHECK(near(AT(0, 0, 3, 3), 68, 1, 84));
    CHECK(near(AT(0, 1, 3, 3), 33, 145, 140));
    CHECK(near(AT(0, 2, 3, 3), 253, 231, 37));
    CHECK(near(AT(0, 3, 3, 3), 200, 200, 200));
    CHECK(near(AT(2, 2, 3, 3), 253, 231, 37));
    CHECK(near(AT(2, 3, 3, 3), 68, 1, 84));
    /* the marked cell: white at its centre, its colour in the corner */
    CHECK(near(AT(1, 2, side / 2, side / 2), 255, 255, 255));
    CHECK(near(AT(1, 2, 1, 1), 33, 145, 140));
    CHECK(near(AT(1, 1, side / 2, side / 2), 253, 231, 37)); /* unmarked */
    /* the title band (above the grid) holds black ink */
    ss_headmap_cell(&o, 3, 4, 0, 0, &x, &y, &side);
    int ink = 0;
    for (int yy = 0; yy < y; yy++)
        for (int xx = 0; xx < im.w; xx++)
            ink += near(im.rgb + ((size_t)yy * im.w + xx) * 3, 0, 0, 0);
    CHECK_MSG(ink > 100, "%d ink pixels above the grid", ink);
    free(im.rgb);

    o.vmin = o.vmax = 1;
    CHECK(ss_headmap_png(path, m, 3, 4, &o, &err) == SS_ERR_USAGE);
    ss_error_clear(&err);
    o.vmin = 0;
    CHECK(ss_headmap_png(path, m, 0, 4, &o, &err) == SS_ERR_USAGE);
}

TEST_MAIN(TEST(test_font), TEST(test_map))
