/* The scan (SPEC.md section 2): every prompt of a source through the
 * forward pass with the scan analysis (analysis/scan_analysis.h), one pass
 * per prompt through the analysis driver, no logits; the result is an
 * ss_scan_result in memory (analysis/scan_result.h). Files are the report
 * layer's: the folder and its checkpoints (report/scan_folder.h,
 * report/scan_checkpoint.h). A resumed scan continues from the saved
 * float64 sums in the same order, so it ends with the numbers of an
 * uninterrupted run, bit for bit. */
#ifndef SS_ANALYSIS_SCAN_H
#define SS_ANALYSIS_SCAN_H

#include "analysis/analysis.h"
#include "analysis/prompts.h"
#include "analysis/scan_acc.h"
#include "analysis/scan_result.h"
#include "common/error.h"
#include "model/model.h"

typedef enum {
    SS_MAPS_NONE,
    SS_MAPS_LIST, /* the heads flagged in map_heads */
    SS_MAPS_SDH   /* every head kept, the scan's own SDHs written at the end */
} ss_maps_mode;

typedef struct ss_scan_store ss_scan_store;

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
    double kappa_small, kappa_large; /* the SDH regimes' κ (sdh.csv, --maps sdh); 0: the paper's */
    int checkpoint_every;       /* prompts; 0: 8 */
    double checkpoint_seconds;  /* 0: 300 */
    int block_rows, allow_long, quiet, threads;
    const char *out_dir;        /* ss_scan_collect: NULL for no checkpoints */
    /* after every prompt (done, expected or 0); non-zero stops with SS_STOP */
    int (*on_prompt)(void *user, int64_t done, int64_t total);
    void *on_prompt_user;
    /* where the sums of the scan under way are kept (checkpoints), or NULL */
    const ss_scan_store *store;
    /* A run shared with other processes (analysis/analysis.h; dist/dist.h):
     * handed to the driver, and its finish called after the last prompt,
     * before the result is built (SS_STOP there: no result on this one). */
    const ss_analysis_share *share;
    /* Interventions in the forward pass (analysis/analysis.h's fields of the
     * same names; issue 14), and their record for scan.json's settings
     * (copied there; NULL: none, and nothing is recorded). */
    ss_code (*edit_heads)(void *ctx, int layer, int n, float *att, ss_error *err);
    void *edit_ctx;
    const struct ss_head_rope *head_rope;
    const cJSON *interventions;
} ss_scan_opts;

/* What a checkpoint holds of a scan under way: the sums, and the SHA-256
 * of every prompt's ids so far (little-endian int32; text and id sources:
 * merge uses them to refuse a prompt counted twice). */
typedef struct {
    ss_scan_acc *acc;
    cJSON *digests;             /* array of hex strings; NULL for synthetic sources */
} ss_scan_state;

/* Checkpoints of a scan under way (report/scan_checkpoint.h keeps them in
 * the result's work folder). start: once the accumulator exists, before the
 * first prompt; a resume loads the saved sums and digests into *st, moves
 * o->prompts to where they were and sets *wall_before to the seconds
 * already spent. after_prompt: after every prompt, `done` prompts into this
 * run, `wall` seconds in all. */
struct ss_scan_store {
    void *ctx;
    ss_code (*start)(void *ctx, ss_scan_state *st, const cJSON *settings, double *wall_before,
                     ss_error *err);
    ss_code (*after_prompt)(void *ctx, const ss_scan_state *st, const cJSON *settings,
                            int64_t done, double wall, ss_error *err);
};

/* Everything a resumed scan must share with the one it continues (model
 * with its weights' fingerprint, RoPE angles, prompt source with its
 * SHA-256, first index and tokenizer, length, skip, maps): the settings part
 * of scan.json. NULL when out of memory. */
cJSON *ss_scan_settings_json(const ss_scan_opts *o);

/* The "model" object scan.json records (config and the weights'
 * fingerprint, model/fingerprint.h), for checking that a scan named by
 * --sdh or --maps sdh:DIR is of the model at hand. NULL on error. */
cJSON *ss_scan_model_json(const ss_model *m, const char *path, ss_error *err);

/* Runs the scan through the analysis driver into *out (scan.json's fields in
 * out->meta), with o->store's checkpoints when given. Stops with SS_STOP
 * between layers after ss_interrupt(), or when on_prompt returns non-zero.
 * The scan into its folder, with checkpoints: ss_scan_run in
 * report/scan_folder.h. */
ss_code ss_scan_collect(const ss_scan_opts *o, ss_scan_result *out, ss_error *err);

#endif
