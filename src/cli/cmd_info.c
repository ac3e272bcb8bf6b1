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
    printf("ffn           %d (%s)\n", c->d_ff, c->act == SS_ACT_SILU ? "SwiGLU" : "GeGLU, tanh GELU");
    printf("vocab         %d\n", c->vocab);
    printf("context       %d\n", c->ctx_len);
    printf("norm          RMSNorm eps %g%s\n", c->norm_eps, c->norm_add_one ? ", x (1 + w)" : "");
    printf("attn scale    %.9g\n", c->attn_scale);
    if (c->sliding_window > 0)
        printf("window        each query sees its last %d keys (sliding window)\n", c->sliding_window);
    printf("qkv bias      %s\n", c->has_qkv_bias ? "yes" : "no");
    printf("tied output   %s\n", c->tied_output ? "yes" : "no");
    printf("rope base     %g\n", m->rope.base);
    printf("rope scaling  %s", ss_scaling_name(c->scaling.type));
    if (c->scaling.type == SS_SCALE_LINEAR || c->scaling.type == SS_SCALE_LLAMA3)
        printf(" (factor %g", c->scaling.factor);
    if (c->scaling.type == SS_SCALE_LLAMA3)
        printf(", low %g, high %g, original context %d", c->scaling.low_freq_factor,
               c->scaling.high_freq_factor, c->scaling.original_ctx);
    if (c->scaling.type == SS_SCALE_LINEAR || c->scaling.type == SS_SCALE_LLAMA3)
        printf(")");
    printf("\nrope pairing  %s (checkpoint q/k rows); analyses use half pairing\n",
           ss_pairing_name(c->pairing));
    ss_blas_info b;
    ss_blas_info_get(&b);
    printf("blas          %s %s, core %s, %d threads; %s\n", b.library, b.version, b.core,
           b.threads, b.selection);
    printf("rope theta    l: radians per token\n");
    for (int f = 0; f < m->rope.n_freq; f++)
        printf("  %4d: %.17g\n", f + 1, m->rope.theta[f]);
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
