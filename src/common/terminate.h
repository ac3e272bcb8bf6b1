/* A request to terminate (SIGTERM: Slurm's time limit or scancel, kill)
 * that the long commands honour at the next prompt boundary instead of
 * dying mid-way: the handler only sets a flag; the prompt loops read it
 * after each prompt, save a checkpoint of everything finished and stop
 * (docs/cluster.md). Installed by the CLI for the commands that read it
 * (scan, rank, freq, study); every other command keeps SIGTERM's default. */
#ifndef SS_COMMON_TERMINATE_H
#define SS_COMMON_TERMINATE_H

/* Installs the SIGTERM handler (sigaction; system calls restart). */
void ss_terminate_catch(void);
/* Whether SIGTERM arrived since ss_terminate_catch. Async-signal-safe. */
int ss_terminate_requested(void);

#endif
