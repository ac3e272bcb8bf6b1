#include "cli/args.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/mem.h"
#include "common/parse.h"
#include "common/path.h"
#include "io/atomic_file.h"
#include "tokenizer/ids.h"

static const ss_flag global_flags[] = {{"--threads", 1}, {"--quiet", 0}, {"--help", 0}};

static int find_flag(const ss_args *a, const char *name)
{
    for (int i = 0; i < a->n_flags; i++)
        if (strcmp(a->flags[i].name, name) == 0)
            return i;
    return -1;
}

ss_code ss_args_parse(ss_args *a, const char *cmd, const char *usage, const ss_flag *flags,
                      int argc, char **argv, ss_error *err)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->usage = usage;
    a->flags = flags;
    while (flags && flags[a->n_flags].name)
        a->n_flags++;
    if (a->n_flags > SS_ARGS_MAX)
        return ss_fail(err, SS_ERR_USAGE, "too many flags declared");
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || strcmp(arg, "--") == 0) {
            if (a->n_positional >= 16)
                return ss_fail(err, SS_ERR_USAGE, "too many arguments");
            a->positional[a->n_positional++] = arg;
            continue;
        }
        /* --flag=value form */
        char name[64];
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len >= sizeof name)
            return ss_fail(err, SS_ERR_USAGE, "unknown option %s (see --help)", arg);
        memcpy(name, arg, len);
        name[len] = '\0';
        if (strcmp(name, "--help") == 0) {
            a->help = 1;
            continue;
        }
        if (strcmp(name, "--quiet") == 0) {
            a->quiet = 1;
            continue;
        }
        if (strcmp(name, "--threads") == 0) {
            const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            long long t;
            if (!v || ss_parse_ll_all(v, 1, 1024, &t))
                return ss_fail(err, SS_ERR_USAGE, "--threads wants a whole number from 1 to 1024");
            a->threads = (int)t;
            continue;
        }
        int f = find_flag(a, name);
        if (f < 0)
            return ss_fail(err, SS_ERR_USAGE, "unknown option %s (see 'slashscope %s --help')",
                           name, cmd);
        if (flags[f].takes_value) {
            const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v)
                return ss_fail(err, SS_ERR_USAGE, "%s needs a value", name);
            a->values[f] = v;
            if (flags[f].takes_value == 2) {
                if (a->n_repeated == SS_ARGS_MAX_REPEAT)
                    return ss_fail(err, SS_ERR_USAGE, "%s: more than %d times", name,
                                   SS_ARGS_MAX_REPEAT);
                a->repeated[a->n_repeated] = v;
                a->repeated_flag[a->n_repeated++] = f;
            }
        } else {
            if (eq)
                return ss_fail(err, SS_ERR_USAGE, "%s takes no value", name);
            a->values[f] = "";
        }
    }
    (void)global_flags;
    return SS_OK;
}

int ss_args_all(const ss_args *a, const char *name, const char **out, int cap)
{
    int f = find_flag(a, name), got = 0;
    for (int i = 0; f >= 0 && i < a->n_repeated; i++)
        if (a->repeated_flag[i] == f) {
            if (got < cap)
                out[got] = a->repeated[i];
            got++;
        }
    return got;
}

const char *ss_args_get(const ss_args *a, const char *name)
{
    int f = find_flag(a, name);
    return f < 0 ? NULL : a->values[f];
}

int ss_args_has(const ss_args *a, const char *name)
{
    return ss_args_get(a, name) != NULL;
}

ss_code ss_args_int(const ss_args *a, const char *name, long long def, long long min,
                    long long max, long long *out, ss_error *err)
{
    const char *v = ss_args_get(a, name);
    if (!v) {
        *out = def;
        return SS_OK;
    }
    long long x;
    if (ss_parse_ll_all(v, min, max, &x))
        return ss_fail(err, SS_ERR_USAGE, "%s wants a whole number from %lld to %lld, got '%s'",
                       name, min, max, v);
    *out = x;
    return SS_OK;
}

ss_code ss_args_double(const ss_args *a, const char *name, double def, double min, double max,
                       double *out, ss_error *err)
{
    const char *v = ss_args_get(a, name);
    if (!v) {
        *out = def;
        return SS_OK;
    }
    char *end;
    double x = strtod(v, &end);
    if (*v == '\0' || *end || !isfinite(x) || x < min || x > max)
        return ss_fail(err, SS_ERR_USAGE, "%s wants a number from %g to %g, got '%s'", name, min,
                       max, v);
    *out = x;
    return SS_OK;
}

ss_code ss_args_require(const ss_args *a, const char *name, const char **out, ss_error *err)
{
    *out = ss_args_get(a, name);
    if (!*out || !**out)
        return ss_fail(err, SS_ERR_USAGE, "%s is required (see 'slashscope %s --help')", name,
                       a->cmd);
    return SS_OK;
}

ss_code ss_parse_ids(const char *s, const char *where, int32_t **ids, int *n, ss_error *err)
{
    size_t count = 0;
    ss_code rc = ss_ids_parse(s, where, 0, ids, &count, err);
    *n = (int)count; /* below 2^31: every id took at least two bytes of a smaller file */
    if (!rc && count == 0)
        return ss_fail(err, SS_ERR_VALUE, "%s: no token ids", where);
    return rc;
}

