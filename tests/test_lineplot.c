/* The SVG line plot: data land where the axes say, NaN breaks a line,
 * labels are escaped, the log axis maps decades linearly. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "report/lineplot.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The k-th polyline's points attribute. */
static const char *points(const char *svg, int k)
{
    const char *p = svg;
    for (int i = 0; i <= k && p; i++)
        if ((p = strstr(p, "points=\"")))
            p += 8;
    return p;
}

static void test_geometry(void)
{
    const double x[3] = {0, 5, 10}, y[3] = {0, 0.5, 1}, y2[4] = {0.2, NAN, 0.4, 0.6};
    ss_series s[2] = {{"rising", x, y, 3}, {"a<b & c", NULL, y2, 4}};
    ss_plot_opts o = {"title \"quoted\"", "step", "value", 0};
    ss_error err = {0};
    const char *path = ss_test_path("%s/plot.svg", ss_test_tmp());
    CHECK(ss_lineplot_svg(path, s, 2, &o, &err) == SS_OK);
    char *svg = slurp(path);
    CHECK(svg && strncmp(svg, "<svg", 4) == 0 && strstr(svg, "</svg>"));
    if (!svg)
        return;
    CHECK(count(svg, "<polyline") == 3); /* the NaN splits the second series */
    double px, py, qx, qy;
    /* x spans 0..10 and y 0..1 over all series: (0,0) is the plot's lower
     * left corner, (10,1) its upper right */
    CHECK(sscanf(points(svg, 0), "%lf,%lf", &px, &py) == 2);
    CHECK_NEAR(px, SS_PLOT_LEFT, 1e-9);
    CHECK_NEAR(py, SS_PLOT_HEIGHT - SS_PLOT_BOTTOM, 1e-9);
    const char *last = strstr(points(svg, 0), "\"");
    while (last > svg && last[-1] != ' ')
        last--;
    CHECK(sscanf(last, "%lf,%lf", &qx, &qy) == 2);
    CHECK_NEAR(qx, SS_PLOT_WIDTH - SS_PLOT_RIGHT, 1e-9);
    CHECK_NEAR(qy, SS_PLOT_TOP, 1e-9);
    /* second series, x = 2 (index), y = 0.4 */
    CHECK(sscanf(points(svg, 2), "%lf,%lf", &px, &py) == 2);
    double w = SS_PLOT_WIDTH - SS_PLOT_RIGHT - SS_PLOT_LEFT;
    double h = SS_PLOT_HEIGHT - SS_PLOT_BOTTOM - SS_PLOT_TOP;
    CHECK_NEAR(px, SS_PLOT_LEFT + 0.2 * w, 0.01);
    CHECK_NEAR(py, SS_PLOT_HEIGHT - SS_PLOT_BOTTOM - 0.4 * h, 0.01);
    CHECK(strstr(svg, "a&lt;b &amp; c") != NULL);
    CHECK(strstr(svg, "title &quot;quoted&quot;") != NULL);
}

static void test_log_axis(void)
{
    const double y[3] = {10, 100, 1000};
    ss_series s = {"decades", NULL, y, 3};
    ss_plot_opts o = {"log", "x", "y", 1};
    ss_error err = {0};
    const char *path = ss_test_path("%s/plot_log.svg", ss_test_tmp());
    CHECK(ss_lineplot_svg(path, &s, 1, &o, &err) == SS_OK);
    char *svg = slurp(path);
    double px, py;
    const char *p = svg ? points(svg, 0) : NULL;
    CHECK(p && sscanf(p, "%lf,%lf %lf,%lf", &px, &py, &px, &py) == 4);
    /* 100 is halfway between 10 and 1000 on a log axis */
    CHECK_NEAR(py, (SS_PLOT_HEIGHT - SS_PLOT_BOTTOM + SS_PLOT_TOP) / 2.0, 1e-9);
    CHECK(svg && strstr(svg, ">1e2</text>"));
}

static void test_bad_calls(void)
{
    ss_error err = {0};
    CHECK(ss_lineplot_svg(ss_test_path("%s/none.svg", ss_test_tmp()), NULL, 0,
                          &(ss_plot_opts){"", "", "", 0}, &err) == SS_ERR_USAGE);
    ss_error_clear(&err);
    const double y[1] = {1};
    ss_series s = {"one", NULL, y, 1};
    CHECK(ss_lineplot_svg("/nonexistent-dir/x.svg", &s, 1, &(ss_plot_opts){"", "", "", 0}, &err) ==
          SS_ERR_IO);
    CHECK(strstr(err.msg, "/nonexistent-dir/x.svg") != NULL);
}

TEST_MAIN(TEST(test_geometry), TEST(test_log_axis), TEST(test_bad_calls))
