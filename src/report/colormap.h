/* Colours shared by every figure: viridis for values (perceptually uniform,
 * readable in grey and by colour-blind readers) and a series palette that
 * keeps up to 20 lines apart (tab10's ten hues, then the same hues dashed);
 * beyond 20, figures label each series directly. */
#ifndef SS_REPORT_COLORMAP_H
#define SS_REPORT_COLORMAP_H

#define SS_DISTINCT_SERIES 20

/* t in [0, 1] (clipped) to viridis, binned as matplotlib does (256 bins). */
void ss_viridis(double t, unsigned char rgb[3]);

/* Series k's colour ("#rrggbb") and SVG dash pattern ("" for solid). */
const char *ss_series_colour(int k);
const char *ss_series_dash(int k);

#endif
