/* A scan's checkpoints in its folder (docs/scan.md), as the scan's store
 * (analysis/scan.h): every `checkpoint_every` prompts (and at least every
 * `checkpoint_seconds`), DIR/checkpoint/ receives the sums so far as
 * generation-numbered .npy files and then state.json naming that
 * generation; the rename of state.json is the commit, so a kill at any
 * moment leaves the previous complete checkpoint. state.json also holds the
 * scan's settings: a resume with other settings is refused, naming the
 * field. Without resume an existing checkpoint is refused, not overwritten.
 * (Kept small and separate for the storage layer to take over.) */
#ifndef SS_REPORT_SCAN_CHECKPOINT_H
#define SS_REPORT_SCAN_CHECKPOINT_H

#include <stdint.h>

#include "analysis/scan.h"

#define SS_SCAN_PATH_CAP 4096

typedef struct {
    char dir[SS_SCAN_PATH_CAP]; /* OUT/checkpoint */
    int64_t generation;
    const ss_scan_opts *o;      /* out_dir, resume, quiet, cadence, prompts */
    int every;
    double every_s, last;
    int64_t last_done;
    ss_scan_store store;        /* hooks bound to this checkpoint */
} ss_scan_checkpoint;

/* Binds a checkpoint to o->out_dir; the scan uses &c->store. */
ss_code ss_scan_checkpoint_init(ss_scan_checkpoint *c, const ss_scan_opts *o, ss_error *err);
/* Removes the checkpoint once the results are written: the state first (so
 * a kill half-way leaves no checkpoint pointing at removed arrays), then
 * every array and temporary file of ours, including those a killed run
 * left behind. */
void ss_scan_checkpoint_remove(const ss_scan_checkpoint *c);

#endif
