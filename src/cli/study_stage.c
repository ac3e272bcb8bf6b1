#include "cli/study_stage.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/dist_cli.h"
#include "common/progress.h"
#include "common/terminate.h"
#include "io/atomic_file.h"
#include "io/json.h"

void ss_stage_arg(ss_stage *s, const char *fmt, ...)
{
    if (s->argc >= SS_STAGE_MAX_ARGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *v = NULL;
    if (vasprintf(&v, fmt, ap) < 0)
        v = NULL;
    va_end(ap);
    if (v)
        s->argv[s->argc++] = v;
}

void ss_stage_free(ss_stage *s)
{
    for (int i = 0; i < s->argc; i++)
        free(s->argv[i]);
    s->argc = 0;
}

/* Beside the stage's folder, not in it: a result folder is renamed into
 * place whole and its SHA256SUMS lists every file, so nothing may be added
 * to it afterwards (store/folder.h). */
static void marker(const ss_stage *s, char *buf, size_t n)
{
    snprintf(buf, n, "%s.stage.json", s->dir);
}

int ss_stage_done(const ss_stage *s)
{
    char p[4200];
    marker(s, p, sizeof p);
    return access(p, R_OK) == 0;
}

/* A killed scan's committed checkpoint, kept in DIR.partial (store/folder.h). */
static int has_checkpoint(const ss_stage *s)
{
    char p[4200];
    snprintf(p, sizeof p, "%s.partial/checkpoint/state.json", s->dir);
    return access(p, F_OK) == 0;
}

/* The folder the stage's files go in: its own for a stage whose result is
 * its stdout; else the parent, where the command makes DIR itself. */
static ss_code make_folder(const ss_stage *s, ss_error *err)
{
    if (s->stdout_file)
        return ss_mkdirs(s->dir, err);
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", s->dir);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent)
        return SS_OK;
    *slash = '\0';
    return ss_mkdirs(parent, err);
}

static ss_code read_seconds(ss_stage *s, ss_error *err)
{
    char p[4200], *text = NULL;
    size_t n;
    marker(s, p, sizeof p);
    ss_code rc = ss_read_file(p, 1 << 20, &text, &n, err);
    if (rc)
        return rc;
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *sec = j ? cJSON_GetObjectItemCaseSensitive(j, "wall_seconds") : NULL;
    if (!cJSON_IsNumber(sec)) {
        cJSON_Delete(j);
        return ss_fail(err, SS_ERR_FORMAT, "%s: wants a number in wall_seconds (delete the "
                       "file to rerun the stage)", p);
    }
    s->seconds = sec->valuedouble;
    cJSON_Delete(j);
    return SS_OK;
}

static ss_code write_marker(const ss_stage *s, ss_error *err)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "stage", s->name);
    cJSON *a = cJSON_AddArrayToObject(j, "command");
    cJSON_AddItemToArray(a, cJSON_CreateString("slashscope"));
    for (int i = 0; i < s->argc; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(s->argv[i]));
    cJSON_AddNumberToObject(j, "wall_seconds", s->seconds);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text)
        return ss_fail(err, SS_ERR_NOMEM, "%s: cannot format stage.json", s->dir);
    char p[4200];
    marker(s, p, sizeof p);
    size_t n = strlen(text);
    text[n] = '\n';
    ss_code rc = ss_write_file_atomic(p, text, n + 1, err);
    free(text);
    return rc;
}

/* The commands a stage may be: the single commands' own entry points, so a
 * stage's folder is what that command writes, byte for byte. */
typedef int (*command_fn)(int argc, char **argv);

static command_fn command_of(const char *name)
{
    static const struct {
        const char *name;
        command_fn fn;
    } table[] = {{"info", cmd_info}, {"scan", cmd_scan}, {"compare", cmd_compare},
                 {"rank", cmd_rank}, {"cone", cmd_cone}, {"freq", cmd_freq}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i].name, name))
            return table[i].fn;
    return NULL;
}

/* Runs the command argv in this process with its stdout in out_path (the
 * study's own stdout is put back after); *status is its exit status. In
 * process rather than as a child: no second start-up, model load or BLAS
 * initialisation per stage, and under mpirun every rank takes part in the
 * command's own distribution (dist/dist.h). */
static ss_code call(int argc, char **argv, const char *out_path, int *status, ss_error *err)
{
    command_fn fn = command_of(argv[0]);
    if (!fn)
        return ss_fail(err, SS_ERR_USAGE, "study: '%s' is not a stage command", argv[0]);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return ss_fail(err, SS_ERR_IO, "%s: cannot create: %s", out_path, strerror(errno));
    fflush(stdout);
    int saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
    if (saved < 0 || dup2(fd, STDOUT_FILENO) < 0) {
        int e = errno;
        close(fd);
        if (saved >= 0)
            close(saved);
        return ss_fail(err, SS_ERR_IO, "%s: cannot send a stage's output there: %s", out_path,
                       strerror(e));
    }
    close(fd);
    *status = fn(argc, argv);
    fflush(stdout);
    int back = dup2(saved, STDOUT_FILENO);
    close(saved);
    if (back < 0)
        return ss_fail(err, SS_ERR_IO, "cannot restore the study's output: %s",
                       strerror(errno));
    return SS_OK;
}

