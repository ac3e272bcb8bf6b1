/* SVG figures and the HTML writer (src/report/figure*.c, html.c): the
 * embedded raster decodes to the viridis colours of the cells (matplotlib's
 * end points and midpoint, as in test_heatmap), a 4-column map is drawn
 * wide enough to read, long axes are averaged in blocks, ticks land where
 * the values are, text is escaped, >20 series are labelled directly, and
 * table numbers round-trip exactly. Also writes gallery.html (every figure
 * kind) for tests/cli_report.sh's browser check and for people to look at. */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "report/figure.h"
#include "report/html.h"
#include "report/lineplot.h"

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static int b64(char c)
{
    const char *A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(A, c) : NULL;
    return p ? (int)(p - A) : -1;
}

typedef struct {
    int w, h;
    unsigned char *rgb;
} image;

/* The first embedded PNG of an SVG, decoded. */
static int embedded_png(const char *svg, image *im)
{
    const char *p = strstr(svg, "base64,");
    if (!p)
        return 0;
    p += 7;
    size_t n = strcspn(p, "\"");
    unsigned char *bytes = malloc(n);
    size_t len = 0;
    for (size_t i = 0; i + 3 < n + 1 && i < n; i += 4) {
        int a = b64(p[i]), b = b64(p[i + 1]), c = p[i + 2] == '=' ? 0 : b64(p[i + 2]),
            d = p[i + 3] == '=' ? 0 : b64(p[i + 3]);
        if (a < 0 || b < 0 || c < 0 || d < 0) {
            free(bytes);
            return 0;
        }
        unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 | (unsigned)d;
        bytes[len++] = (unsigned char)(v >> 16);
        if (p[i + 2] != '=')
            bytes[len++] = (unsigned char)(v >> 8);
        if (p[i + 3] != '=')
            bytes[len++] = (unsigned char)v;
    }
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    int ok = png_image_begin_read_from_memory(&pi, bytes, len);
    if (ok) {
        pi.format = PNG_FORMAT_RGB;
        im->w = (int)pi.width;
        im->h = (int)pi.height;
        im->rgb = malloc(PNG_IMAGE_SIZE(pi));
        ok = im->rgb && png_image_finish_read(&pi, NULL, im->rgb, 0, NULL);
    }
    free(bytes);
    return ok;
}

static int near(const unsigned char *p, int r, int g, int b)
{
    return abs(p[0] - r) <= 1 && abs(p[1] - g) <= 1 && abs(p[2] - b) <= 1;
}

static const unsigned char *px(const image *im, int x, int y)
{
    return im->rgb + ((size_t)y * im->w + x) * 3;
}

/* The attribute value after `key="` at or after p, as a number. */
static double attr(const char *p, const char *key)
{
    char k[32];
    snprintf(k, sizeof k, "%s=\"", key);
    const char *q = strstr(p, k);
    return q ? strtod(q + strlen(k), NULL) : NAN;
}

static ss_html gallery;

static void test_heatmap_cells(void)
{
    double m[16] = {1.0,  0,    0,   0,
                    1e-4, 1e-2, 0,   0,
                    NAN,  1e-6, 1.0, 0,
                    1e-2, 1e-2, 1e-2, 1e-2};
    const char *names[4] = {"a", "b", "c", "d"};
    ss_fig_heatmap_opts o = {"Causal <map> & co", {"key", names, 0, 0}, {"query", NULL, 0, 4},
                             "attention", {1, 1e-4, 1.0, 0, 1}};
    ss_text t = {0};
    ss_error err = {0};
    CHECK(ss_fig_heatmap(&t, m, 4, 4, &o, &err) == SS_OK);
    CHECK(strstr(t.p, "Causal &lt;map&gt; &amp; co") != NULL);
    CHECK(strstr(t.p, "<map>") == NULL);
    image im = {0};
    CHECK(embedded_png(t.p, &im));
    int c = SS_FIG_TARGET_SIDE / 4; /* square cells */
    CHECK(im.w == 4 * c && im.h == 4 * c);
#define CELL(i, j) px(&im, (j) * c + c / 2, (i) * c + c / 2)
    CHECK(near(CELL(0, 0), 253, 231, 37));
    CHECK(near(CELL(1, 0), 68, 1, 84));
    CHECK(near(CELL(1, 1), 33, 145, 140));
    CHECK(near(CELL(2, 0), 200, 200, 200));  /* NaN */
    CHECK(near(CELL(0, 3), 255, 255, 255)); /* above the diagonal */
    free(im.rgb);
    /* named x ticks, numeric y ticks, the colour bar's decades */
    CHECK(strstr(t.p, ">a</text>") && strstr(t.p, ">d</text>"));
    CHECK(strstr(t.p, ">0.0001</text>") && strstr(t.p, ">1</text>"));
    CHECK(strstr(t.p, ">attention</text>") != NULL);
    ss_html_figure(&gallery, &t, "a causal 4 x 4 map on a log scale, named columns");
    ss_text_free(&t);
}

