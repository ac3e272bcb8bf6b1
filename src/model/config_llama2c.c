#include <math.h>
#include <string.h>

#include "model/config.h"

/* llama2.c's run.c hard-codes these: RMSNorm eps 1e-5, RoPE base 10000,
 * SwiGLU, adjacent-pair rotation, BOS = 1, EOS = 2. */
void ss_config_from_llama2c(const ss_llama2c *m, ss_config *cfg, double *rope_base)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->arch = SS_ARCH_LLAMA;
    cfg->n_layer = m->n_layers;
    cfg->d_model = m->dim;
    cfg->n_head = m->n_heads;
    cfg->n_kv_head = m->n_kv_heads;
    cfg->d_head = m->n_heads > 0 ? m->dim / m->n_heads : 0;
    cfg->d_ff = m->hidden_dim;
    cfg->vocab = m->vocab_size;
    cfg->ctx_len = m->seq_len;
    cfg->norm_eps = 1e-5;
    cfg->embed_scale = 1.0;
    cfg->act = SS_ACT_SILU;
    cfg->gated_mlp = 1;
    cfg->rotary_dim = cfg->d_head;
    cfg->attn_scale = cfg->d_head > 0 ? 1.0 / sqrt((double)cfg->d_head) : 1.0;
    cfg->tied_output = m->shared_classifier;
    cfg->pairing = SS_PAIR_INTERLEAVED;
    cfg->bos_id = 1;
    cfg->eos_id = 2;
    *rope_base = 10000.0;
}

ss_code ss_config_validate(const ss_config *c, const char *source, ss_error *err)
{
    if (c->n_layer < 1 || c->d_model < 1 || c->n_head < 1 || c->n_kv_head < 1 || c->d_head < 2 ||
        c->d_ff < 1 || c->vocab < 1 || c->ctx_len < 1)
        return ss_fail(err, SS_ERR_VALUE,
                       "%s: dimensions must be positive (layers %d, hidden %d, heads %d, kv heads "
                       "%d, head_dim %d, ffn %d, vocab %d, context %d)", source, c->n_layer,
                       c->d_model, c->n_head, c->n_kv_head, c->d_head, c->d_ff, c->vocab, c->ctx_len);
    if (c->n_head % c->n_kv_head)
        return ss_fail(err, SS_ERR_VALUE,
                       "%s: %d attention heads cannot be grouped over %d key/value heads", source,
                       c->n_head, c->n_kv_head);
    if (c->d_head % 2)
        return ss_fail(err, SS_ERR_VALUE, "%s: head_dim %d must be even for RoPE", source, c->d_head);
    if (c->rotary_dim && (c->rotary_dim > c->d_head || c->rotary_dim % 2))
        return ss_fail(err, SS_ERR_VALUE, "%s: rotary dimension %d must be even and at most head_dim %d",
                       source, c->rotary_dim, c->d_head);
    if (!(c->norm_eps > 0) || !isfinite(c->norm_eps))
        return ss_fail(err, SS_ERR_VALUE, "%s: RMSNorm epsilon %g must be positive", source,
                       c->norm_eps);
    return SS_OK;
}
