/* Self-contained HTML5 reports: one file with its style sheet and every
 * figure inline (SVG, rasters as data: URIs), no script, no network, so it
 * opens offline, prints, and survives being mailed around. All text is
 * escaped; numbers in tables carry their full value in data-value so a
 * reader (or a test) can take them back exactly. */
#ifndef SS_REPORT_HTML_H
#define SS_REPORT_HTML_H

#include "common/error.h"
#include "report/textbuf.h"

typedef struct {
    ss_text t;
    int figures, tables; /* numbering */
    int cells;           /* cells in the open row */
} ss_html;

/* <!DOCTYPE html> ... <body><h1>title</h1>. */
void ss_html_begin(ss_html *h, const char *title);
/* <h2>/<h3> with an id for links (id may be NULL). */
void ss_html_heading(ss_html *h, int level, const char *id, const char *text);
/* A paragraph of printf-formatted, escaped text. */
void ss_html_para(ss_html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A verdict call-out: holds 1 (green), 0 (red), -1 (partly / not decided). */
void ss_html_verdict(ss_html *h, int holds, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A numbered <figure> holding the SVG document svg and its caption. */
void ss_html_figure(ss_html *h, const ss_text *svg, const char *caption);
/* Figures side by side until ss_html_row_of_figures_end. */
void ss_html_figures_begin(ss_html *h);
void ss_html_figures_end(ss_html *h);

/* A numbered table: begin with its caption and column headers, then rows
 * of cells. id (may be NULL) names the table for readers. */
void ss_html_table_begin(ss_html *h, const char *id, const char *caption,
                         const char *const *headers, int n_headers);
void ss_html_row_begin(ss_html *h);
void ss_html_cell(ss_html *h, const char *text);
/* A number shown with `digits` significant digits (NaN shows as a dash),
 * its exact value in data-value. */
void ss_html_cell_num(ss_html *h, double v, int digits);
void ss_html_cell_int(ss_html *h, long long v);
/* A mean over `of` rows (heads, SDH offsets: `what`) of which `undefined`
 * had no value and were left out: the number as ss_html_cell_num, and when
 * any was left out, a note after it, "0.83 (7 of 9 heads; 2 undefined)", in
 * a <span> (so the cell's own text stays the number). */
void ss_html_cell_mean(ss_html *h, double v, int digits, int of, int undefined,
                       const char *what);
void ss_html_row_end(ss_html *h);
void ss_html_table_end(ss_html *h);

/* Raw, already valid HTML (for the few places that build their own). */
void ss_html_raw(ss_html *h, const char *html);

/* Closes the document and writes it atomically; frees h either way. */
ss_code ss_html_write(ss_html *h, const char *path, ss_error *err);
void ss_html_free(ss_html *h);

#endif
