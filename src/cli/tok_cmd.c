#include "cli/tok_cmd.h"

#include <stdio.h>

#include "cli/commands.h"

int ss_tok_cmd_begin(const char *name, const char *usage, const ss_flag *flags, int argc,
                     char **argv, ss_args *a)
{
    ss_error err = {0};
    if (ss_args_parse(a, name, usage, flags, argc, argv, &err))
        return ss_cli_fail(name, &err);
    if (a->help) {
        fputs(usage, stdout);
        return 0;
    }
    if (a->n_positional != 1) {
        ss_fail(&err, SS_ERR_USAGE, "expected one MODEL argument (see --help)");
        return ss_cli_fail(name, &err);
    }
    return -1;
}

int ss_tok_cmd_end(const char *name, const char *what)
{
    if (fflush(stdout) == 0)
        return 0;
    ss_error err = {0};
    ss_fail(&err, SS_ERR_IO, "cannot write %s to standard output", what);
    return ss_cli_fail(name, &err);
}
