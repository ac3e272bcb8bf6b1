#include "cli/dist_cli.h"

#include "cli/args.h"

ss_dist ss_cli_dist = {.rank = 0, .size = 1, .current = -1};

int ss_cli_dist_status(const char *cmd, ss_error *err)
{
    if (!err->code || (err->code == SS_STOP && ss_cli_dist.rank > 0))
        return 0;
    ss_dist_name_failure(&ss_cli_dist, err);
    int status = ss_cli_fail(cmd, err);
    ss_dist_abort(&ss_cli_dist, status);
    return status;
}
