/* The scan (SPEC.md section 2): every prompt of a source through the
 * forward pass with the scan observer (analysis/scan_acc.h), no logits, and
 * the result folder written at the end (analysis/scan_result.h).
 *
 * Checkpoints: every `checkpoint_every` prompts (and at least every
 * `checkpoint_seconds`), DIR/checkpoint/ receives the sums so far as
 * generation-numbered .npy files and then state.json naming that
 * generation; the rename of state.json is the commit, so a kill at any
 * moment leaves the previous complete checkpoint. state.json also holds the
 * settings (model, RoPE angles, source and its SHA-256, length, skip, maps):
 * a resume with other settings is refused, naming the field. A resumed scan
 * continues from the saved float64 sums in the same order, so it ends with
 * the numbers of an uninterrupted run, bit for bit. The checkpoint folder is
 * removed once the results are written. */
#ifndef SS_ANALYSIS_SCAN_H
#define SS_ANALYSIS_SCAN_H

#include "analysis/prompts.h"
#include "analysis/scan_result.h"
#include "common/error.h"
#include "model/model.h"

typedef enum {
    SS_MAPS_NONE,
    SS_MAPS_LIST, /* the heads flagged in map_heads */
    SS_MAPS_SDH   /* every head kept, the scan's own SDHs written at the end */
} ss_maps_mode;

typedef struct {
    const ss_model *model;
    const char *model_path;     /* as recorded in scan.json */
    const ss_rope *rope;        /* NULL: the model's own */
    ss_prompts *prompts;        /* opened; the scan reads it to the end */
    const ss_prompt_opts *source; /* what it was opened with, for the record */
    int len, skip;
    ss_maps_mode maps;
    const unsigned char *map_heads; /* [L * H] for SS_MAPS_LIST */
    const char *maps_spec;      /* the --maps value as given, for the record */
    int map_size;
    int resume;
    int checkpoint_every;       /* prompts; 0: 8 */
    double checkpoint_seconds;  /* 0: 300 */
    int block_rows, allow_long, quiet, threads;
    const char *out_dir;
    /* after every prompt (prompts done, expected or 0); non-zero stops the
     * scan with SS_STOP */
    int (*on_prompt)(void *user, int64_t done, int64_t total);
    void *on_prompt_user;
} ss_scan_opts;

/* Runs the scan and writes the result folder out_dir (required), with
 * checkpoints there. ss_interrupt() stops it (SS_STOP) at the next layer,
 * leaving the last checkpoint. */
ss_code ss_scan_run(const ss_scan_opts *o, ss_error *err);
/* The same pass into *out (scan.json's fields in out->meta), no files:
 * out_dir must be NULL and resume 0. */
ss_code ss_scan_collect(const ss_scan_opts *o, ss_scan_result *out, ss_error *err);

#endif
