/* The HTML report of the demo's experiment: the same theory-lab run with
 * two frequency sets, its training trajectories, layer-1 attention maps
 * with axes, the frequency condition and the verdict, in the report style
 * that `study` uses for real models (report/html.h). */
#ifndef SS_THEORY_LAB_REPORT_H
#define SS_THEORY_LAB_REPORT_H

#include "analysis/sdh.h"
#include "common/error.h"
#include "theory/lab.h"

typedef struct {
    const char *title;  /* "Frequencies that satisfy ..." */
    const char *why;    /* one sentence on the set */
    const char *folder; /* where its files are, relative to the report */
    const ss_lab_config *cfg;
    const ss_lab_result *res;
    const double *slash; /* average slash score of layer 1 at offsets 0..n_slash-1 */
    int n_slash, skip;
    const ss_sdh *sdh;   /* scan's SDH test on layer 1 */
    int n_sdh;
} ss_lab_report_run;

/* Writes path atomically. runs[0] is expected to satisfy the condition and
 * runs[1] to violate it; the verdict says whether the outcome matched. */
ss_code ss_lab_report_write(const char *path, const ss_lab_report_run *runs, int n,
                            double seconds, ss_error *err);

#endif
