/* The fingerprint of a model's weights, recorded in every result folder so
 * that results of different weights (a base model and its fine-tune share
 * every config field) are never merged, compared or resumed as one.
 *
 * Digest: XXH3-128 (xxhash.h compiled inline, no library linked) of every
 * tensor's bytes as stored, in pieces of 64 MiB hashed in parallel; then
 * XXH3-128 over, for each tensor in name order, its name, dtype, shape,
 * byte count and piece digests. It depends only on the tensors (not on how
 * they are sharded or on file metadata) and reads every weight byte once:
 * on a warm page cache ~10 GB/s per core, from disk the disk's speed
 * (docs/results.md has the measurements). A non-cryptographic hash is
 * enough: it guards against mix-ups, not against someone forging weights to
 * collide. */
#ifndef SS_MODEL_FINGERPRINT_H
#define SS_MODEL_FINGERPRINT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "common/error.h"
#include "io/tensor.h"

struct ss_model;

typedef struct {
    char digest[33]; /* 32 lowercase hex digits */
    int64_t tensors;
    uint64_t bytes;
    double seconds;  /* what computing it took */
} ss_weights_fingerprint;

/* Of any tensor set (the model's, or views a benchmark builds). */
ss_code ss_tensors_fingerprint(const ss_tensor *t, int n, ss_weights_fingerprint *fp,
                               ss_error *err);
/* Computed once per model opened from files and kept in it (fp->seconds:
 * that first computation's time); a model made from one (m->source) gets
 * its source's. Thread-safe: the first computation is under a lock. */
ss_code ss_model_fingerprint(const struct ss_model *m, ss_weights_fingerprint *fp, ss_error *err);

/* *dst = *src, field for field, without racing a first ss_model_fingerprint
 * of src on another thread (a model derived from src shares its tensors). */
void ss_model_copy_struct(struct ss_model *dst, const struct ss_model *src);

/* {"algorithm": "xxh3-128", "digest", "tensors", "bytes"} (no timing, so it
 * compares equal across runs). */
cJSON *ss_weights_fingerprint_json(const ss_weights_fingerprint *fp);

#endif
