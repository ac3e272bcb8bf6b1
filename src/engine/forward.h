/* The prefill forward pass, fp32 with fp32-or-better reductions, BLAS for
 * every projection, causal attention one query head and one block of rows
 * at a time. */
#ifndef SS_ENGINE_FORWARD_H
#define SS_ENGINE_FORWARD_H

#include <stdint.h>

#include "common/progress.h"
#include "engine/observer.h"
#include "model/model.h"

typedef struct {
    const ss_rope *rope;       /* NULL: the model's own schedule */
    int block_rows;            /* query rows per attention block (0: 64) */
    int n_layers;              /* run only the first n layers (0: all); no logits then */
    int allow_long;            /* permit n > the model's context length */
    int last_logits_only;      /* logits is [1, vocab]: the last position only */
    const ss_observer *observers;
    int n_observers;
    ss_progress *progress;     /* updated after every layer (total = layers run), or NULL */
    /* An intervention on the heads' outputs before W_O (engine/head_ablate.h):
     * called once per layer with att [n, n_head * d_head] (head x in
     * columns x * d_head ..), which it may change in place. NULL: none. */
    ss_code (*edit_heads)(void *ctx, int layer, int n, float *att, ss_error *err);
    void *edit_ctx;
    /* Per-head RoPE frequency removal (engine/head_rope.h), or NULL. */
    const struct ss_head_rope *head_rope;
    /* A head left over (n_head not a multiple of the threads) is shared by
     * a team of threads when n * n * d_head >= team_min (0: 2^24, where a
     * team pays off); tests set 1 to run the team path on small models. */
    int64_t team_min;
} ss_forward_opts;

/* Runs tokens ids[0..n) and writes logits [n, vocab] (or [1, vocab] with
 * last_logits_only) when logits != NULL.
 * Checks every id against the vocabulary and n against the context. */
ss_code ss_forward(const ss_model *m, const int32_t *ids, int n, const ss_forward_opts *opts,
                   float *logits, ss_error *err);

/* Bytes ss_forward allocates for n tokens (its workspace: the arena's
 * buffers, from the same sizes it maps, with their alignment and guard
 * gaps, and the RoPE tables; the logits and the observers' buffers are the
 * caller's). ss_forward refuses a run whose workspace exceeds the memory
 * available (common/mem.h). */
uint64_t ss_forward_bytes(const ss_config *c, int n, int block, int threads);

/* Sets the thread count for OpenMP and OpenBLAS (0: leave as is). */
void ss_set_threads(int n);

/* Causal softmax attention probabilities of one head from pre-RoPE q [n,
 * d_head] and k [n, d_head] (rows at stride ldq/ldk), rotated with `rope`,
 * scaled by `scale`, handed block by block to cb (same block contract as
 * on_probs, with head = the given tag). For re-scoring q/k under another
 * RoPE schedule without rerunning the model (band ablation). */
typedef void (*ss_probs_cb)(void *ctx, int head, int row0, int nrows, const float *p,
                            int64_t ld);
ss_code ss_head_probs(const float *q, int64_t ldq, const float *k, int64_t ldk, int n,
                      int d_head, const ss_rope *rope, double scale, int block_rows,
                      int head_tag, ss_probs_cb cb, void *ctx, ss_error *err);

#endif
