/* Command-line parsing shared by every subcommand: flags are declared up
 * front, anything undeclared is an error, and the global flags (--threads,
 * --quiet, --help) are handled here. */
#ifndef SS_CLI_ARGS_H
#define SS_CLI_ARGS_H

#include <stdint.h>

#include "common/error.h"

typedef struct {
    const char *name;  /* "--out" */
    int takes_value;   /* 0: none, 1: one value (the last given wins), 2: repeatable */
} ss_flag;

#define SS_ARGS_MAX 64
#define SS_ARGS_MAX_REPEAT 64

typedef struct {
    const char *cmd;
    const char *usage;
    const char *values[SS_ARGS_MAX];  /* per declared flag: value, or "" if given without one */
    const ss_flag *flags;
    int n_flags;
    const char *positional[16];
    int n_positional;
    const char *repeated[SS_ARGS_MAX_REPEAT]; /* values of repeatable flags, in order */
    int repeated_flag[SS_ARGS_MAX_REPEAT];    /* their flag's index */
    int n_repeated;
    int threads;
    int quiet;
    int help;
} ss_args;

/* Parses argv (argv[0] is the subcommand). Global flags are always
 * accepted. Returns SS_ERR_USAGE on an unknown flag or a missing value. */
ss_code ss_args_parse(ss_args *a, const char *cmd, const char *usage, const ss_flag *flags,
                      int argc, char **argv, ss_error *err);

const char *ss_args_get(const ss_args *a, const char *name); /* NULL if absent */
/* The values of a repeatable flag (takes_value 2), in command-line order:
 * up to cap into out; returns how many were given. */
int ss_args_all(const ss_args *a, const char *name, const char **out, int cap);
int ss_args_has(const ss_args *a, const char *name);
ss_code ss_args_int(const ss_args *a, const char *name, long long def, long long min,
                    long long max, long long *out, ss_error *err);
ss_code ss_args_double(const ss_args *a, const char *name, double def, double min, double max,
                       double *out, ss_error *err);
/* The value of a required flag, or an SS_ERR_USAGE naming it. */
ss_code ss_args_require(const ss_args *a, const char *name, const char **out, ss_error *err);

/* --out, required, checked at the start instead of at the end of a long
 * run: the nearest existing folder above it must be writable (a file is
 * written beside its name and renamed, a result folder created or renamed
 * into place there) and so must an existing output folder itself; a file
 * needs its folder to exist.
 * Checked by creating and removing a probe file (access() says yes to root
 * on a read-only file system). Nothing is left behind. */
ss_code ss_args_out(const ss_args *a, int is_dir, const char **out, ss_error *err);

/* Token ids from --ids "1 2 3" or --ids-file F, which must hold one sequence
 * (one non-blank line: a file of several is refused, never cut to its first). */
ss_code ss_args_ids(const ss_args *a, int32_t **ids, int *n, ss_error *err);
/* Parses whitespace-separated ids; names `where` in errors. */
ss_code ss_parse_ids(const char *s, const char *where, int32_t **ids, int *n, ss_error *err);

/* Prints "slashscope CMD: message" and returns the exit status for err. */
int ss_cli_fail(const char *cmd, const ss_error *err);

#endif
