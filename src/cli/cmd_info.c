/* slashscope info MODEL [--json] */
#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "engine/blas.h"
#include "model/describe.h"
#include "model/model.h"

static const char usage[] =
    "usage: slashscope info MODEL [--json]\n\n"
    "Prints a model's architecture, dimensions, weight dtype, RoPE base and scaling, the final\n"
    "per-frequency angles theta_l (radians per token, l = 1 is the highest frequency) and the\n"
    "checkpoint's rotary pairing. MODEL is a Hugging Face folder, a GGUF file or a llama2.c\n"
    "checkpoint. --json prints the same as one JSON object (schema: docs/cli.md).\n";

static void print_scaling(const ss_rope_scaling *s)
{
    printf("%s", ss_scaling_name(s->type));
    switch (s->type) {
    case SS_SCALE_LINEAR: case SS_SCALE_DYNAMIC:
        printf(" (factor %g", s->factor);
        if (s->type == SS_SCALE_DYNAMIC)
            printf(", max_position_embeddings %d", s->max_ctx);
        printf(")");
        break;
    case SS_SCALE_LLAMA3:
        printf(" (factor %g, low %g, high %g, original context %d)", s->factor,
               s->low_freq_factor, s->high_freq_factor, s->original_ctx);
        break;
    case SS_SCALE_YARN:
        printf(" (factor %g, original context %d, beta_fast %g, beta_slow %g)", s->factor,
               s->original_ctx, s->beta_fast > 0 ? s->beta_fast : 32.0,
               s->beta_slow > 0 ? s->beta_slow : 1.0);
        break;
    case SS_SCALE_LONGROPE:
        printf(" (original context %d, max %d; short factors up to that length, long beyond)",
               s->original_ctx, s->max_ctx);
        break;
    case SS_SCALE_NONE: case SS_SCALE_FREQ_FACTORS: break;
    }
}

static void print_thetas(const char *title, const ss_rope *r)
{
    printf("%s base %g, l: radians per token", title, r->base);
    if (r->attn_factor != 1.0)
        printf(" (cos and sin x %.9g)", r->attn_factor);
    printf("\n");
    for (int f = 0; f < r->n_freq; f++)
        printf("  %4d: %.17g\n", f + 1, r->theta[f]);
}

static const char *ffn_name(const ss_config *c)
{
    if (!c->gated_mlp)
        return c->act == SS_ACT_GELU_ERF ? "plain MLP, erf GELU" : "plain MLP, tanh GELU";
    return c->act == SS_ACT_SILU ? "SwiGLU" : c->act == SS_ACT_GELU_TANH ? "GeGLU, tanh GELU"
                                                                        : "GeGLU, erf GELU";
}

static void print_text(const ss_model *m)
{
    const ss_config *c = &m->cfg;
    printf("model         %s\n", m->path);
    printf("format        %s\n", ss_format_name(m->format));
    printf("architecture  %s\n", ss_arch_name(c->arch));
    printf("dtype         %s\n", ss_dtype_name(m->dtype));
    printf("layers        %d\n", c->n_layer);
    printf("hidden        %d\n", c->d_model);
    printf("heads         %d query, %d key/value (%s), head_dim %d\n", c->n_head, c->n_kv_head,
           c->n_kv_head == c->n_head ? "MHA" : c->n_kv_head == 1 ? "MQA" : "GQA", c->d_head);
    printf("ffn           %d (%s)\n", c->d_ff, ffn_name(c));
    printf("vocab         %d\n", c->vocab);
    printf("context       %d\n", c->ctx_len);
    printf("norm          %s eps %g%s\n", c->norm_type == SS_NORM_LAYER ? "LayerNorm (with bias)" : "RMSNorm",
           c->norm_eps, c->norm_add_one ? ", x (1 + w)" : "");
    if (c->qk_norm != SS_QKNORM_NONE)
        printf("q/k norm      RMSNorm over %s, before RoPE\n",
               c->qk_norm == SS_QKNORM_HEAD ? "each head" : "the whole projection");
    if (c->parallel_residual)
        printf("residual      parallel (x + attn(LN1 x) + mlp(LN2 x))\n");
    printf("attn scale    %.9g\n", c->attn_scale);
    if (c->attn_softcap > 0 || c->final_softcap > 0)
        printf("softcap       attention %g, final logits %g (0: none)\n", c->attn_softcap,
               c->final_softcap);
    if (c->sliding_window > 0 && !c->per_layer)
        printf("window        each query sees its last %d keys (sliding window)\n", c->sliding_window);
    printf("qkv bias      %s\n", c->has_qkv_bias ? "yes" : "no");
    printf("tied output   %s\n", c->tied_output ? "yes" : "no");
    printf("rope base     %g\n", m->rope.base);
    printf("rope scaling  ");
    print_scaling(&c->scaling);
    printf("\nrotary dims   %d of %d per head%s\n", c->rotary_dim, c->d_head,
           c->rotary_dim < c->d_head ? " (the rest are not rotated: a position-free part)" : "");
    printf("rope pairing  %s (checkpoint q/k rows); analyses use half pairing\n",
           ss_pairing_name(c->pairing));
    ss_blas_info b;
    ss_blas_info_get(&b);
    printf("blas          %s %s, core %s, %d threads; %s\n", b.library, b.version, b.core,
           b.threads, b.selection);
    if (c->per_layer || c->rope_local_base > 0) {
        printf("layers        index: attention, RoPE schedule\n");
        for (int l = 0; l < c->n_layer; l++) {
            int w = ss_layer_window(c, l);
            printf("  %4d: %s", l, w > 0 ? "sliding window" : "full");
            if (w > 0)
                printf(" %d", w);
            printf(", %s\n", ss_layer_rope(m, l) == &m->rope ? "global" : "local");
        }
    }
    print_thetas(c->rope_local_base > 0 ? "rope theta    global layers:" : "rope theta   ", &m->rope);
    if (c->rope_local_base > 0)
        print_thetas("rope theta    local layers:", &m->rope_local);
}

int cmd_info(int argc, char **argv)
{
    static const ss_flag flags[] = {{"--json", 0}, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "info", usage, flags, argc, argv, &err))
        return ss_cli_fail("info", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (a.n_positional != 1) {
        ss_fail(&err, SS_ERR_USAGE, "expected one MODEL argument (see --help)");
        return ss_cli_fail("info", &err);
    }
    ss_model *m;
    if (ss_model_open(a.positional[0], &m, &err))
        return ss_cli_fail("info", &err);
    if (ss_args_has(&a, "--json")) {
        cJSON *j = ss_model_describe(m, NULL);
        if (j)
            cJSON_AddItemToObject(j, "blas", ss_blas_info_json());
        char *text = j ? cJSON_Print(j) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        cJSON_Delete(j);
    } else {
        print_text(m);
    }
    ss_model_close(m);
    return 0;
}
