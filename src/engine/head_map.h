/* One query head's full attention map [n, n] from a forward pass that stops
 * after that head's layer: what `slashscope attn` writes and ss_attention
 * returns. The only place an N x N map is ever held, at the caller's
 * request. */
#ifndef SS_ENGINE_HEAD_MAP_H
#define SS_ENGINE_HEAD_MAP_H

#include "engine/forward.h"

/* out [n, n] (query, key) is zeroed first, so entries above the diagonal
 * are 0. rope NULL: the model's own; progress may be NULL. */
ss_code ss_head_map(const ss_model *m, const int32_t *ids, int n, int layer, int head,
                    const ss_rope *rope, int allow_long, ss_progress *progress, float *out,
                    ss_error *err);
/* The same with the pass's options taken from base (rope, allow_long,
 * progress, the head intervention; its layers and observers are replaced). */
ss_code ss_head_map_opts(const ss_model *m, const int32_t *ids, int n, int layer, int head,
                         const ss_forward_opts *base, float *out, ss_error *err);

#endif
