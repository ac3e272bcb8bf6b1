/* Output files are written to "<path>.tmp.<pid>" and renamed into place on
 * success, so a killed run never leaves a half-written result behind. */
#ifndef SS_IO_ATOMIC_FILE_H
#define SS_IO_ATOMIC_FILE_H

#include <stdio.h>

#include "common/error.h"

typedef struct {
    FILE *fp;
    char path[4096];
    char tmp[4120];
} ss_atomic_file;

ss_code ss_atomic_open(ss_atomic_file *f, const char *path, ss_error *err);
/* Flushes, fsyncs and renames; on any earlier write error removes the temp
 * file and reports it. Always closes. A file inside the folder named by
 * ss_atomic_defer_sync is not fsynced here. */
ss_code ss_atomic_commit(ss_atomic_file *f, ss_error *err);

/* Files written under dir (not under dir/keep) skip their own fsync: the
 * caller makes them durable together before it publishes dir, with
 * ss_sync_tree (store/folder.h's commit: one transaction's files). One
 * folder per process; NULL ends it. keep names a subfolder whose files
 * must be durable one by one (a checkpoint that commits by its own
 * rename). */
void ss_atomic_defer_sync(const char *dir, const char *keep);
/* Whether a file at path skips its own fsync now. */
int ss_atomic_sync_deferred(const char *path);

/* Makes every file under dir and dir itself durable: 0, or -1 with errno. */
int ss_sync_tree(const char *dir);
void ss_atomic_abort(ss_atomic_file *f);

/* Whole-buffer convenience. */
ss_code ss_write_file_atomic(const char *path, const void *data, size_t n, ss_error *err);
/* Reads a whole file (NUL-terminated for convenience); max_bytes guards
 * against hostile sizes. */
ss_code ss_read_file(const char *path, size_t max_bytes, char **data, size_t *n, ss_error *err);
/* The same for inputs a user may pipe in (--file, --ids-file): a regular
 * file, or a pipe, FIFO or terminal read once to its end (at most
 * max_bytes). Folders are refused. */
ss_code ss_read_input(const char *path, size_t max_bytes, char **data, size_t *n, ss_error *err);
/* mkdir -p. */
ss_code ss_mkdirs(const char *path, ss_error *err);

#endif
