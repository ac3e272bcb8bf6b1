/* Head ablation (issue 14, --ablate): chosen heads' outputs (the attention
 * output of the head, before W_O) replaced by zero or by their mean over
 * the prompt's positions. Plugs into ss_forward_opts.edit_heads. */
#ifndef SS_ENGINE_HEAD_ABLATE_H
#define SS_ENGINE_HEAD_ABLATE_H

#include "common/error.h"
#include "model/config.h"

enum { SS_ABLATE_NONE = 0, SS_ABLATE_ZERO = 1, SS_ABLATE_MEAN = 2 };

typedef struct {
    int n_layer, n_head, d_head;
    unsigned char *mode; /* [L * H]: SS_ABLATE_* per head */
    int n;               /* heads ablated */
} ss_head_ablation;

ss_code ss_head_ablation_init(ss_head_ablation *a, const ss_config *c, ss_error *err);
void ss_head_ablation_free(ss_head_ablation *a);
/* The ss_forward_opts.edit_heads callback (ctx: an ss_head_ablation). */
ss_code ss_head_ablation_edit(void *ctx, int layer, int n, float *att, ss_error *err);

#endif
