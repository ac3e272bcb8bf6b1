/* Per-head RoPE frequency removal (issue 14, --head-rope-remove): chosen
 * query heads score with some frequencies left unrotated, exactly as the
 * model-wide removal (ss_rope_remove) would do for them, while every other
 * head runs the pass's own schedule. The engine rotates a private copy of
 * such a head's pre-RoPE query and of its key/value head's keys (a key head
 * is shared under GQA: the other query heads keep the rotated original).
 * Plugs into ss_forward_opts.head_rope. */
#ifndef SS_ENGINE_HEAD_ROPE_H
#define SS_ENGINE_HEAD_ROPE_H

#include "common/error.h"
#include "model/rope.h"

typedef struct {
    int layer, head;                        /* a query head */
    unsigned char removed[SS_ROPE_MAX_FREQ]; /* 1: frequency f (0-based) unrotated */
} ss_head_rope_entry;

typedef struct ss_head_rope {
    int n;
    ss_head_rope_entry *e; /* at most one entry per head */
} ss_head_rope;

/* Removes the 1-based frequencies l[0..n_l) for head (layer, head) (a head
 * named twice gets the union). n_freq: the schedule's F, for the check. */
ss_code ss_head_rope_add(ss_head_rope *hr, int layer, int head, const int *l, int n_l,
                         int n_freq, ss_error *err);
void ss_head_rope_free(ss_head_rope *hr);

/* The entry of (layer, head), or NULL. */
const ss_head_rope_entry *ss_head_rope_find(const ss_head_rope *hr, int layer, int head);

#endif
