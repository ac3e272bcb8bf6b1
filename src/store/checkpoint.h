/* Checkpoints of a long run, in DIR.partial/checkpoint/ (store/folder.h).
 *
 * A save writes each array as NAME.<generation>.npy, then state.json naming
 * that generation, every array's file and SHA-256, the caller's state
 * object, and the SHA-256 of all of it ("sha256": of the unformatted JSON
 * without that field). The rename of state.json is the commit: a kill at
 * any moment leaves the previous complete checkpoint. A load checks the
 * state's own digest (a hand-edited record is refused), every array's
 * digest, type and shape; the caller then checks what the numbers must
 * satisfy (counts against prompts, finite sums). */
#ifndef SS_STORE_CHECKPOINT_H
#define SS_STORE_CHECKPOINT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "common/error.h"
#include "io/npy.h"

typedef struct {
    const char *name;   /* file stem, e.g. "slash_sum" */
    ss_npy_type type;
    int ndim;           /* 1..3 */
    int64_t shape[3];
    void *data;         /* save: written from; load: filled (the caller's buffer of this shape) */
} ss_ck_array;

typedef struct {
    char dir[4096];
    int64_t generation;
} ss_checkpoint;

/* dir: the run's work folder (ss_folder_file(f, NULL)); the checkpoint lives
 * in its checkpoint/ subfolder. */
ss_code ss_checkpoint_init(ss_checkpoint *c, const char *work_dir, ss_error *err);
/* A checkpoint in exactly `dir` (a distributed run's per-rank checkpoints
 * inside the work folder's checkpoint/, dist/dist.h). */
ss_code ss_checkpoint_init_dir(ss_checkpoint *c, const char *dir, ss_error *err);

ss_code ss_checkpoint_save(ss_checkpoint *c, const ss_ck_array *a, int n, const cJSON *state,
                           ss_error *err);

/* *found = 0 when there is no checkpoint. Otherwise fills the arrays and
 * *state (owned by the caller) with what was saved. */
ss_code ss_checkpoint_load(ss_checkpoint *c, ss_ck_array *a, int n, cJSON **state, int *found,
                           ss_error *err);

/* The SHA-256 of a JSON object without its "sha256" member, printed
 * unformatted (the digest state.json and scan.json carry of themselves). */
ss_code ss_json_self_digest(const cJSON *obj, char hex[65], ss_error *err);

#endif
