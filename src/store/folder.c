#include "store/folder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "store/manifest.h"

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int ss_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int is_dir_entry(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

const char *ss_folder_file(const ss_folder *f, const char *name, char *buf, size_t cap)
{
    if (!name)
        snprintf(buf, cap, "%s", f->work);
    else if ((size_t)snprintf(buf, cap, "%s/%s", f->work, name) >= cap)
        buf[0] = '\0';
    return buf;
}

/* ---- the lock ---- */

static void lock_release(ss_folder *f)
{
    if (f->lock_fd < 0)
        return;
    /* unlink while still holding it: a waiting run then finds the inode
     * changed (see lock_take) instead of locking a file nobody will check */
    unlink(f->lock);
    close(f->lock_fd);
    f->lock_fd = -1;
}

static long lock_holder(int fd)
{
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    return n > 0 ? strtol(buf, NULL, 10) : 0;
}

/* flock on DIR.lock: released by the kernel when the holder dies, so a
 * lock file left by a killed run never blocks the next one. */
static ss_code lock_take(ss_folder *f, const char *flag, ss_error *err)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(f->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0)
            return ss_fail(err, SS_ERR_IO, "%s %s: cannot create the lock file %s: %s", flag,
                           f->out, f->lock, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            long pid = lock_holder(fd);
            close(fd);
            if (e == EWOULDBLOCK)
                return ss_fail(err, SS_ERR_USAGE, "%s %s: another run (pid %ld) is writing this "
                               "folder (lock %s); wait for it or choose another %s", flag,
                               f->out, pid, f->lock, flag);
            return ss_fail(err, SS_ERR_IO, "%s %s: cannot lock %s: %s", flag, f->out, f->lock,
                           strerror(e));
        }
        /* the holder we waited for may have unlinked the file: lock the new one */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(f->lock, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino) {
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
                close(fd);
                return ss_fail(err, SS_ERR_IO, "%s: cannot write the lock file", f->lock);
            }
            f->lock_fd = fd;
            return SS_OK;
        }
        close(fd);
    }
    return ss_fail(err, SS_ERR_IO, "%s: the lock file keeps changing under us", f->lock);
}

/* ---- begin ---- */

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

static int has_file(const char *dir, const char *name)
{
    char p[SS_FOLDER_PATH_CAP + 64];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return exists(p);
}

/* Removes DIR.old.* (a replaced result whose deletion a kill interrupted)
 * and *.tmp.* files inside the work folder (writes a kill interrupted). */
static void remove_leftovers(const ss_folder *f)
{
    char parent[SS_FOLDER_PATH_CAP], base[SS_FOLDER_PATH_CAP], p[2 * SS_FOLDER_PATH_CAP];
    snprintf(parent, sizeof parent, "%s", f->out);
    char *slash = strrchr(parent, '/');
    if (slash) {
        if (snprintf(base, sizeof base, "%s.old.", slash + 1) >= (int)sizeof base)
            return;
        if (slash == parent)
            slash[1] = '\0';
        else
            *slash = '\0';
    } else {
        if (snprintf(base, sizeof base, "%s.old.", parent) >= (int)sizeof base)
            return;
        snprintf(parent, sizeof parent, ".");
    }
    DIR *d = opendir(parent);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, base, strlen(base)) == 0) {
            snprintf(p, sizeof p, "%s/%s", parent, e->d_name);
            ss_remove_tree(p);
        }
    if (d)
        closedir(d);
    ss_manifest_remove_temporaries(f->work);
}

