/* The scan (SPEC.md section 2): every prompt of a source through the
 * forward pass with the scan observer (analysis/scan_acc.h), no logits, and
 * the result folder written at the end (analysis/scan_result.h).
 *
 * The result is written as one transaction (store/folder.h): into
 * DIR.partial/, renamed to DIR when complete; a finished DIR is replaced
 * only with `force`, and two runs never share DIR (its lock).
 *
 * Checkpoints: every `checkpoint_every` prompts (and at least every
 * `checkpoint_seconds`), DIR.partial/checkpoint/ receives the sums so far
 * (store/checkpoint.h: checksummed arrays, a self-checked state.json). The
 * state holds the settings (model with its weights' fingerprint, RoPE
 * angles, source and its SHA-256, tokenizer, length, skip, maps): a resume
 * with other settings is refused, naming the field and both values; a
 * damaged or edited checkpoint, or one whose counts disagree with its
 * prompts, is refused too. A resumed scan continues from the saved float64
 * sums in the same order, so it ends with the numbers of an uninterrupted
 * run, bit for bit. */
#ifndef SS_ANALYSIS_SCAN_H
#define SS_ANALYSIS_SCAN_H

#include <cjson/cJSON.h>

#include "analysis/prompts.h"
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
    int force;                  /* replace a finished result in out_dir (store/folder.h) */
    int checkpoint_every;       /* prompts; 0: 8 */
    double checkpoint_seconds;  /* 0: 300 */
    int block_rows, allow_long, quiet, threads;
    const char *out_dir;
} ss_scan_opts;

ss_code ss_scan_run(const ss_scan_opts *o, ss_error *err);

/* The "model" object scan.json records (config and the weights'
 * fingerprint, model/fingerprint.h), for checking that a scan named by
 * --sdh or --maps sdh:DIR is of the model at hand. NULL on error. */
cJSON *ss_scan_model_json(const ss_model *m, const char *path, ss_error *err);

#endif
