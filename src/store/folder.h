/* Result folders written as one transaction (docs/results.md).
 *
 * A run that writes --out DIR works in DIR.partial/ next to it, under the
 * lock DIR.lock (flock, holding the writer's pid), and renames the finished
 * folder into place in one step: a reader never sees half a result, a
 * failed run leaves the previous result untouched, and a replaced result
 * (--force) keeps none of its old files. An existing finished result is
 * refused without --force, naming it.
 *
 * DIR.partial/checkpoint/ is where a resumable run keeps its checkpoint
 * (store/checkpoint.h): a failed or killed run leaves DIR.partial/ behind
 * only when it holds one, for --resume. Every commit writes SHA256SUMS (the
 * `sha256sum` format, so `cd DIR && sha256sum -c SHA256SUMS` checks it by
 * hand) listing every file of the result. */
#ifndef SS_STORE_FOLDER_H
#define SS_STORE_FOLDER_H

#include "common/error.h"

#define SS_FOLDER_PATH_CAP 4096
#define SS_FOLDER_CHECKPOINT "checkpoint"
#define SS_FOLDER_MANIFEST "SHA256SUMS"

typedef struct {
    int force;          /* replace a finished result in DIR */
    int resume;         /* keep DIR.partial/ and its checkpoint */
    const char *marker; /* the file that marks a finished result of this command, e.g.
                           "scan.json" (results made before SHA256SUMS existed) */
    const char *flag;   /* how the user names DIR in messages, e.g. "--out" */
} ss_folder_opts;

typedef struct {
    char out[SS_FOLDER_PATH_CAP];  /* DIR */
    char work[SS_FOLDER_PATH_CAP]; /* DIR.partial: where the run writes */
    char lock[SS_FOLDER_PATH_CAP]; /* DIR.lock */
    int lock_fd;                   /* -1 when not held */
    int replace;                   /* DIR exists and is replaced on commit */
    int resumed;                   /* begin kept an existing DIR.partial */
} ss_folder;

/* Takes the lock, checks DIR (a finished result needs force; something that
 * is not a slashscope result is never replaced), and prepares DIR.partial:
 * kept with resume, else a leftover holding a checkpoint is refused (unless
 * force) and one without is removed. Temporary files (*.tmp.*) of killed
 * runs are removed from it. */
ss_code ss_folder_begin(ss_folder *f, const char *out, const ss_folder_opts *o, ss_error *err);

/* Only fills f's paths for `out` (DIR, DIR.partial, DIR.lock), touching
 * nothing on disk and holding no lock: what the other processes of a
 * distributed run, whose rank 0 holds the transaction, write into.
 * Commit and abort of such an f do nothing. */
ss_code ss_folder_name(ss_folder *f, const char *out, const char *flag, ss_error *err);

/* The path of `name` inside the work folder (NULL name: the folder). */
const char *ss_folder_file(const ss_folder *f, const char *name, char *buf, size_t cap);

/* Removes the checkpoint and temporary files, writes SHA256SUMS, renames the
 * work folder into place (exchanging it with a replaced result, which is
 * then deleted) and releases the lock. An f that does not hold the lock
 * (ss_folder_name) is refused. */
ss_code ss_folder_commit(ss_folder *f, ss_error *err);

/* After a failure: the work folder is kept only when it holds a committed
 * checkpoint (for --resume), else removed; the lock is released. */
void ss_folder_abort(ss_folder *f);

/* Deletes a folder tree without following links. 0 on success. */
int ss_remove_tree(const char *path);

#endif