static ss_code check_out(ss_folder *f, const ss_folder_opts *o, const char *flag, ss_error *err)
{
    struct stat st;
    if (lstat(f->out, &st) != 0)
        return SS_OK;
    if (!S_ISDIR(st.st_mode))
        return ss_fail(err, SS_ERR_USAGE, "%s %s: exists and is not a folder", flag, f->out);
    if (dir_is_empty(f->out)) {
        f->replace = 1;
        return SS_OK;
    }
    int finished = has_file(f->out, SS_FOLDER_MANIFEST) || (o->marker && has_file(f->out, o->marker));
    if (!finished && has_file(f->out, SS_FOLDER_CHECKPOINT "/state.json"))
        return ss_fail(err, SS_ERR_USAGE, "%s %s: holds the checkpoint of an unfinished run of an "
                       "earlier slashscope (which kept it in DIR/checkpoint): finish it with that "
                       "version, or remove the folder", flag, f->out);
    if (!finished)
        return ss_fail(err, SS_ERR_USAGE, "%s %s: the folder holds files that are not a "
                       "slashscope result%s; it is not replaced, even with --force: choose "
                       "another %s", flag, f->out, o->marker ? "" : " of this command", flag);
    if (!o->force)
        return ss_fail(err, SS_ERR_USAGE, "%s %s: holds a finished result; add --force to "
                       "replace it whole, or choose another %s", flag, f->out, flag);
    f->replace = 1;
    return SS_OK;
}

/* A resumed run starts from its checkpoint alone: result files that a
 * failed final write left would otherwise survive into the new result. */
static void keep_only_checkpoint(const char *work)
{
    DIR *d = opendir(work);
    struct dirent *e;
    char p[SS_FOLDER_PATH_CAP + 300];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, SS_FOLDER_CHECKPOINT) == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", work, e->d_name);
        ss_remove_tree(p);
    }
    if (d)
        closedir(d);
}

static ss_code prepare_work(ss_folder *f, const ss_folder_opts *o, const char *flag,
                            ss_error *err)
{
    if (exists(f->work) && !is_dir_entry(f->work))
        return ss_fail(err, SS_ERR_USAGE, "%s: exists and is not a folder (remove it)", f->work);
    if (is_dir_entry(f->work)) {
        char ck[SS_FOLDER_PATH_CAP + 64];
        snprintf(ck, sizeof ck, "%s/%s/state.json", f->work, SS_FOLDER_CHECKPOINT);
        int has_ck = exists(ck);
        if (o->resume && has_ck) {
            f->resumed = 1;
            keep_only_checkpoint(f->work);
            return SS_OK;
        }
        if (has_ck && !o->force)
            return ss_fail(err, SS_ERR_USAGE, "%s %s: %s holds the checkpoint of an unfinished "
                           "run: add --resume to continue it, or --force to start afresh", flag,
                           f->out, f->work);
        if (ss_remove_tree(f->work) != 0)
            return ss_fail(err, SS_ERR_IO, "%s: cannot remove the leftover of an earlier run: %s",
                           f->work, strerror(errno));
    }
    if (mkdir(f->work, 0777) != 0)
        return ss_fail(err, SS_ERR_IO, "%s %s: cannot create %s: %s", flag, f->out, f->work,
                       strerror(errno));
    return SS_OK;
}

ss_code ss_folder_name(ss_folder *f, const char *out, const char *flag, ss_error *err)
{
    memset(f, 0, sizeof *f);
    f->lock_fd = -1;
    size_t n = out ? strlen(out) : 0;
    while (n > 1 && out[n - 1] == '/')
        n--; /* "DIR/" names DIR: DIR/.partial would be inside it */
    if (n == 0)
        return ss_fail(err, SS_ERR_USAGE, "%s is required", flag);
    if (n > SS_FOLDER_PATH_CAP - 200)
        return ss_fail(err, SS_ERR_USAGE, "%s: path longer than %d bytes", flag,
                       SS_FOLDER_PATH_CAP - 200);
    snprintf(f->out, sizeof f->out, "%.*s", (int)n, out);
    if (snprintf(f->work, sizeof f->work, "%s.partial", f->out) >= (int)sizeof f->work ||
        snprintf(f->lock, sizeof f->lock, "%s.lock", f->out) >= (int)sizeof f->lock)
        return ss_fail(err, SS_ERR_USAGE, "%s: path too long", flag);
    return SS_OK;
}

