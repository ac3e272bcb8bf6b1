#include "common/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double ss_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ss_progress_start(ss_progress *p, int quiet, const char *what, int64_t total,
                       const char *unit)
{
    memset(p, 0, sizeof *p);
    p->enabled = !quiet && isatty(STDERR_FILENO);
    snprintf(p->what, sizeof p->what, "%s", what);
    p->unit = unit;
    p->total = total;
    p->start = ss_now_seconds();
}

static void format_seconds(double s, char *buf, size_t n)
{
    if (s < 0 || s > 1e7)
        snprintf(buf, n, "?");
    else if (s < 90)
        snprintf(buf, n, "%.0fs", s);
    else if (s < 5400)
        snprintf(buf, n, "%.0fm%02.0fs", s / 60 - 0.5, s - 60 * (int)(s / 60));
    else
        snprintf(buf, n, "%.1fh", s / 3600);
}

void ss_progress_update(ss_progress *p, int64_t done, const char *extra)
{
    if (!p->enabled)
        return;
    double now = ss_now_seconds();
    if (now - p->last_draw < 0.25 && done < p->total)
        return;
    p->last_draw = now;
    double elapsed = now - p->start;
    char left[32] = "?";
    if (done > 0 && p->total > 0)
        format_seconds(elapsed * (double)(p->total - done) / (double)done, left, sizeof left);
    fprintf(stderr, "\r\033[K%s: %lld/%lld %s, %.0fs elapsed, ~%s left%s%s", p->what,
            (long long)done, (long long)p->total, p->unit ? p->unit : "", elapsed, left,
            extra ? ", " : "", extra ? extra : "");
    fflush(stderr);
}

void ss_progress_end(ss_progress *p)
{
    if (p->enabled) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
}
