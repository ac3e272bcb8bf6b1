/* RGB PNG encoding into memory, one row at a time (memory stays O(width)):
 * the heatmap files and the rasters embedded in SVG figures share it. */
#ifndef SS_REPORT_PNG_ENCODE_H
#define SS_REPORT_PNG_ENCODE_H

#include "common/error.h"
#include "report/textbuf.h"

/* Fills row y (w RGB triples). */
typedef void (*ss_png_row_fn)(void *ctx, int y, unsigned char *rgb);

/* Appends the PNG bytes to out; desc (may be NULL) becomes its
 * Description text chunk. what names the figure in messages. */
ss_code ss_png_encode(ss_text *out, int w, int h, ss_png_row_fn row, void *ctx, const char *desc,
                      const char *what, ss_error *err);

#endif