ss_code ss_folder_begin(ss_folder *f, const char *out, const ss_folder_opts *o, ss_error *err)
{
    const char *flag = o->flag ? o->flag : "--out";
    if (ss_folder_name(f, out, flag, err))
        return err->code;
    /* the parent must exist for the lock and the work folder */
    char parent[SS_FOLDER_PATH_CAP];
    snprintf(parent, sizeof parent, "%s", f->out);
    char *slash = strrchr(parent, '/');
    ss_code rc = SS_OK;
    if (slash && slash != parent) {
        *slash = '\0';
        rc = ss_mkdirs(parent, err);
    }
    if (!rc)
        rc = lock_take(f, flag, err);
    if (!rc)
        rc = check_out(f, o, flag, err);
    if (!rc)
        rc = prepare_work(f, o, flag, err);
    if (!rc)
        remove_leftovers(f);
    if (rc)
        lock_release(f);
    else /* synced together at the commit; a checkpoint commits by itself */
        ss_atomic_defer_sync(f->work, SS_FOLDER_CHECKPOINT);
    return rc;
}

/* ---- commit / abort ---- */

static void fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static void parent_of(const char *path, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, cap, ".");
    else if (slash == buf)
        slash[1] = '\0';
    else
        *slash = '\0';
}

ss_code ss_folder_commit(ss_folder *f, ss_error *err)
{
    if (f->lock_fd < 0)
        return ss_fail(err, SS_ERR_USAGE, "%s: this process does not hold the folder's "
                       "transaction (not begun, or already committed)", f->out);
    char p[SS_FOLDER_PATH_CAP + 64];
    snprintf(p, sizeof p, "%s/%s", f->work, SS_FOLDER_CHECKPOINT);
    ss_remove_tree(p);
    ss_manifest_remove_temporaries(f->work);
    ss_code rc = ss_manifest_write(f->work, err);
    if (rc)
        return rc;
    ss_atomic_defer_sync(NULL, NULL);
    if (ss_sync_tree(f->work) != 0)
        return ss_fail(err, SS_ERR_IO, "%s: cannot make the result durable: %s", f->work,
                       strerror(errno));
    if (f->replace && exists(f->out)) {
        /* swap the two folders in one step, then delete the old one */
        if (renameat2(AT_FDCWD, f->work, AT_FDCWD, f->out, RENAME_EXCHANGE) == 0) {
            if (ss_remove_tree(f->work) != 0)
                fprintf(stderr, "slashscope: warning: could not remove the replaced result, "
                        "now in %s\n", f->work);
        } else {
            /* no RENAME_EXCHANGE on this file system: move the old one aside first */
            snprintf(p, sizeof p, "%s.old.%ld", f->out, (long)getpid());
            if (rename(f->out, p) != 0)
                return ss_fail(err, SS_ERR_IO, "%s: cannot move the old result aside: %s",
                               f->out, strerror(errno));
            if (rename(f->work, f->out) != 0) {
                int e = errno;
                rename(p, f->out);
                return ss_fail(err, SS_ERR_IO, "%s: cannot rename the result into place: %s",
                               f->out, strerror(e));
            }
            ss_remove_tree(p);
        }
    } else if (rename(f->work, f->out) != 0) {
        return ss_fail(err, SS_ERR_IO, "%s: cannot rename %s into place: %s", f->out, f->work,
                       strerror(errno));
    }
    char parent[SS_FOLDER_PATH_CAP];
    parent_of(f->out, parent, sizeof parent);
    fsync_dir(parent);
    lock_release(f);
    return SS_OK;
}

void ss_folder_abort(ss_folder *f)
{
    if (f->lock_fd < 0)
        return; /* never begun, or already committed */
    ss_atomic_defer_sync(NULL, NULL);
    char ck[SS_FOLDER_PATH_CAP + 64];
    snprintf(ck, sizeof ck, "%s/%s/state.json", f->work, SS_FOLDER_CHECKPOINT);
    if (!exists(ck))
        ss_remove_tree(f->work);
    else
        ss_manifest_remove_temporaries(f->work);
    lock_release(f);
}
