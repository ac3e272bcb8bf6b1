#include "cli/dist_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

ss_dist ss_cli_dist = {.rank = 0, .size = 1, .current = -1};
static int dist_on;

int ss_cli_dist_on(void)
{
    return dist_on;
}

/* argv joined by spaces, without the flags that may differ on a resume. */
static char *settings_of(int argc, char **argv, ss_error *err)
{
    size_t cap = 1;
    for (int i = 0; i < argc; i++)
        cap += strlen(argv[i]) + 1;
    char *s = ss_calloc(cap, 1, "command line", err);
    if (!s)
        return NULL;
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--resume") || !strcmp(f, "--quiet"))
            continue;
        if (!strcmp(f, "--threads") || !strcmp(f, "--checkpoint-every")) {
            i++;
            continue;
        }
        if (!strncmp(f, "--threads=", 10) || !strncmp(f, "--checkpoint-every=", 19))
            continue;
        if (s[0])
            strcat(s, " ");
        strcat(s, f);
    }
    return s;
}

ss_code ss_cli_dist_setup(const ss_args *a, int argc, char **argv, const char *out, int *on,
                          ss_error *err)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/checkpoint-mpi", out);
    *on = dist_on = ss_cli_dist.mpi || ss_dist_has_checkpoints(dir);
    if (!dist_on)
        return SS_OK;
    long long every;
    ss_code rc = ss_args_int(a, "--checkpoint-every", 8, 1, 1 << 30, &every, err);
    char *settings = rc ? NULL : settings_of(argc, argv, err);
    if (!rc && !settings)
        rc = SS_ERR_NOMEM;
    if (!rc)
        rc = ss_dist_checkpoints(&ss_cli_dist, dir, settings, ss_args_has(a, "--resume"),
                                 (int)every, err);
    free(settings);
    return rc;
}

int ss_cli_dist_status(const char *cmd, ss_error *err)
{
    if (!err->code) {
        if (dist_on && ss_cli_dist.rank == 0)
            ss_dist_remove_checkpoints(&ss_cli_dist);
        return 0;
    }
    if (err->code == SS_STOP && ss_cli_dist.rank > 0)
        return 0;
    ss_dist_name_failure(&ss_cli_dist, err);
    int status = ss_cli_fail(cmd, err);
    ss_dist_abort(&ss_cli_dist, status);
    return status;
}
