/* The stages of `slashscope study`: each is one slashscope command (its
 * own entry point, called in the study's process with the command line a
 * user would type, so its folder is that command's), and is finished when
 * DIR/<stage>.stage.json exists. The marker and the child's
 * stdout (DIR/<stage>.stdout.txt) sit beside the stage's folder, since a
 * result folder may not gain files after its commit. A finished stage is
 * never rerun; an interrupted scan continues from its checkpoint in
 * DIR/<stage>.partial (scan --resume); any other interrupted stage starts
 * again (--force). */
#ifndef SS_CLI_STUDY_STAGE_H
#define SS_CLI_STUDY_STAGE_H

#include "common/error.h"

#define SS_STAGE_MAX_ARGS 40

typedef struct {
    const char *name;        /* "scan-id", "compare", ... */
    char dir[4096];          /* its folder */
    const char *stdout_file; /* the result is its stdout, in this file inside dir; NULL:
                              * dir.stdout.txt beside the folder */
    char *argv[SS_STAGE_MAX_ARGS + 1]; /* the slashscope command line, argv[0] = command */
    int argc;
    int resumable;           /* scan, rank, freq: --resume when a checkpoint exists */
    int out_folder;          /* writes its result folder with --out dir: reruns add --force */
    double seconds;          /* out: wall time of the run that finished it */
    int reused;              /* out: finished before this study started */
} ss_stage;

/* Appends a printf-formatted argument (kept in a static pool per stage). */
void ss_stage_arg(ss_stage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ss_stage_free(ss_stage *s);

int ss_stage_done(const ss_stage *s);
/* Runs the stage unless it is done (then reads its recorded wall time).
 * quiet: the command gets --quiet. Under mpirun scan, rank and freq run on
 * every rank (their own distribution, rank 0 writing), the others on rank
 * 0, and every rank returns rank 0's outcome. */
ss_code ss_stage_run(ss_stage *s, int quiet, ss_error *err);
/* Under mpirun: rank 0's rc reaches every rank (an error there when rank 0
 * failed); after a step rank 0 alone takes. Returns rc as is in a plain
 * run. */
ss_code ss_stage_agree(ss_code rc, ss_error *err);
/* The n stages in order; the first failure ends the run with its error. */
ss_code ss_stages_run(ss_stage *const *s, int n, int quiet, ss_error *err);

#endif
