#include "engine/head_ablate.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

ss_code ss_head_ablation_init(ss_head_ablation *a, const ss_config *c, ss_error *err)
{
    memset(a, 0, sizeof *a);
    a->n_layer = c->n_layer;
    a->n_head = c->n_head;
    a->d_head = c->d_head;
    a->mode = ss_calloc((size_t)c->n_layer * c->n_head, 1, "ablation", err);
    return a->mode ? SS_OK : SS_ERR_NOMEM;
}

void ss_head_ablation_free(ss_head_ablation *a)
{
    free(a->mode);
    memset(a, 0, sizeof *a);
}

/* One head's columns of att [n, ld]: zero, or every row set to the column
 * means (summed in double: n equal values give that value exactly). */
static void ablate_head(float *att, int64_t ld, int n, int dh, int mode)
{
    if (mode == SS_ABLATE_ZERO) {
        for (int i = 0; i < n; i++)
            memset(att + i * ld, 0, (size_t)dh * sizeof *att);
        return;
    }
    for (int j = 0; j < dh; j++) {
        double s = 0;
        for (int i = 0; i < n; i++)
            s += att[i * ld + j];
        float mean = (float)(s / n);
        for (int i = 0; i < n; i++)
            att[i * ld + j] = mean;
    }
}

ss_code ss_head_ablation_edit(void *ctx, int layer, int n, float *att, ss_error *err)
{
    (void)err;
    const ss_head_ablation *a = ctx;
    if (!a || !a->n || layer < 0 || layer >= a->n_layer)
        return SS_OK;
    int64_t ld = (int64_t)a->n_head * a->d_head;
    for (int h = 0; h < a->n_head; h++) {
        int mode = a->mode[(size_t)layer * a->n_head + h];
        if (mode)
            ablate_head(att + (int64_t)h * a->d_head, ld, n, a->d_head, mode);
    }
    return SS_OK;
}
