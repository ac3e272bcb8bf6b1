/* The SVG line plot: data land where the axes say, NaN breaks a line,
 * labels are escaped, the log axis maps decades linearly. */
#include <math.h>
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

/* A fast oscillation of 3000 points over ~490 pixel columns: the polyline
 * keeps at most four points per column (first, lowest, highest, last), and
 * what it keeps shows the same picture: every kept point is a point of the
 * series (index recovered from its x, y on the same linear map), the first
 * and last points stay, and each column's lowest and highest drawn y are
 * the series' own in that column. */
static void test_thinned_columns(void)
{
    enum { N = 3000 };
    static double y[N];
    for (int i = 0; i < N; i++)
        y[i] = sin(0.37 * i) + 0.3 * sin(0.011 * i);
    ss_series s = {"fast", NULL, y, N};
    ss_error err = {0};
    const char *path = ss_test_path("%s/plot_thin.svg", ss_test_tmp());
    CHECK(ss_lineplot_svg(path, &s, 1, &(ss_plot_opts){"thin", "x", "y", 0}, &err) == SS_OK);
    char *svg = slurp(path);
    const char *p = svg ? points(svg, 0) : NULL;
    CHECK(p != NULL);
    if (!p)
        return;
    static double px[N], py[N];
    int m = 0, used;
    while (m < N && sscanf(p, "%lf,%lf%n", &px[m], &py[m], &used) == 2) {
        m++;
        p += used;
    }
    double x0 = SS_PLOT_LEFT, x1 = SS_PLOT_WIDTH - SS_PLOT_RIGHT, dx = (x1 - x0) / (N - 1);
    CHECK_NEAR(px[0], x0, 1e-9);
    CHECK_NEAR(px[m - 1], x1, 1e-9);
    CHECK(m < 4 * (int)(x1 - x0 + 2) && m > (int)(x1 - x0)); /* thinned, not emptied */
    /* y maps linearly: slope and offset from the first and the last point */
    double b = (py[m - 1] - py[0]) / (y[N - 1] - y[0]), a = py[0] - b * y[0];
    int ok = 1, prev = -1;
    static double lo[1024], hi[1024], dlo[1024], dhi[1024];
    for (int c = 0; c < 1024; c++)
        lo[c] = dlo[c] = INFINITY, hi[c] = dhi[c] = -INFINITY;
    for (int k = 0; k < m; k++) {
        int i = (int)lround((px[k] - x0) / dx);
        ok &= i > prev && i < N && fabs(py[k] - (a + b * y[i])) < 0.02;
        int c = (int)floor(x0 + i * dx + 1e-9);
        prev = i;
        dlo[c] = fmin(dlo[c], py[k]);
        dhi[c] = fmax(dhi[c], py[k]);
    }
    for (int i = 0; i < N; i++) {
        int c = (int)floor(x0 + i * dx + 1e-9);
        lo[c] = fmin(lo[c], a + b * y[i]);
        hi[c] = fmax(hi[c], a + b * y[i]);
    }
    for (int c = 0; c < 1024; c++)
        ok &= isinf(lo[c]) == isinf(dlo[c]) &&
              (isinf(lo[c]) || (fabs(lo[c] - dlo[c]) < 0.02 && fabs(hi[c] - dhi[c]) < 0.02));
    CHECK(ok);
}

/* The points' formatter writes what printf's "%.2f" writes: random values
 * over many magnitudes and signs, exact halves (ties go to even), values
 * just around them, zeros, tiny, huge and non-finite ones. */
static void test_fixed2_is_printf(void)
{
    char got[SS_PLOT_FIXED2_MAX], want[SS_PLOT_FIXED2_MAX];
    int bad = 0, n = 0;
    unsigned long long x = 88172645463325252ULL;
    for (int k = 0; k < 300000; k++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0;
        double v = (x & 1 ? -1 : 1) * ldexp(u, (int)(x >> 40) % 50 - 36);
        double tie = (double)(int)(x % 400000) / 8; /* k/8: halves at the second digit */
        const double vals[4] = {v, tie, nextafter(tie, 0), nextafter(tie, 1e9)};
        for (int i = 0; i < 4; i++, n++) {
            int len = ss_plot_fixed2(got, vals[i]);
            snprintf(want, sizeof want, "%.2f", vals[i]);
            bad += strcmp(got, want) != 0 || len != (int)strlen(want);
        }
    }
    const double edge[] = {0.0, -0.0, 0.005, 0.015, 0.025, -0.125, 0.375, 1e-10, -1e-10, 5e-3,
                           999999999.995, 1e9, -3e12, 1e300, INFINITY, -INFINITY, NAN, 4.9e-324};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++, n++) {
        int len = ss_plot_fixed2(got, edge[i]);
        snprintf(want, sizeof want, "%.2f", edge[i]);
        bad += strcmp(got, want) != 0 || len != (int)strlen(want);
    }
    CHECK_MSG(bad == 0, "%d of %d values differ from printf", bad, n);
}

TEST_MAIN(TEST(test_geometry), TEST(test_log_axis), TEST(test_bad_calls),
          TEST(test_thinned_columns), TEST(test_fixed2_is_printf))
