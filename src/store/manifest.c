#include "store/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sha256.h"
#include "io/atomic_file.h"
#include "store/folder.h"

#define PATH_CAP 4096
#define MAX_MANIFEST ((size_t)16 << 20)

typedef struct {
    char **items;
    int n, cap;
} name_list;

static void list_free(name_list *l)
{
    for (int k = 0; k < l->n; k++)
        free(l->items[k]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static int list_add(name_list *l, const char *s)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 32;
        char **g = realloc(l->items, (size_t)cap * sizeof *g);
        if (!g)
            return -1;
        l->items = g;
        l->cap = cap;
    }
    if (!(l->items[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under root/rel, as paths relative to root. */
static ss_code walk(const char *root, const char *rel, name_list *out, ss_error *err)
{
    char dir[PATH_CAP];
    snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d)
        return ss_fail(err, SS_ERR_IO, "%s: cannot list: %s", dir, strerror(errno));
    ss_code rc = SS_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[PATH_CAP], full[2 * PATH_CAP];
        if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
            sizeof sub)
            rc = ss_fail(err, SS_ERR_IO, "%s: path too long", dir);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (rc || lstat(full, &st) != 0)
            continue;
        if (!*rel && strcmp(e->d_name, SS_FOLDER_MANIFEST) == 0)
            continue;
        if (S_ISDIR(st.st_mode))
            rc = walk(root, sub, out, err);
        else if (strchr(sub, '\n') || strchr(sub, '\\'))
            rc = ss_fail(err, SS_ERR_FORMAT, "%s: a file name with a line break or backslash "
                         "has no place in a result folder", full);
        else if (list_add(out, sub) != 0)
            rc = ss_fail(err, SS_ERR_NOMEM, "%s: out of memory listing files", dir);
    }
    closedir(d);
    return rc;
}

ss_code ss_manifest_write(const char *dir, ss_error *err)
{
    name_list l = {0};
    ss_code rc = walk(dir, "", &l, err);
    if (!rc)
        qsort(l.items, (size_t)l.n, sizeof *l.items, cmp_str);
    size_t cap = (size_t)l.n * (64 + 3 + PATH_CAP) + 1, len = 0;
    char *text = rc ? NULL : malloc(cap);
    if (!rc && !text)
        rc = ss_fail(err, SS_ERR_NOMEM, "%s: out of memory for %s", dir, SS_FOLDER_MANIFEST);
    for (int k = 0; k < l.n && !rc; k++) {
        char path[2 * PATH_CAP], hex[65];
        snprintf(path, sizeof path, "%s/%s", dir, l.items[k]);
        if (!(rc = ss_sha256_file(path, hex, err)))
            len += (size_t)snprintf(text + len, cap - len, "%s  %s\n", hex, l.items[k]);
    }
    if (!rc) {
        char path[PATH_CAP + 64];
        snprintf(path, sizeof path, "%s/%s", dir, SS_FOLDER_MANIFEST);
        rc = ss_write_file_atomic(path, text, len, err);
    }
    free(text);
    list_free(&l);
    return rc;
}

static int listed(const name_list *l, const char *name)
{
    return bsearch(&name, l->items, (size_t)l->n, sizeof *l->items, cmp_str) != NULL;
}

ss_code ss_manifest_verify(const char *dir, int *present, ss_error *err)
{
    char mpath[PATH_CAP + 64];
    snprintf(mpath, sizeof mpath, "%s/%s", dir, SS_FOLDER_MANIFEST);
    *present = 0;
    struct stat st;
    if (lstat(mpath, &st) != 0)
        return SS_OK;
    *present = 1;
    char *text;
    size_t n;
    ss_code rc = ss_read_file(mpath, MAX_MANIFEST, &text, &n, err);
    if (rc)
        return rc;
    name_list want = {0};
    int line = 0;
    for (char *p = text; !rc && *p;) {
        char *end = strchr(p, '\n');
        line++;
        if (!end)
            rc = ss_fail(err, SS_ERR_FORMAT, "%s: line %d does not end with a line break",
                         mpath, line);
        else if (end - p < 67 || p[64] != ' ' || p[65] != ' ' ||
                 strspn(p, "0123456789abcdef") != 64)
            rc = ss_fail(err, SS_ERR_FORMAT, "%s: line %d: expected \"<64 hex digits>  <file>\"",
                         mpath, line);
        if (rc)
            break;
        *end = '\0';
        const char *name = p + 66;
        char path[2 * PATH_CAP], hex[65];
        if (name[0] == '/' || strstr(name, "..")) {
            rc = ss_fail(err, SS_ERR_FORMAT, "%s: line %d: '%s' is outside the folder", mpath,
                         line, name);
            break;
        }
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            rc = ss_fail(err, SS_ERR_MISSING, "%s: %s is listed in %s but missing: the result "
                         "is incomplete", dir, name, SS_FOLDER_MANIFEST);
        else if (!(rc = ss_sha256_file(path, hex, err)) && memcmp(hex, p, 64) != 0)
            rc = ss_fail(err, SS_ERR_FORMAT, "%s: its SHA-256 is not the one %s recorded: the "
                         "file changed after the result was written", path, SS_FOLDER_MANIFEST);
        if (!rc && list_add(&want, name) != 0)
            rc = ss_fail(err, SS_ERR_NOMEM, "%s: out of memory", mpath);
        p = end + 1;
    }
    free(text);
    name_list have = {0};
    if (!rc) {
        qsort(want.items, (size_t)want.n, sizeof *want.items, cmp_str);
        rc = walk(dir, "", &have, err);
    }
    for (int k = 0; k < have.n && !rc; k++)
        if (!listed(&want, have.items[k]))
            rc = ss_fail(err, SS_ERR_FORMAT, "%s: %s is not part of this result (not in %s): a "
                         "file left from another run; remove it", dir, have.items[k],
                         SS_FOLDER_MANIFEST);
    list_free(&want);
    list_free(&have);
    return rc;
}

static void remove_tmp(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d || depth > 8) {
        if (d)
            closedir(d);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[PATH_CAP + 300];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            remove_tmp(p, depth + 1);
        else if (strstr(e->d_name, ".tmp."))
            unlink(p);
    }
    closedir(d);
}

void ss_manifest_remove_temporaries(const char *dir)
{
    remove_tmp(dir, 0);
}
