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

static void marker(const ss_stage *s, char *buf, size_t n)
{
    snprintf(buf, n, "%s/stage.json", s->dir);
}

int ss_stage_done(const ss_stage *s)
{
    char p[4200];
    marker(s, p, sizeof p);
    return access(p, R_OK) == 0;
}

static int has_checkpoint(const ss_stage *s)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/checkpoint", s->dir);
    return access(p, F_OK) == 0;
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
 * out_path. Returns the child's exit status, or -1 with err filled. */
static int spawn(char **argv, const char *out_path, ss_error *err)
{
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ss_fail(err, SS_ERR_IO, "%s: cannot create: %s", out_path, strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        ss_fail(err, SS_ERR_IO, "cannot start a stage: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(127);
        dup2(fd, STDOUT_FILENO);
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(fd);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            ss_fail(err, SS_ERR_IO, "waiting for a stage: %s", strerror(errno));
            return -1;
        }
    if (WIFSIGNALED(status)) {
        ss_fail(err, SS_ERR_IO, "killed by signal %d", WTERMSIG(status));
        return -1;
    }
    return WEXITSTATUS(status);
}

ss_code ss_stage_run(ss_stage *s, int quiet, ss_error *err)
{
    if (ss_stage_done(s)) {
        s->reused = 1;
        return read_seconds(s, err);
    }
    ss_code rc = ss_mkdirs(s->dir, err);
    if (rc)
        return rc;
    char *argv[SS_STAGE_MAX_ARGS + 4];
    int n = 0;
    argv[n++] = "slashscope";
    for (int i = 0; i < s->argc; i++)
        argv[n++] = s->argv[i];
    if (quiet)
        argv[n++] = "--quiet";
    if (s->resumable && has_checkpoint(s))
        argv[n++] = "--resume";
    argv[n] = NULL;
    char out[4200];
    if (s->stdout_file)
        snprintf(out, sizeof out, "%s", s->stdout_file);
    else
        snprintf(out, sizeof out, "%s/stdout.txt", s->dir);
    double t0 = ss_now_seconds();
    int st = spawn(argv, out, err);
    s->seconds = ss_now_seconds() - t0;
    if (st != 0) {
        if (st > 0)
            ss_fail(err, SS_ERR_IO, "exit status %d (its message is above; output in %s)", st,
                    out);
        ss_error_prefix(err, "stage %s (slashscope %s)", s->name, s->argv[0]);
        return err->code ? err->code : SS_ERR_IO;
    }
    return write_marker(s, err);
}
