/* Per-phase wall and CPU time, for finding where a run spends its time
 * (docs/benchmarks.md). Off unless SLASHSCOPE_TIMINGS=1 is set: then every
 * phase's marks, wall seconds, CPU seconds of the whole process (all
 * threads) and their ratio (how many cores the phase kept busy) are printed
 * on stderr when the process exits.
 *
 * A mark ends a phase: ss_timing_mark("x") adds the time since the previous
 * mark (of any phase; the first counts from ss_timing_start) to phase x, so
 * marks chain across modules and the phases add up to the whole run. Marks
 * are for the main thread, outside parallel regions, one pass at a time.
 * Disabled, a mark costs one load and a branch. */
#ifndef SS_COMMON_TIMING_H
#define SS_COMMON_TIMING_H

/* At the start of main. When timings are on, also notes the time in the
 * environment so that a process that re-executes itself reports what the
 * start-up took. */
void ss_timing_start(void);

/* Ends a phase named by a string literal (kept, not copied). */
void ss_timing_mark(const char *phase);

/* Whether timings are on (then ss_timing_thread_cpu is worth calling). */
int ss_timing_on(void);

/* CPU seconds of the calling thread. */
double ss_timing_thread_cpu(void);

/* Adds seconds to a counter named by a string literal, printed after the
 * phases: for what a phase's totals cannot show, such as the CPU time one
 * thread of a parallel region spent waiting for another's work (busy
 * timers per thread; docs/benchmarks.md). Any thread. */
void ss_timing_add(const char *counter, double seconds);

#endif
