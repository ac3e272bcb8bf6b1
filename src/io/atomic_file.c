#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/path.h"

ss_code ss_atomic_open(ss_atomic_file *f, const char *path, ss_error *err)
{
    memset(f, 0, sizeof *f);
    if (strlen(path) >= sizeof f->path)
        return ss_fail(err, SS_ERR_USAGE, "%s: path too long", path);
    snprintf(f->path, sizeof f->path, "%s", path);
    snprintf(f->tmp, sizeof f->tmp, "%s.tmp.%ld", path, (long)getpid());
    f->fp = fopen(f->tmp, "wb");
    if (!f->fp)
        return ss_fail(err, SS_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    return SS_OK;
}

/* The folder whose files are synced together (ss_atomic_defer_sync). */
static struct {
    char dir[4096], keep[4096];
    size_t dir_len, keep_len;
} deferred;

/* syncfs reports a writeback error (EIO, a full quota) only since Linux 5.8
 * (man 2 syncfs); before, it returns 0 regardless, so there every file
 * keeps its own fsync, whose error it does report. */
static int syncfs_reports_errors(void)
{
    static int known = -1;
    if (known < 0) {
        struct utsname u;
        int major = 0, minor = 0;
        known = uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
                (major > 5 || (major == 5 && minor >= 8));
    }
    return known;
}

void ss_atomic_defer_sync(const char *dir, const char *keep)
{
    deferred.dir_len = deferred.keep_len = 0;
    if (!dir || strlen(dir) >= sizeof deferred.dir || !syncfs_reports_errors())
        return; /* a path this long, or an older kernel: every file syncs itself */
    snprintf(deferred.dir, sizeof deferred.dir, "%s", dir);
    deferred.dir_len = strlen(dir);
    if (keep && snprintf(deferred.keep, sizeof deferred.keep, "%s/%s/", dir, keep) <
                    (int)sizeof deferred.keep)
        deferred.keep_len = strlen(deferred.keep);
}

int ss_atomic_sync_deferred(const char *path)
{
    return deferred.dir_len && !strncmp(path, deferred.dir, deferred.dir_len) &&
           path[deferred.dir_len] == '/' &&
           !(deferred.keep_len && !strncmp(path, deferred.keep, deferred.keep_len));
}

/* One syncfs of dir's file system: a single pass writes every dirty data
 * and metadata block once, where a fsync per file wrote the inode-table and
 * bitmap blocks its neighbours share again for each file (a fifth of the
 * CPU, a third of the wall time of a 114-file freq result on ext4). It
 * also waits for other processes' dirty data on that file system. */
int ss_sync_tree(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = syncfs(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

ss_code ss_atomic_commit(ss_atomic_file *f, ss_error *err)
{
    int bad = ferror(f->fp);
    if (fflush(f->fp) != 0)
        bad = 1;
    if (!bad && !ss_atomic_sync_deferred(f->path) && fsync(fileno(f->fp)) != 0 && errno != EINVAL)
        bad = 1;
    int saved = errno;
    if (fclose(f->fp) != 0)
        bad = 1;
    f->fp = NULL;
    if (bad) {
        unlink(f->tmp);
        return ss_fail(err, SS_ERR_IO, "%s: write failed: %s", f->path, strerror(saved));
    }
    if (rename(f->tmp, f->path) != 0) {
        saved = errno;
        unlink(f->tmp);
        return ss_fail(err, SS_ERR_IO, "%s: cannot rename into place: %s", f->path, strerror(saved));
    }
    return SS_OK;
}

void ss_atomic_abort(ss_atomic_file *f)
{
    if (f->fp) {
        fclose(f->fp);
        f->fp = NULL;
        unlink(f->tmp);
    }
}

ss_code ss_write_file_atomic(const char *path, const void *data, size_t n, ss_error *err)
{
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc)
        return rc;
    if (n && fwrite(data, 1, n, f.fp) != n) {
        ss_atomic_abort(&f);
        return ss_fail(err, SS_ERR_IO, "%s: write failed", path);
    }
    return ss_atomic_commit(&f, err);
}

ss_code ss_read_file(const char *path, size_t max_bytes, char **data, size_t *n, ss_error *err)
{
    *data = NULL;
    *n = 0;
    int fd = ss_open_regular(path, err);
    if (fd < 0)
        return err->code;
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        close(fd);
        return ss_fail(err, SS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        fclose(fp);
        return ss_fail(err, SS_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    }
    if ((uint64_t)st.st_size > max_bytes) {
        fclose(fp);
        return ss_fail(err, SS_ERR_FORMAT, "%s: file is %lld bytes, more than the %zu allowed",
                       path, (long long)st.st_size, max_bytes);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        fclose(fp);
        return ss_fail(err, SS_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = fread(buf, 1, (size_t)st.st_size, fp);
    fclose(fp);
    if (got != (size_t)st.st_size) {
        free(buf);
        return ss_fail(err, SS_ERR_IO, "%s: short read", path);
    }
    buf[got] = '\0';
    *data = buf;
    *n = got;
    return SS_OK;
}

ss_code ss_read_input(const char *path, size_t max_bytes, char **data, size_t *n, ss_error *err)
{
    *data = NULL;
    *n = 0;
    struct stat st;
    if (stat(path, &st) != 0)
        return ss_fail(err, SS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISREG(st.st_mode))
        return ss_read_file(path, max_bytes, data, n, err);
    if (S_ISDIR(st.st_mode))
        return ss_fail(err, SS_ERR_IO, "%s: is a folder, expected a file", path);
    FILE *fp = fopen(path, "rb"); /* a FIFO waits for its writer here, as it should */
    if (!fp)
        return ss_fail(err, SS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    ss_code rc = buf ? SS_OK : ss_fail(err, SS_ERR_NOMEM, "%s: out of memory", path);
    while (!rc) {
        if (len == cap) {
            if (cap >= max_bytes) {
                rc = ss_fail(err, SS_ERR_FORMAT, "%s: more than the %zu bytes allowed", path,
                             max_bytes);
                break;
            }
            cap = cap * 2 < max_bytes ? cap * 2 : max_bytes;
            char *grown = realloc(buf, cap + 1);
            if (!grown) {
                rc = ss_fail(err, SS_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = grown;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) {
            if (ferror(fp))
                rc = ss_fail(err, SS_ERR_IO, "%s: read error", path);
            break;
        }
    }
    fclose(fp);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *data = buf;
    *n = len;
    return SS_OK;
}

ss_code ss_mkdirs(const char *path, ss_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return ss_fail(err, SS_ERR_USAGE, "%s: path too long", path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return ss_fail(err, SS_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return ss_fail(err, SS_ERR_IO, "%s: not a folder", path);
    return SS_OK;
}
