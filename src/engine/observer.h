/* Observers watch a forward pass without it ever holding an attention map.
 *
 * Contract:
 *  - on_layer: once per layer, from the calling thread, before attention:
 *    h is the attention input [n, d_model] (after the layer's pre-norm, or
 *    the residual stream itself where there is none: OLMo 2); q [n, n_head *
 *    d_head] and k [n, n_kv_head * d_head] are the pre-RoPE query and key:
 *    what RoPE rotates, bias included and after q_norm / k_norm where the
 *    model has them, every head in canonical half pairing (model/rope.h;
 *    with partial rotary only dims 0..rotary_dim-1 are rotated).
 *    Row i of head x starts at q + i * n_head * d_head + x * d_head.
 *  - on_probs: each block of post-softmax probabilities of one query head:
 *    rows [row0, row0 + nrows), row r at p + r * ld holds keys 0..row0 + r
 *    (entries beyond the diagonal are undefined: read only j <= i). Calls
 *    for one (layer, head) come from a single thread in increasing row0;
 *    calls for different heads may run concurrently (make per-head state).
 *  - on_layer_done: once per layer after all heads, from the calling thread.
 * Any callback may be NULL. Every callback returns an ss_code:
 *  - SS_OK: go on;
 *  - SS_STOP: end the pass here; not an error. ss_forward returns SS_STOP
 *    without a message and computes no logits (the layers already run were
 *    observed in full; after an on_probs SS_STOP the layer's other heads
 *    still run, the pass ends after it);
 *  - any other code: the pass fails with it. on_layer / on_layer_done fill
 *    err with the reason (if they leave it empty the pass names the layer);
 *    on_probs runs on worker threads and has no err: the pass names the layer
 *    and head, so an observer with more to say keeps it and reports it from
 *    on_layer_done. */
#ifndef SS_ENGINE_OBSERVER_H
#define SS_ENGINE_OBSERVER_H

#include <stdint.h>

#include "common/error.h"

typedef struct ss_observer {
    void *ctx;
    ss_code (*on_layer)(void *ctx, int layer, int n, const float *h, const float *q,
                        const float *k, ss_error *err);
    ss_code (*on_probs)(void *ctx, int layer, int head, int row0, int nrows, const float *p,
                        int64_t ld);
    ss_code (*on_layer_done)(void *ctx, int layer, ss_error *err);
} ss_observer;

#endif
