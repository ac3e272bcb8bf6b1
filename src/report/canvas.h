/* An RGB raster for small annotated figures (per-head heat maps): filled
 * rectangles, discs, text in a built-in 5x7 pixel font, written as PNG.
 * For figures of at most a few megapixels; the attention-map heat maps
 * (report/heatmap.h) stream their rows instead. */
#ifndef SS_REPORT_CANVAS_H
#define SS_REPORT_CANVAS_H

#include "common/error.h"

typedef struct {
    int w, h;
    unsigned char *px; /* [h][w][3] */
} ss_canvas;

/* A white canvas; at most 8192 x 8192. */
ss_code ss_canvas_init(ss_canvas *c, int w, int h, ss_error *err);
void ss_canvas_free(ss_canvas *c);

/* Clipped to the canvas. */
void ss_canvas_rect(ss_canvas *c, int x, int y, int w, int h, const unsigned char rgb[3]);
void ss_canvas_disc(ss_canvas *c, double cx, double cy, double r, const unsigned char rgb[3]);

/* Text with its top-left corner at (x, y), each font pixel `scale` pixels
 * wide. Letters print as capitals; a character the font lacks prints as
 * '?'; '@' is a filled dot (for legends). */
void ss_canvas_text(ss_canvas *c, int x, int y, const char *s, int scale,
                    const unsigned char rgb[3]);
/* The same text drawn bottom to top (a vertical axis label). */
void ss_canvas_text_up(ss_canvas *c, int x, int y, const char *s, int scale,
                       const unsigned char rgb[3]);
/* Width and height of text in pixels (6 and 7 per character at scale 1). */
int ss_text_width(const char *s, int scale);
int ss_text_height(int scale);

/* Written atomically; description goes into the PNG's tEXt chunk. */
ss_code ss_canvas_write_png(const ss_canvas *c, const char *path, const char *description,
                            ss_error *err);

#endif
