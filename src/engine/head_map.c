#include "engine/head_map.h"

#include <string.h>

typedef struct {
    int layer, head, n;
    float *map;
} capture;

static ss_code copy_block(void *ctx, int layer, int head, int row0, int nrows, const float *p,
                          int64_t ld)
{
    capture *c = ctx;
    if (layer != c->layer || head != c->head)
        return SS_OK;
    for (int r = 0; r < nrows; r++)
        memcpy(c->map + (int64_t)(row0 + r) * c->n, p + r * ld,
               (size_t)(row0 + r + 1) * sizeof(float));
    return SS_OK;
}

ss_code ss_head_map(const ss_model *m, const int32_t *ids, int n, int layer, int head,
                    const ss_rope *rope, int allow_long, ss_progress *progress, float *out,
                    ss_error *err)
{
    ss_forward_opts o = {.rope = rope, .allow_long = allow_long, .progress = progress};
    return ss_head_map_opts(m, ids, n, layer, head, &o, out, err);
}

ss_code ss_head_map_opts(const ss_model *m, const int32_t *ids, int n, int layer, int head,
                         const ss_forward_opts *base, float *out, ss_error *err)
{
    const ss_config *c = &m->cfg;
    if (layer < 0 || layer >= c->n_layer)
        return ss_fail(err, SS_ERR_USAGE, "layer %d is out of range: the model has layers 0..%d",
                       layer, c->n_layer - 1);
    if (head < 0 || head >= c->n_head)
        return ss_fail(err, SS_ERR_USAGE, "head %d is out of range: the model has heads 0..%d",
                       head, c->n_head - 1);
    if (n < 1)
        return ss_fail(err, SS_ERR_USAGE, "the sequence is empty: give at least one token id");
    memset(out, 0, (size_t)n * (size_t)n * sizeof *out);
    capture cap = {layer, head, n, out};
    ss_observer obs = {.ctx = &cap, .on_probs = copy_block};
    ss_forward_opts o = *base;
    o.n_layers = layer + 1;
    o.observers = &obs;
    o.n_observers = 1;
    o.last_logits_only = 0;
    return ss_forward(m, ids, n, &o, NULL, err);
}
