/* examples/scan.c: the slashscope C API in one page. Scans a model on
 * random-token (OOD) prompts or on a prompt file and lists its
 * slash-dominant heads at offsets 0..4 (kappa 0.1), strongest first per
 * offset.
 *
 *   cc scan.c $(pkg-config --cflags --libs slashscope) -o scan
 *   ./scan ../shared/models/stories260K            # 8 OOD prompts of 128 tokens
 *   ./scan MODEL --prompts prompts.jsonl 256 out/  # text prompts, result folder saved
 *
 * Ctrl-C stops the scan cleanly (ss_interrupt from the signal handler). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <slashscope.h>

static void on_sigint(int sig)
{
    (void)sig;
    ss_interrupt(); /* async-signal-safe: the scan stops at the next layer */
}

static int fail(const char *what, const ss_error *err)
{
    fprintf(stderr, "scan: %s: %s (%s)\n", what, err->msg, ss_code_name(err->code));
    return err->code == SS_STOP ? 130 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL [--prompts FILE] [LEN] [OUT_DIR]\n", argv[0]);
        return 2;
    }
    const char *prompts = NULL;
    int arg = 2;
    if (argc > 3 && strcmp(argv[2], "--prompts") == 0) {
        prompts = argv[3];
        arg = 4;
    }
    int len = argc > arg ? atoi(argv[arg]) : 128;
    const char *out_dir = argc > arg + 1 ? argv[arg + 1] : NULL;

    ss_error err = {0};
    ss_model *m;
    if (ss_model_open(argv[1], &m, &err))
        return fail("opening the model", &err);
    ss_model_dims d;
    ss_model_get_dims(m, &d);
    printf("slashscope %s: %d layers x %d heads, head_dim %d, context %d\n", ss_version(),
           d.n_layers, d.n_heads, d.head_dim, d.context);

    ss_prompt_spec spec = {.len = len};
    if (prompts) {
        spec.kind = SS_PROMPTS_TEXT;
        spec.path = prompts;
    } else {
        spec.kind = SS_PROMPTS_OOD;
        spec.count = 8;
        spec.seed = 1;
    }
    ss_source *src;
    if (ss_source_open(m, &spec, &src, &err)) {
        ss_model_close(m);
        return fail("opening the prompts", &err);
    }

    signal(SIGINT, on_sigint);
    ss_scan_params p = ss_scan_defaults();
    ss_scan *s;
    ss_code rc = ss_run_scan(m, src, &p, &s, &err);
    ss_source_close(src);
    ss_model_close(m);
    if (rc)
        return fail("scanning", &err);

    ss_scan_dims sd;
    ss_scan_get_dims(s, &sd);
    ss_sdh_entry *list;
    int n;
    if (ss_scan_sdh(s, 0.1, 0, 4, &list, &n, &err)) {
        ss_scan_free(s);
        return fail("finding SDHs", &err);
    }
    printf("%lld prompts of %d tokens: %d SDHs at kappa 0.1, offsets 0..4\n",
           (long long)sd.prompts, sd.len, n);
    for (int k = 0, shown = 0; k < n; k++) { /* the 3 strongest at each offset */
        shown = k > 0 && list[k].delta == list[k - 1].delta ? shown + 1 : 0;
        if (shown < 3)
            printf("  delta %d  L%dH%d  %.4f\n", list[k].delta, list[k].layer, list[k].head,
                   list[k].score);
    }
    ss_free(list);
    if (out_dir && ss_scan_save(s, out_dir, &err)) {
        ss_scan_free(s);
        return fail("saving", &err);
    }
    ss_scan_free(s);
    return 0;
}