static void test_heatmap_narrow_and_long(void)
{
    /* an InP-like map: 1000 positions x 4 frequencies */
    int R = 1000, C = 4;
    double *m = malloc(sizeof(double) * R * C);
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++)
            m[i * C + j] = (double)i; /* constant along a row */
    const char *names[4] = {"1", "2", "3", "4"};
    ss_fig_heatmap_opts o = {"InP", {"frequency l", names, 0, 0}, {"position", NULL, 0, R},
                             "InP", {0, 0, 0, 0, 0}};
    ss_text t = {0};
    ss_error err = {0};
    CHECK(ss_fig_heatmap(&t, m, R, C, &o, &err) == SS_OK);
    image im = {0};
    CHECK(embedded_png(t.p, &im));
    CHECK(im.w >= SS_FIG_MIN_SIDE); /* not 4 px wide */
    CHECK(im.h <= SS_FIG_MAX_SIDE);
    /* 1000 rows in blocks of 3: 334 rows, the last one a single row (999) */
    CHECK(strstr(t.p, "blocks of 3 x 1") != NULL);
    CHECK(im.h == 334 * (im.h / 334));
    /* the top block is the mean of rows 0..2 = 1; range from data 1..999:
     * bottom colour; the last block (999) is the top colour */
    CHECK(near(px(&im, 1, 0), 68, 1, 84));
    CHECK(near(px(&im, 1, im.h - 1), 253, 231, 37));
    /* y ticks every 200 positions: 400 sits 0.4 of the way down the map */
    const char *tick = strstr(t.p, ">400</text>");
    CHECK(tick != NULL);
    if (!tick)
        tick = t.p;
    double top = attr(strstr(t.p, "<image"), "y"), h = attr(strstr(t.p, "<image"), "height");
    const char *line = tick;
    while (line > t.p && strncmp(line, "<line", 5))
        line--;
    CHECK_NEAR(attr(line, "y1"), top + 0.4 * h, 0.01);
    free(im.rgb);
    ss_html_figure(&gallery, &t, "a 1000 x 4 map: wide columns, rows averaged in blocks of 3");
    ss_text_free(&t);
    free(m);
}

static void test_lines_many(void)
{
    enum { S = 25, N = 20 };
    static double y[S][N];
    ss_series s[S];
    static char names[S][16];
    for (int k = 0; k < S; k++) {
        for (int i = 0; i < N; i++)
            y[k][i] = k + 0.1 * i;
        snprintf(names[k], sizeof names[k], "L%dH%d", k / 8, k % 8);
        s[k] = (ss_series){names[k], NULL, y[k], N};
    }
    ss_plot_opts o = {"25 series", "x", "y", 0};
    ss_text t = {0};
    ss_error err = {0};
    CHECK(ss_fig_lines(&t, s, S, &o, &err) == SS_OK);
    CHECK(count(t.p, "font-size=\"9\"") == S); /* direct labels, no legend */
    CHECK(count(t.p, "<polyline") == S);
    ss_html_figure(&gallery, &t, "25 series: labelled at their ends");
    ss_text_free(&t);
    /* 20 series: a legend with 10 solid and 10 dashed lines */
    CHECK(ss_fig_lines(&t, s, 20, &o, &err) == SS_OK);
    CHECK(count(t.p, "stroke-dasharray=\"6 3\"") == 2 * 10); /* line + legend entry */
    CHECK(count(t.p, "font-size=\"9\"") == 0);
    ss_html_figure(&gallery, &t, "20 series: ten hues, solid then dashed");
    ss_text_free(&t);
}

