#include "cli/dist_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/terminate.h"

ss_dist ss_cli_dist = {.rank = 0, .size = 1, .current = -1};
static int dist_on;
static char work_folder[4096]; /* --out's OUT.partial, for the SIGTERM message */

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

ss_code ss_cli_dist_setup(ss_folder *f, const ss_args *a, int argc, char **argv,
                          const char *marker, int *on, ss_error *err)
{
    *on = dist_on = 0;
    const char *out = ss_args_get(a, "--out");
    ss_code rc = ss_folder_name(f, out, "--out", err);
    if (rc)
        return rc;
    snprintf(work_folder, sizeof work_folder, "%s", f->work);
    *on = dist_on = ss_cli_dist.mpi || ss_dist_has_checkpoints(f->work);
    if (!dist_on)
        return SS_OK;
    long long every;
    if ((rc = ss_args_int(a, "--checkpoint-every", 8, 1, 1 << 30, &every, err)))
        return rc;
    int resume = ss_args_has(a, "--resume");
    /* rank 0 holds the transaction (and its lock) for the whole run; the
     * others write their checkpoints into it once the start's broadcast
     * says it is there */
    ss_folder_opts o = {.force = ss_args_has(a, "--force"), .resume = resume, .marker = marker};
    if (ss_cli_dist.rank == 0 && (rc = ss_folder_begin(f, out, &o, err)))
        return rc;
    char *settings = settings_of(argc, argv, err);
    if (!settings)
        rc = SS_ERR_NOMEM;
    else
        rc = ss_dist_checkpoints(&ss_cli_dist, f->work, settings, resume, (int)every, err);
    free(settings);
    if (rc)
        ss_folder_abort(f);
    return rc;
}

ss_code ss_cli_dist_end(ss_folder *f, ss_error *err)
{
    /* a run that ended well (rank 0's result, the others' states sent) or
     * stopped on request: every rank gets here, and rank 0 commits or
     * aborts the folder only once every rank's last save is in (an abort
     * removes the temporary files of a save under way). A failure ends
     * the job by MPI_Abort instead; no rank waits for it. */
    if (!err->code || err->code == SS_STOP)
        ss_dist_barrier(&ss_cli_dist);
    if (ss_cli_dist.rank > 0)
        return err->code; /* rank 0 commits or aborts */
    if (!err->code)
        ss_folder_commit(f, err);
    if (err->code)
        ss_folder_abort(f);
    return err->code;
}

/* A run stopped by SIGTERM after its checkpoint: one line from rank 0 and
 * exit 1 on every rank, without MPI_Abort (every rank has saved; they meet
 * in ss_cli_dist_end and ss_dist_end). */
static int stopped_status(const char *cmd, const ss_error *err)
{
    if (ss_cli_dist.rank > 0)
        return 1;
    if (ss_cli_dist.terminated)
        fprintf(stderr, "slashscope %s: stopped by SIGTERM%s after the prompts under way, "
                "the finished ones saved in the checkpoints of %s; run the same command "
                "with --resume to continue (any number of ranks)\n", cmd,
                ss_cli_dist.size > 1 ? " (on this or another rank)" : "", ss_cli_dist.dir);
    else if (!strcmp(cmd, "scan"))
        fprintf(stderr, "slashscope scan: stopped by SIGTERM after the prompt under way, every "
                "finished prompt saved in the checkpoint of %s; run the same command with "
                "--resume to continue\n", work_folder);
    else
        fprintf(stderr, "slashscope %s: stopped by SIGTERM (%s); a run without mpirun keeps "
                "no checkpoint of %s: nothing was saved\n", cmd, err->msg, cmd);
    return 1;
}

int ss_cli_dist_status(const char *cmd, ss_error *err)
{
    if (!err->code)
        return 0;
    /* a rank whose state was sent before SIGTERM came has done its part:
     * rank 0 completes the run; only a stop (terminated) or a plain run's
     * interrupted loop is "stopped" */
    if (err->code == SS_STOP &&
        (ss_cli_dist.terminated || (!dist_on && ss_terminate_requested())))
        return stopped_status(cmd, err);
    if (err->code == SS_STOP && ss_cli_dist.rank > 0)
        return 0;
    ss_dist_name_failure(&ss_cli_dist, err);
    int status = ss_cli_fail(cmd, err);
    ss_dist_abort(&ss_cli_dist, status);
    return status;
}