static void out_path(const ss_stage *s, char *buf, size_t n)
{
    if (s->stdout_file)
        snprintf(buf, n, "%s", s->stdout_file);
    else
        snprintf(buf, n, "%s.stdout.txt", s->dir);
}

/* Under mpirun (cli/dist_cli.h) the commands that deal prompts to ranks run
 * on every rank, each its share, rank 0 writing the folder; the others
 * (info, compare, cone: no prompts to deal) run on rank 0 alone. */
static int spread(const ss_stage *s)
{
    return !strcmp(s->argv[0], "scan") || !strcmp(s->argv[0], "rank") ||
           !strcmp(s->argv[0], "freq");
}

ss_code ss_stage_agree(ss_code rc, ss_error *err)
{
    int64_t v = rc;
    ss_dist_bcast_i64(&ss_cli_dist, &v, 1);
    if (ss_cli_dist.rank == 0 || v == SS_OK || rc)
        return rc;
    return ss_fail(err, (ss_code)v, "rank 0 failed (its message says why)");
}

/* The command line of the stage, with what this run adds (plan: bit 1
 * resume). */
static int command_line(const ss_stage *s, int quiet, int64_t plan, char **argv)
{
    int n = 0;
    for (int i = 0; i < s->argc; i++)
        argv[n++] = s->argv[i];
    if (quiet)
        argv[n++] = "--quiet";
    if (plan & 2)
        argv[n++] = "--resume";
    if (s->out_folder)
        argv[n++] = "--force";
    argv[n] = NULL;
    return n;
}

/* Runs the stage on this process's part (rank 0's: all of it in a plain
 * run): *status is the command's exit status. */
static ss_code run_here(ss_stage *s, int quiet, int64_t plan, int *status, ss_error *err)
{
    ss_code rc = ss_cli_dist.rank == 0 ? make_folder(s, err) : SS_OK;
    if (rc)
        return rc;
    char *argv[SS_STAGE_MAX_ARGS + 4];
    int n = command_line(s, quiet, plan, argv);
    char out[4200];
    if (ss_cli_dist.rank == 0)
        out_path(s, out, sizeof out);
    else
        snprintf(out, sizeof out, "/dev/null"); /* rank 0's output is the stage's */
    rc = call(n, argv, out, status, err);
    if (spread(s))
        ss_dist_reset(&ss_cli_dist); /* the next command deals its own prompts */
    return rc;
}

/* Runs the stage unless it was finished before; rank 0 decides which, and
 * every rank waits for its outcome (ss_stage_agree). A scan, rank or freq with a
 * committed checkpoint in DIR.partial gets --resume. A command writing a
 * result folder gets --force: an unfinished stage is redone whole, and the
 * folder may hold the result of a run killed before its stage.json. */
ss_code ss_stage_run(ss_stage *s, int quiet, ss_error *err)
{
    int rank0 = ss_cli_dist.rank == 0;
    /* bit 0: done, 1: a checkpoint to resume, 2: SIGTERM came (rank 0's
     * word, so every rank stops at the same stage) */
    int64_t plan = rank0 ? ss_stage_done(s) | (s->resumable && has_checkpoint(s)) << 1 |
                               (int64_t)(ss_terminate_requested() != 0) << 2
                         : 0;
    ss_dist_bcast_i64(&ss_cli_dist, &plan, 1);
    if (plan & 1) {
        s->reused = 1;
        return ss_stage_agree(rank0 ? read_seconds(s, err) : SS_OK, err);
    }
    if (plan & 4) /* the prompt stages stop by themselves; the others here */
        return ss_stage_agree(ss_fail(err, SS_STOP, "stopped by SIGTERM before stage %s; run "
                                      "the same command again to go on (finished stages are "
                                      "kept)", s->name),
                              err);
    double t0 = ss_now_seconds();
    int status = 0;
    ss_code rc = SS_OK;
    if (rank0 || spread(s))
        rc = run_here(s, quiet, plan, &status, err);
    s->seconds = ss_now_seconds() - t0;
    if (!rc && rank0 && status == 0)
        rc = write_marker(s, err);
    else if (!rc && status) {
        char out[4200];
        out_path(s, out, sizeof out);
        ss_fail(err, SS_ERR_IO, "exit status %d (its message is above; output in %s)", status,
                out);
        ss_error_prefix(err, "stage %s (slashscope %s)", s->name, s->argv[0]);
        rc = err->code;
    }
    return ss_stage_agree(rc, err);
}

ss_code ss_stages_run(ss_stage *const *s, int n, int quiet, ss_error *err)
{
    for (int i = 0; i < n; i++) {
        ss_code rc = ss_stage_run(s[i], quiet, err);
        if (rc)
            return rc;
    }
    return SS_OK;
}