/* Creates and removes a probe file in dir; 0 and errno on failure. */
static int can_write_in(const char *dir)
{
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/.slashscope-probe.%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return 0;
    close(fd);
    unlink(probe);
    return 1;
}

/* The folder part of path ("." for a bare name) into buf. */
static void parent_of(const char *path, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, cap, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}

static ss_code probe(const char *out, const char *dir, ss_error *err)
{
    if (can_write_in(dir))
        return SS_OK;
    return ss_fail(err, SS_ERR_IO, "--out %s: cannot write in %s: %s (checked before the run)",
                   out, dir, strerror(errno));
}

ss_code ss_args_out(const ss_args *a, int is_dir, const char **out, ss_error *err)
{
    ss_code rc = ss_args_require(a, "--out", out, err);
    if (rc)
        return rc;
    char dir[4096];
    if (strlen(*out) >= sizeof dir - 64)
        return ss_fail(err, SS_ERR_USAGE, "--out %s: path too long", *out);
    if (!is_dir && ss_is_dir(*out))
        return ss_fail(err, SS_ERR_USAGE, "--out %s: is a folder, expected a file name", *out);
    if (is_dir && access(*out, F_OK) == 0 && !ss_is_dir(*out))
        return ss_fail(err, SS_ERR_IO, "--out %s: is %s, not a folder", *out, ss_path_kind(*out));
    /* the parent: a file is written next to its final name and renamed; a
     * folder is created (or assembled and renamed into place) inside the
     * nearest existing folder above it */
    parent_of(*out, dir, sizeof dir);
    if (!is_dir && !ss_is_dir(dir))
        return ss_fail(err, SS_ERR_IO, "%s: cannot create: the folder %s does not exist", *out,
                       dir);
    while (!ss_is_dir(dir) && strcmp(dir, ".") && strcmp(dir, "/")) {
        if (access(dir, F_OK) == 0)
            return ss_fail(err, SS_ERR_IO, "--out %s: %s is %s, not a folder", *out, dir,
                           ss_path_kind(dir));
        char up[4096];
        parent_of(dir, up, sizeof up);
        memcpy(dir, up, sizeof dir);
    }
    if ((rc = probe(*out, dir, err)))
        return rc;
    return is_dir && ss_is_dir(*out) ? probe(*out, *out, err) : SS_OK;
}

/* Lines holding something other than spaces. */
static int count_sequences(const char *s, size_t n)
{
    int lines = 0, filled = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            lines += filled;
            filled = 0;
        } else if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
            filled = 1;
        }
    }
    return lines + filled;
}

ss_code ss_args_ids(const ss_args *a, int32_t **ids, int *n, ss_error *err)
{
    const char *inline_ids = ss_args_get(a, "--ids");
    const char *file = ss_args_get(a, "--ids-file");
    if (inline_ids && file)
        return ss_fail(err, SS_ERR_USAGE, "give either --ids or --ids-file, not both");
    if (inline_ids)
        return ss_parse_ids(inline_ids, "--ids", ids, n, err);
    if (!file)
        return ss_fail(err, SS_ERR_USAGE, "--ids or --ids-file is required");
    char *text;
    size_t len;
    ss_code rc = ss_read_input(file, (size_t)1 << 30, &text, &len, err);
    if (rc)
        return rc;
    /* only the first line is used, but a NUL in it would cut it silently */
    const char *eol = memchr(text, '\n', len);
    const char *nul = memchr(text, '\0', eol ? (size_t)(eol - text) : len);
    if (nul)
        rc = ss_fail(err, SS_ERR_FORMAT, "%s:1: a NUL byte at byte %zu of the line (ids files "
                     "are text)", file, (size_t)(nul - text) + 1);
    else
        rc = ss_parse_ids(text, file, ids, n, err);
    int lines = count_sequences(text, len);
    if (!rc && lines > 1) {
        free(*ids);
        *ids = NULL;
        *n = 0;
        rc = find_flag(a, "--len") >= 0
                 ? ss_fail(err, SS_ERR_USAGE, "%s holds %d sequences (non-blank lines) and "
                           "--ids-file without --len reads one: give --len N to use every line, "
                           "as scan does, or keep one line", file, lines)
                 : ss_fail(err, SS_ERR_USAGE, "%s holds %d sequences (non-blank lines); 'slashscope "
                           "%s' reads one: keep one line in the file", file, lines, a->cmd);
    }
    free(text);
    return rc;
}

int ss_cli_fail(const char *cmd, const ss_error *err)
{
    /* messages quote strings from files (architecture names, tensor names,
     * JSON fields): escape control bytes so none reaches the terminal raw */
    char safe[4 * sizeof err->msg];
    const char *msg = err->msg[0] ? err->msg : ss_code_name(err->code);
    fprintf(stderr, "slashscope %s: %s\n", cmd, ss_escape(msg, strlen(msg), safe, sizeof safe));
    return err->code == SS_ERR_USAGE ? 2 : 1;
}
