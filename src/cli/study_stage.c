#include "cli/study_stage.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/progress.h"
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

/* fork + exec of this very program; the child dies with the study (so a
 * killed study leaves no stage writing behind it) and writes its stdout to
 * out_path. Returns the child's pid, or -1 with err filled. */
static pid_t spawn(char **argv, const char *out_path, ss_error *err)
{
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ss_fail(err, SS_ERR_IO, "%s: cannot create: %s", out_path, strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        close(fd);
        ss_fail(err, SS_ERR_IO, "cannot start a stage: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* the study died before the line above */
        dup2(fd, STDOUT_FILENO);
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(fd);
    return pid;
}

static void out_path(const ss_stage *s, char *buf, size_t n)
{
    if (s->stdout_file)
        snprintf(buf, n, "%s", s->stdout_file);
    else
        snprintf(buf, n, "%s.stdout.txt", s->dir);
}

/* Starts the stage's child; *pid -1 when it was finished before. A scan with a
 * committed checkpoint in DIR.partial gets --resume. A command writing a
 * result folder gets --force: an unfinished stage is redone whole, and the
 * folder may hold the result of a run killed before its stage.json. */
static ss_code start(ss_stage *s, int quiet, pid_t *pid, ss_error *err)
{
    *pid = -1;
    if (ss_stage_done(s)) {
        s->reused = 1;
        return read_seconds(s, err);
    }
    ss_code rc = make_folder(s, err);
    if (rc)
        return rc;
    char *argv[SS_STAGE_MAX_ARGS + 5];
    int n = 0;
    argv[n++] = "slashscope";
    for (int i = 0; i < s->argc; i++)
        argv[n++] = s->argv[i];
    if (quiet)
        argv[n++] = "--quiet";
    if (s->resumable && has_checkpoint(s))
        argv[n++] = "--resume";
    if (s->out_folder)
        argv[n++] = "--force";
    argv[n] = NULL;
    char out[4200];
    out_path(s, out, sizeof out);
    s->seconds = ss_now_seconds(); /* the start, until it ends */
    *pid = spawn(argv, out, err);
    return *pid < 0 ? SS_ERR_IO : SS_OK;
}

/* The child of s ended with status: record it. */
static ss_code ended(ss_stage *s, int status, ss_error *err)
{
    s->seconds = ss_now_seconds() - s->seconds;
    char out[4200];
    out_path(s, out, sizeof out);
    if (WIFSIGNALED(status))
        ss_fail(err, SS_ERR_IO, "killed by signal %d (output in %s)", WTERMSIG(status), out);
    else if (WEXITSTATUS(status))
        ss_fail(err, SS_ERR_IO, "exit status %d (its message is above; output in %s)",
                WEXITSTATUS(status), out);
    else
        return write_marker(s, err);
    ss_error_prefix(err, "stage %s (slashscope %s)", s->name, s->argv[0]);
    return err->code;
}

ss_code ss_stage_run(ss_stage *s, int quiet, ss_error *err)
{
    return ss_stages_run(&s, 1, 1, quiet, err);
}

ss_code ss_stages_run(ss_stage *const *s, int n, int parallel, int quiet, ss_error *err)
{
    pid_t pids[64];
    int running = 0, next = 0;
    ss_code first = SS_OK;
    if (n > 64)
        return ss_fail(err, SS_ERR_USAGE, "at most 64 stages at once, not %d", n);
    if (parallel < 1)
        parallel = 1;
    for (int i = 0; i < n; i++)
        pids[i] = -1;
    for (;;) {
        while (!first && next < n && running < parallel) {
            ss_code rc = start(s[next], quiet, &pids[next], err);
            if (rc)
                first = rc;
            else if (pids[next] > 0)
                running++;
            next++;
        }
        if (!running)
            break;
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            return ss_fail(err, SS_ERR_IO, "waiting for a stage: %s", strerror(errno));
        }
        for (int i = 0; i < next; i++)
            if (pids[i] == pid) {
                pids[i] = -1;
                running--;
                ss_error e2 = {0};
                ss_code rc = ended(s[i], status, first ? &e2 : err);
                if (rc && !first)
                    first = rc;
            }
    }
    return first;
}
