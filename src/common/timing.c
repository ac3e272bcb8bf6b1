#include "common/timing.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PHASES 64

typedef struct {
    const char *name;
    long marks;
    double wall, cpu;
} phase;

static int state = -1; /* -1 not read yet, 0 off, 1 on */
static phase phases[MAX_PHASES], counters[MAX_PHASES]; /* a counter's seconds in cpu */
static int n_phases, n_counters;
static double start_wall, last_wall, last_cpu;
/* the API lets any thread run a forward pass: marks from two at once must
 * not tear the phase table */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double clock_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void report(void)
{
    double wall = clock_of(CLOCK_MONOTONIC), cpu = clock_of(CLOCK_PROCESS_CPUTIME_ID);
    fprintf(stderr, "slashscope timings (SLASHSCOPE_TIMINGS): phase, marks, wall s, CPU s of "
                    "all threads, CPU/wall\n");
    const char *t0 = getenv("SLASHSCOPE_TIMINGS_T0");
    if (t0) /* set by the first process before it re-executed itself */
        fprintf(stderr, "  %-26s %7s %9.3f\n", "start-up, re-exec", "",
                start_wall - strtod(t0, NULL));
    for (int i = 0; i < n_phases; i++) {
        const phase *p = &phases[i];
        fprintf(stderr, "  %-26s %7ld %9.3f %9.3f %6.2f\n", p->name, p->marks, p->wall, p->cpu,
                p->wall > 0 ? p->cpu / p->wall : 0.0);
    }
    if (n_counters)
        fprintf(stderr, "  counters: name, additions, seconds\n");
    for (int i = 0; i < n_counters; i++)
        fprintf(stderr, "  %-26s %7ld %9.3f\n", counters[i].name, counters[i].marks,
                counters[i].cpu);
    fprintf(stderr, "  %-26s %7s %9.3f %9.3f\n", "after the last mark", "", wall - last_wall,
            cpu - last_cpu);
    /* the process CPU clock starts at exec: a re-exec resets it */
    fprintf(stderr, "  %-26s %7s %9.3f %9.3f %6.2f\n", "total (this process, main)", "",
            wall - start_wall, cpu, wall > start_wall ? cpu / (wall - start_wall) : 0.0);
}

static int enabled(void)
{
    if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) >= 0)
        return state;
    pthread_mutex_lock(&lock);
    if (state < 0) {
        const char *v = getenv("SLASHSCOPE_TIMINGS");
        int on = v && *v && strcmp(v, "0") != 0;
        if (on) {
            start_wall = last_wall = clock_of(CLOCK_MONOTONIC);
            last_cpu = clock_of(CLOCK_PROCESS_CPUTIME_ID);
            atexit(report);
        }
        __atomic_store_n(&state, on, __ATOMIC_RELEASE); /* after the clocks it publishes */
    }
    pthread_mutex_unlock(&lock);
    return state;
}

void ss_timing_start(void)
{
    if (!enabled() || getenv("SLASHSCOPE_TIMINGS_T0"))
        return;
    char buf[40];
    snprintf(buf, sizeof buf, "%.6f", start_wall);
    setenv("SLASHSCOPE_TIMINGS_T0", buf, 1);
}

/* The entry of name in table (of *count), added if there is room; -1 if not. */
static int entry(phase *table, int *count, const char *name)
{
    int i = 0;
    while (i < *count && table[i].name != name && strcmp(table[i].name, name) != 0)
        i++;
    if (i == *count && *count < MAX_PHASES)
        table[(*count)++].name = name;
    return i < *count ? i : -1;
}

int ss_timing_on(void) { return enabled(); }

double ss_timing_thread_cpu(void) { return clock_of(CLOCK_THREAD_CPUTIME_ID); }

void ss_timing_add(const char *name, double seconds)
{
    if (!enabled())
        return;
    pthread_mutex_lock(&lock);
    int i = entry(counters, &n_counters, name);
    if (i >= 0) {
        counters[i].marks++;
        counters[i].cpu += seconds;
    }
    pthread_mutex_unlock(&lock);
}

void ss_timing_mark(const char *name)
{
    if (!enabled())
        return;
    pthread_mutex_lock(&lock);
    double wall = clock_of(CLOCK_MONOTONIC), cpu = clock_of(CLOCK_PROCESS_CPUTIME_ID);
    int i = entry(phases, &n_phases, name);
    if (i >= 0) {
        phases[i].marks++;
        phases[i].wall += wall - last_wall;
        phases[i].cpu += cpu - last_cpu;
    }
    last_wall = wall;
    last_cpu = cpu;
    pthread_mutex_unlock(&lock);
}
