#include "cli/dist_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/source_json.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "common/terminate.h"
#include "model/fingerprint.h"

ss_dist ss_cli_dist = {.rank = 0, .size = 1, .current = -1};
static int dist_on;
static char work_folder[4096]; /* --out's OUT.partial, for the SIGTERM message */

int ss_cli_dist_on(void)
{
    return dist_on;
}

/* argv joined by spaces, without the flags that may differ on a resume:
 * none of them changes a number (--force only lets a finished result be
 * replaced, and a study passes it to every stage). */
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
        if (!strcmp(f, "--resume") || !strcmp(f, "--quiet") || !strcmp(f, "--force"))
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
                          const char *marker, int always, int *on, ss_error *err)
{
    dist_on = 0;
    if (on)
        *on = 0;
    const char *out = ss_args_get(a, "--out");
    ss_code rc = ss_folder_name(f, out, "--out", err);
    if (rc)
        return rc;
    snprintf(work_folder, sizeof work_folder, "%s", f->work);
    dist_on = always || ss_cli_dist.mpi || ss_dist_has_checkpoints(f->work);
    if (on)
        *on = dist_on;
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

ss_code ss_cli_dist_identify(const ss_model_run *r, const ss_prompts *p,
                             const ss_prompt_opts *popts, ss_error *err)
{
    if (!dist_on || !ss_cli_dist.dir[0])
        return SS_OK;
    ss_weights_fingerprint fp;
    ss_code rc = ss_model_fingerprint(r->model, &fp, err);
    if (rc)
        return rc;
    char single[65], words[512];
    const char *sha = p ? ss_prompts_sha256(p) : single;
    if (!p) {
        ss_sha256 h;
        ss_sha256_init(&h);
        ss_sha256_update_i32le(&h, r->ids, (size_t)r->n);
        ss_sha256_hex(&h, single);
    }
    int k = snprintf(words, sizeof words, "version=%s weights=xxh3-128:%s prompts=sha256:%s",
                     SS_VERSION, fp.digest, sha);
    cJSON *src = p ? ss_prompt_source_json(popts, sha) : NULL;
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(src, "tokenizer");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(tok, "vocab_sha256");
    if (cJSON_IsString(vocab))
        k += snprintf(words + k, sizeof words - (size_t)k, " tokenizer=sha256:%s",
                      vocab->valuestring);
    cJSON_Delete(src);
    /* --lowrank swaps W_Q/W_K in memory, which the fingerprint (of the
     * tensors as stored) does not see */
    const char *plan = ss_model_run_plan_sha256(r);
    if (plan)
        snprintf(words + k, sizeof words - (size_t)k, " lowrank=sha256:%s", plan);
    return ss_dist_add_settings(&ss_cli_dist, words, err);
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
static int stopped_status(const char *cmd)
{
    if (ss_cli_dist.rank > 0)
        return 1;
    int ranks = ss_cli_dist.terminated && ss_cli_dist.size > 1;
    /* a plain scan keeps its own checkpoint; rank and freq, and every run
     * under mpirun, the per-rank ones of the work folder */
    fprintf(stderr, "slashscope %s: stopped by SIGTERM%s after the prompt%s under way, every "
            "finished prompt saved in the checkpoint%s of %s; run the same command with "
            "--resume to continue%s\n", cmd, ranks ? " (on this or another rank)" : "",
            ranks ? "s" : "", ranks ? "s" : "",
            ss_cli_dist.terminated ? ss_cli_dist.dir : work_folder,
            ss_cli_dist.terminated ? " (as one process, or under mpirun with any number of "
                                     "ranks)" : "");
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
        return stopped_status(cmd);
    if (err->code == SS_STOP && ss_cli_dist.rank > 0)
        return 0;
    ss_dist_name_failure(&ss_cli_dist, err);
    int status = ss_cli_fail(cmd, err);
    ss_dist_abort(&ss_cli_dist, status);
    return status;
}
