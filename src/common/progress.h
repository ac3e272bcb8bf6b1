/* A one-line progress report on stderr ("what: done/total, rate, time
 * left"), redrawn at most a few times a second, shown only when stderr is a
 * terminal and the user did not ask for --quiet. */
#ifndef SS_COMMON_PROGRESS_H
#define SS_COMMON_PROGRESS_H

#include <stdint.h>

typedef struct {
    int enabled;
    char what[96];
    const char *unit; /* what is counted, e.g. "prompts" */
    int64_t total;
    double start, last_draw;
} ss_progress;

/* enabled = !quiet && isatty(stderr). */
void ss_progress_start(ss_progress *p, int quiet, const char *what, int64_t total,
                       const char *unit);
/* done so far; extra (may be NULL) is appended, e.g. "812 tok/s". */
void ss_progress_update(ss_progress *p, int64_t done, const char *extra);
void ss_progress_end(ss_progress *p);

double ss_now_seconds(void); /* monotonic clock */

#endif
