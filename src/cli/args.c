#include "cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
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
            char *end;
            long t = v ? strtol(v, &end, 10) : 0;
            if (!v || *end || t < 1 || t > 1024)
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
        } else {
            if (eq)
                return ss_fail(err, SS_ERR_USAGE, "%s takes no value", name);
            a->values[f] = "";
        }
    }
    (void)global_flags;
    return SS_OK;
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
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (*v == '\0' || *end || errno || x < min || x > max)
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
    ss_code rc = ss_read_file(file, (size_t)1 << 30, &text, &len, err);
    if (rc)
        return rc;
    rc = ss_parse_ids(text, file, ids, n, err);
    free(text);
    return rc;
}

int ss_cli_fail(const char *cmd, const ss_error *err)
{
    fprintf(stderr, "slashscope %s: %s\n", cmd, err->msg[0] ? err->msg : ss_code_name(err->code));
    return err->code == SS_ERR_USAGE ? 2 : 1;
}
