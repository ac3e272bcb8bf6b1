/* PNG heatmaps (src/report/heatmap.c): written, read back with libpng, and
 * checked for size and colours. Reference colours are matplotlib's viridis
 * end points and midpoint (#440154, #21918C, #FDE725). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "report/heatmap.h"

static const unsigned char *px(const ss_test_image *im, int x, int y)
{
    return im->rgb + ((size_t)y * im->w + x) * 3;
}

static int near(const unsigned char *p, int r, int g, int b, int tol)
{
    return abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
}

#define VIRIDIS_0 68, 1, 84
#define VIRIDIS_HALF 33, 145, 140
#define VIRIDIS_1 253, 231, 37

static void test_log_roundtrip(void)
{
    /* 4x4 causal map: 1, 1e-4, their geometric mean 1e-2, NaN, and a value
     * below vmin that must clip to the bottom colour. */
    double m[16] = {1.0,  0,    0,   0,
                    1e-4, 1e-2, 0,   0,
                    NAN,  1e-6, 1.0, 0,
                    1e-2, 1e-2, 1e-2, 1e-2};
    ss_heatmap_opts o = {1, 1e-4, 1.0, 20, 1};
    const char *path = ss_test_path("%s/heatmap_log.png", ss_test_tmp());
    ss_error err = {0};
    CHECK(ss_heatmap_png(path, m, 4, 4, &o, &err) == SS_OK);
    ss_test_image im;
    CHECK(ss_test_read_png(path, &im));
    CHECK(im.h == 96); /* 4 * 20 = 80 px of map, padded to the minimum height */
    CHECK(im.w > 80 + 16);
    /* centre of cell (i, j) */
#define CELL(i, j) px(&im, (j) * 20 + 10, (i) * 20 + 10)
    CHECK(near(CELL(0, 0), VIRIDIS_1, 1));
    CHECK(near(CELL(1, 0), VIRIDIS_0, 1));
    CHECK(near(CELL(1, 1), VIRIDIS_HALF, 1));
    CHECK(near(CELL(2, 0), 200, 200, 200, 0));  /* NaN */
    CHECK(near(CELL(2, 1), VIRIDIS_0, 1));      /* clipped */
    CHECK(near(CELL(0, 3), 255, 255, 255, 0));  /* above the diagonal */
    CHECK(near(CELL(3, 3), VIRIDIS_HALF, 1));
    /* below the map (rows 80..95) is background */
    CHECK(near(px(&im, 10, 90), 255, 255, 255, 0));
    /* the colour bar: 8 px right of the map, top = vmax, bottom = vmin */
    CHECK(near(px(&im, 80 + 8 + 8, 0), VIRIDIS_1, 1));
    CHECK(near(px(&im, 80 + 8 + 8, 95), VIRIDIS_0, 1));
    /* labels draw black ink somewhere right of the bar */
    int ink = 0;
    for (int y = 0; y < im.h; y++)
        for (int x = 80 + 8 + 16; x < im.w; x++)
            ink += near(px(&im, x, y), 0, 0, 0, 0);
    CHECK(ink > 20);
    free(im.rgb);
}

static void test_linear_auto_range(void)
{
    /* linear scale from the data: 2 is the top colour, -2 the bottom */
    double m[6] = {-2, 0, 2, 0, 2, -2};
    ss_heatmap_opts o = {0, 0, 0, 0, 0};
    const char *path = ss_test_path("%s/heatmap_lin.png", ss_test_tmp());
    ss_error err = {0};
    CHECK(ss_heatmap_png(path, m, 2, 3, &o, &err) == SS_OK);
    ss_test_image im;
    CHECK(ss_test_read_png(path, &im));
    int scale = 512 / 3; /* automatic: about 512 px */
    CHECK(im.h == 2 * scale);
    CHECK(near(px(&im, scale / 2, scale / 2), VIRIDIS_0, 1));
    CHECK(near(px(&im, scale + scale / 2, scale / 2), VIRIDIS_HALF, 1));
    CHECK(near(px(&im, 2 * scale + scale / 2, scale / 2), VIRIDIS_1, 1));
    free(im.rgb);
}

static void test_errors(void)
{
    double m[4] = {1, 2, 3, 4};
    ss_error err = {0};
    ss_heatmap_opts bad = {1, -1.0, 1.0, 1, 0};
    CHECK(ss_heatmap_png(ss_test_path("%s/never.png", ss_test_tmp()), m, 2, 2, &bad, &err) ==
          SS_ERR_USAGE);
    CHECK(strstr(err.msg, "vmin") != NULL);
    ss_heatmap_opts o = {1, 0, 0, 1, 0};
    ss_error_clear(&err);
    CHECK(ss_heatmap_png("/nonexistent-dir/x.png", m, 2, 2, &o, &err) == SS_ERR_IO);
    CHECK(strstr(err.msg, "/nonexistent-dir/x.png") != NULL);
    ss_error_clear(&err);
    CHECK(ss_heatmap_png(ss_test_path("%s/never.png", ss_test_tmp()), m, 0, 2, &o, &err) ==
          SS_ERR_USAGE);
    ss_heatmap_opts huge = {1, 0, 0, 10000, 0};
    ss_error_clear(&err);
    CHECK(ss_heatmap_png(ss_test_path("%s/never.png", ss_test_tmp()), m, 2, 2, &huge, &err) ==
          SS_ERR_VALUE);
    CHECK(access(ss_test_path("%s/never.png", ss_test_tmp()), F_OK) != 0);
}

TEST_MAIN(TEST(test_log_roundtrip), TEST(test_linear_auto_range), TEST(test_errors))