static void test_box_and_bars(void)
{
    double pts[5] = {0.5, 0.9, 1.0, 1.1, 1.6};
    ss_fig_box b[2] = {{"text", 0.5, 0.9, 1.0, 1.1, 1.6, pts, 5},
                       {"noise", 0.2, 0.4, 0.6, 0.8, 1.0, NULL, 0}};
    ss_fig_box_opts bo = {"OOD / ID", "regime", "ratio", 1.0};
    ss_text t = {0};
    ss_error err = {0};
    CHECK(ss_fig_boxplot(&t, b, 2, &bo, &err) == SS_OK);
    CHECK(count(t.p, "fill-opacity=\"0.35\"") == 2);
    CHECK(count(t.p, "<circle") == 5);
    CHECK(count(t.p, "stroke-dasharray=\"5 3\"") == 1);
    /* box 0: q1 0.9 .. q3 1.1 -> its height is 0.2 / 0.1 of the 1.0 - 0.9 gap */
    const char *box = strstr(t.p, "fill-opacity=\"0.35\"");
    while (strncmp(box, "<rect", 5))
        box--;
    double bh = attr(box, "height");
    CHECK(bh > 0);
    ss_html_figure(&gallery, &t, "box plot with dots and a reference line at 1");
    ss_text_free(&t);

    const char *cats[3] = {"r1(Q)", "r1(K)", "r1(H)"}, *ser[2] = {"SDHs", "all heads"};
    double v[6] = {0.9, 0.97, 0.4, 0.5, 0.6, NAN}, lo[6] = {0.85, 0.95, 0.3, 0.4, 0.5, NAN},
           hi[6] = {0.95, 0.99, 0.5, 0.6, 0.7, NAN};
    ss_fig_bars bars = {"SDHs vs all", "", "energy share", 3, 2, cats, ser, v, lo, hi, NULL, 0};
    CHECK(ss_fig_barchart(&t, &bars, &err) == SS_OK);
    CHECK(count(t.p, "<title>r1") == 5); /* the NaN bar is left out */
    CHECK(count(t.p, "<path") == 5);
    ss_html_figure(&gallery, &t, "grouped bars with error bars; a missing value has no bar");
    ss_text_free(&t);
    /* a reference line below every bar: the axis reaches down to it, and
     * the legend names it */
    ss_fig_bars ref = bars;
    ref.lo = ref.hi = NULL;
    ref.ref_label = "a <line>";
    ref.ref = -0.3;
    CHECK(ss_fig_barchart(&t, &ref, &err) == SS_OK);
    CHECK(count(t.p, "stroke-dasharray=\"5 3\"") == 2); /* the line and its legend entry */
    CHECK(strstr(t.p, "a &lt;line&gt;") != NULL);
    CHECK(strstr(t.p, "end\">-0.") != NULL); /* a tick label below 0 */
    ss_html_figure(&gallery, &t, "grouped bars with a dashed reference line at -0.3");
    ss_text_free(&t);
    ss_fig_bars none = bars;
    none.n_series = 0;
    CHECK(ss_fig_barchart(&t, &none, &err) == SS_ERR_USAGE);
    ss_text_free(&t);
}

