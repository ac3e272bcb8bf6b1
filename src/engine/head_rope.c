#include "engine/head_rope.h"

#include <stdlib.h>
#include <string.h>

const ss_head_rope_entry *ss_head_rope_find(const ss_head_rope *hr, int layer, int head)
{
    for (int i = 0; hr && i < hr->n; i++)
        if (hr->e[i].layer == layer && hr->e[i].head == head)
            return &hr->e[i];
    return NULL;
}

ss_code ss_head_rope_add(ss_head_rope *hr, int layer, int head, const int *l, int n_l,
                         int n_freq, ss_error *err)
{
    for (int i = 0; i < n_l; i++)
        if (l[i] < 1 || l[i] > n_freq)
            return ss_fail(err, SS_ERR_USAGE, "frequency index %d is outside 1..%d", l[i],
                           n_freq);
    ss_head_rope_entry *e = (ss_head_rope_entry *)ss_head_rope_find(hr, layer, head);
    if (!e) {
        ss_head_rope_entry *grown = realloc(hr->e, (size_t)(hr->n + 1) * sizeof *grown);
        if (!grown)
            return ss_fail(err, SS_ERR_NOMEM, "per-head RoPE removal: out of memory");
        hr->e = grown;
        e = &hr->e[hr->n++];
        memset(e, 0, sizeof *e);
        e->layer = layer;
        e->head = head;
    }
    for (int i = 0; i < n_l; i++)
        e->removed[l[i] - 1] = 1;
    return SS_OK;
}

void ss_head_rope_free(ss_head_rope *hr)
{
    free(hr->e);
    memset(hr, 0, sizeof *hr);
}
