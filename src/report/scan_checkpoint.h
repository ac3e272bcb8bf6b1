/* A scan's checkpoints, as the scan's store (analysis/scan.h), in the work
 * folder of its result transaction (store/folder.h: DIR.partial/checkpoint/).
 * Every `checkpoint_every` prompts (and at least every `checkpoint_seconds`)
 * the sums so far, their sums of squares, counts and maps, and the prompts'
 * digests are saved through store/checkpoint.h (checksummed arrays, a
 * self-checked state.json committed by its rename). A resume is refused,
 * naming the field and both values, when the settings differ (model and
 * its weights' fingerprint, tokenizer, prompts, length, skip, maps) or
 * another slashscope version made it (recorded beside the settings, which
 * scan.json keeps and merge/compare match, so they carry no version); a
 * damaged or edited checkpoint, or one whose counts disagree with its
 * prompts, is refused too. */
#ifndef SS_REPORT_SCAN_CHECKPOINT_H
#define SS_REPORT_SCAN_CHECKPOINT_H

#include <stdint.h>

#include "analysis/scan.h"
#include "store/checkpoint.h"
#include "store/folder.h"

#define SS_SCAN_PATH_CAP 4096

typedef struct {
    ss_checkpoint ck;
    const ss_scan_opts *o;      /* resume, quiet, cadence, prompts */
    const ss_folder *folder;    /* the transaction the checkpoint lives in */
    int every;
    double every_s, last;
    int64_t last_done;
    ss_scan_store store;        /* hooks bound to this checkpoint */
} ss_scan_checkpoint;

/* Binds a checkpoint to the work folder of f; the scan uses &c->store. */
ss_code ss_scan_checkpoint_init(ss_scan_checkpoint *c, const ss_scan_opts *o, const ss_folder *f,
                                ss_error *err);

#endif