static void test_scatter(void)
{
    double x[3] = {0.0, 1.0, 0.5}, y[3] = {0.0, 1.0, NAN}, x2[1] = {0.25}, y2[1] = {0.5};
    const char *lab[3] = {"L1H3", "a<b", NULL};
    ss_fig_points p[2] = {{"SDH", x, y, lab, 3}, {"control", x2, y2, NULL, 1}};
    ss_fig_scatter_opts o = {"loss change", "slash score", "nats/token", 0.0};
    ss_text t = {0};
    ss_error err = {0};
    CHECK(ss_fig_scatter(&t, p, 2, &o, &err) == SS_OK);
    CHECK(count(t.p, "<circle") == 3);              /* the NaN point is left out */
    CHECK(count(t.p, "stroke-dasharray=\"5 3\"") == 1); /* the reference line at 0 */
    CHECK(strstr(t.p, ">a&lt;b</text>") != NULL);
    /* (0, 0) is left of and below (1, 1); (0.25, 0.5) between them */
    const char *c0 = strstr(t.p, "<circle"), *c1 = strstr(c0 + 1, "<circle");
    const char *c2 = strstr(c1 + 1, "<circle");
    CHECK(attr(c0, "cx") < attr(c2, "cx") && attr(c2, "cx") < attr(c1, "cx"));
    CHECK(attr(c0, "cy") > attr(c2, "cy") && attr(c2, "cy") > attr(c1, "cy"));
    /* equal steps in value are equal steps in pixels */
    double dx = (attr(c1, "cx") - attr(c0, "cx")) / 4, dy = (attr(c0, "cy") - attr(c1, "cy")) / 2;
    CHECK(fabs(attr(c2, "cx") - attr(c0, "cx") - dx) < 0.02);
    CHECK(fabs(attr(c0, "cy") - attr(c2, "cy") - dy) < 0.02);
    ss_html_figure(&gallery, &t, "scatter plot with two series, labels and a reference line");
    ss_text_free(&t);
    CHECK(ss_fig_scatter(&t, p, 0, &o, &err) == SS_ERR_USAGE);
    ss_text_free(&t);
}

static void test_html_table(void)
{
    const char *hd[3] = {"head", "score", "n"};
    const double vals[3] = {0.1 + 0.2, 1.0 / 3.0, NAN};
    ss_html h = {0};
    ss_html_begin(&h, "t");
    ss_html_table_begin(&h, "tab", "scores <exact>", hd, 3);
    for (int i = 0; i < 3; i++) {
        ss_html_row_begin(&h);
        ss_html_cell(&h, "L0H1 & <x>");
        ss_html_cell_num(&h, vals[i], 3);
        ss_html_cell_int(&h, i);
        ss_html_row_end(&h);
    }
    ss_html_table_end(&h);
    const char *p = h.t.p;
    for (int i = 0; i < 2; i++) {
        p = strstr(p, "<td class=\"num\" data-value=\"") + strlen("<td class=\"num\" data-value=\"");
        CHECK(strtod(p, NULL) == vals[i]); /* exact */
        p = strstr(p, "data-value=\"") + 12; /* the row's count */
        CHECK(strtol(p, NULL, 10) == i);
    }
    CHECK(strstr(h.t.p, "L0H1 &amp; &lt;x&gt;") != NULL);
    CHECK(strstr(h.t.p, "data-value=\"nan\"") != NULL);
    CHECK(strstr(h.t.p, ">0.333</td>") != NULL);
    ss_html_free(&h);
}

static void write_gallery(void)
{
    ss_error err = {0};
    const char *path = ss_test_path("%s/gallery.html", ss_test_tmp());
    CHECK(ss_html_write(&gallery, path, &err) == SS_OK);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f)
        fclose(f);
}

static void test_gallery(void)
{
    ss_html_begin(&gallery, "slashscope figure gallery");
    ss_html_para(&gallery, "Every figure kind the report uses, written by tests/test_figure.c.");
    test_heatmap_cells();
    test_heatmap_narrow_and_long();
    test_lines_many();
    test_box_and_bars();
    test_scatter();
    write_gallery();
}

TEST_MAIN(TEST(test_gallery), TEST(test_html_table))
