#include "report/html.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Screen and print: figures scale down to the page, never split. */
static const char STYLE[] =
    "body{font-family:sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;"
    "color:#222;line-height:1.45}\n"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ccc}\n"
    "figure{margin:1em 0;display:table;max-width:100%;break-inside:avoid}\n"
    "figure svg{max-width:100%;height:auto;border:1px solid #eee}\n"
    "figcaption{display:table-caption;caption-side:bottom;font-size:.9em;color:#444;"
    "padding-top:.3em}\n"
    ".figs{display:flex;flex-wrap:wrap;gap:1em}\n"
    "table{border-collapse:collapse;margin:.8em 0;font-size:.9em;break-inside:avoid}\n"
    "caption{text-align:left;font-weight:bold;padding:.3em 0}\n"
    "th,td{border:1px solid #ccc;padding:.2em .5em}th{background:#f3f3f3}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".undef{display:block;color:#a05a00;font-size:.8em}\n"
    ".verdict{padding:.5em .8em;border-left:5px solid #888;background:#f6f6f6;margin:.8em 0}\n"
    ".verdict.yes{border-color:#2ca02c;background:#eef8ee}"
    ".verdict.no{border-color:#d62728;background:#fbeeee}\n"
    "@media print{body{max-width:none}h2{break-after:avoid}}\n";

void ss_html_begin(ss_html *h, const char *title)
{
    ss_text_put(&h->t, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                       "<meta name=\"generator\" content=\"slashscope\">\n<title>");
    ss_text_escape(&h->t, title);
    ss_text_printf(&h->t, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", STYLE);
    ss_text_escape(&h->t, title);
    ss_text_put(&h->t, "</h1>\n");
}

void ss_html_heading(ss_html *h, int level, const char *id, const char *text)
{
    level = level < 2 ? 2 : level > 4 ? 4 : level;
    ss_text_printf(&h->t, "<h%d", level);
    if (id) {
        ss_text_put(&h->t, " id=\"");
        ss_text_escape(&h->t, id);
        ss_text_put(&h->t, "\"");
    }
    ss_text_put(&h->t, ">");
    ss_text_escape(&h->t, text);
    ss_text_printf(&h->t, "</h%d>\n", level);
}

static void vpara(ss_html *h, const char *open, const char *fmt, va_list ap)
{
    char *buf = NULL;
    if (vasprintf(&buf, fmt, ap) < 0) {
        h->t.oom = 1;
        return;
    }
    ss_text_put(&h->t, open);
    ss_text_escape(&h->t, buf);
    ss_text_put(&h->t, "</p>\n");
    free(buf);
}

void ss_html_para(ss_html *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpara(h, "<p>", fmt, ap);
    va_end(ap);
}

void ss_html_verdict(ss_html *h, int holds, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpara(h, holds == 1 ? "<p class=\"verdict yes\">" : holds == 0 ? "<p class=\"verdict no\">"
                                                                    : "<p class=\"verdict\">",
          fmt, ap);
    va_end(ap);
}

void ss_html_figure(ss_html *h, const ss_text *svg, const char *caption)
{
    h->figures++;
    ss_text_printf(&h->t, "<figure id=\"figure-%d\">\n", h->figures);
    if (svg->p)
        ss_text_putn(&h->t, svg->p, svg->len);
    if (svg->oom)
        h->t.oom = 1;
    ss_text_printf(&h->t, "<figcaption><b>Figure %d.</b> ", h->figures);
    ss_text_escape(&h->t, caption);
    ss_text_put(&h->t, "</figcaption>\n</figure>\n");
}

void ss_html_figures_begin(ss_html *h)
{
    ss_text_put(&h->t, "<div class=\"figs\">\n");
}

void ss_html_figures_end(ss_html *h)
{
    ss_text_put(&h->t, "</div>\n");
}

void ss_html_table_begin(ss_html *h, const char *id, const char *caption,
                         const char *const *headers, int n)
{
    h->tables++;
    ss_text_put(&h->t, "<table");
    if (id) {
        ss_text_put(&h->t, " id=\"");
        ss_text_escape(&h->t, id);
        ss_text_put(&h->t, "\"");
    }
    ss_text_printf(&h->t, ">\n<caption>Table %d. ", h->tables);
    ss_text_escape(&h->t, caption);
    ss_text_put(&h->t, "</caption>\n<thead><tr>");
    for (int i = 0; i < n; i++) {
        ss_text_put(&h->t, "<th>");
        ss_text_escape(&h->t, headers[i]);
        ss_text_put(&h->t, "</th>");
    }
    ss_text_put(&h->t, "</tr></thead>\n<tbody>\n");
}

void ss_html_row_begin(ss_html *h)
{
    ss_text_put(&h->t, "<tr>");
    h->cells = 0;
}

void ss_html_cell(ss_html *h, const char *text)
{
    ss_text_put(&h->t, "<td>");
    ss_text_escape(&h->t, text);
    ss_text_put(&h->t, "</td>");
    h->cells++;
}

/* A number cell's opening tag and its text (an en dash for NaN), the cell
 * left open for what ss_html_cell_mean adds: one place decides how a number
 * is shown and sorted. */
static void cell_num_open(ss_html *h, double v, int digits)
{
    if (isnan(v))
        ss_text_put(&h->t, "<td class=\"num\" data-value=\"nan\">&ndash;");
    else
        ss_text_printf(&h->t, "<td class=\"num\" data-value=\"%.17g\">%.*g", v,
                       digits < 1 ? 1 : digits, v);
}

void ss_html_cell_num(ss_html *h, double v, int digits)
{
    cell_num_open(h, v, digits);
    ss_text_put(&h->t, "</td>");
    h->cells++;
}

void ss_html_cell_mean(ss_html *h, double v, int digits, int of, int undefined,
                       const char *what)
{
    cell_num_open(h, v, digits);
    if (undefined > 0) {
        ss_text_printf(&h->t, "<span class=\"undef\"> (%d of %d ", of - undefined, of);
        ss_text_escape(&h->t, what);
        ss_text_printf(&h->t, "; %d undefined)</span>", undefined);
    }
    ss_text_put(&h->t, "</td>");
    h->cells++;
}

void ss_html_cell_int(ss_html *h, long long v)
{
    ss_text_printf(&h->t, "<td class=\"num\" data-value=\"%lld\">%lld</td>", v, v);
    h->cells++;
}

void ss_html_row_end(ss_html *h)
{
    ss_text_put(&h->t, "</tr>\n");
}

void ss_html_table_end(ss_html *h)
{
    ss_text_put(&h->t, "</tbody>\n</table>\n");
}

void ss_html_raw(ss_html *h, const char *html)
{
    ss_text_put(&h->t, html);
}

ss_code ss_html_write(ss_html *h, const char *path, ss_error *err)
{
    ss_text_put(&h->t, "</body>\n</html>\n");
    ss_code rc = ss_text_write(&h->t, path, err);
    ss_html_free(h);
    return rc;
}

void ss_html_free(ss_html *h)
{
    ss_text_free(&h->t);
    h->figures = h->tables = h->cells = 0;
}
