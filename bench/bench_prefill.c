/* Prefill throughput: tokens/s, effective GFLOP/s and peak RSS for one
 * sequence length, next to OpenBLAS SGEMM on the MLP's shape measured in
 * the same process. Usage: bench_prefill MODEL N [threads] [repeats] [mode]
 * mode: "prefill" (default; logits of the last position only, as a
 * generation prefill), "logits" (all positions), "hidden" (every layer, no
 * logits: what a scan runs), "scan" (hidden plus the per-diagonal slash
 * sums of every head, the scan's hot loop). One JSON line on stdout. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "analysis/slash.h"
#include "common/progress.h"
#include "engine/forward.h"
#include "model/model.h"

static double flops_per_pass(const ss_config *c, int n, int logits_rows)
{
    double d = c->d_model, q = (double)c->n_head * c->d_head, kv = (double)c->n_kv_head * c->d_head;
    double per_token = 2.0 * (d * q * 2 + d * kv * 2 + 3.0 * d * c->d_ff);
    /* causal attention: QK^T and PV over n(n+1)/2 pairs per head */
    double attn = 2.0 * 2.0 * ((double)n * (n + 1) / 2) * c->d_head * c->n_head;
    return c->n_layer * (per_token * n + attn) + 2.0 * d * c->vocab * logits_rows;
}

/* CPU seconds of the whole process (all threads): on a busy machine the
 * rate per CPU second is the steadier measure of efficiency. */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* SGEMM GFLOP/s of the best of 5 calls; *per_cpu gets GFLOP per CPU second
 * over the 5 calls. */
static double sgemm_gflops(int m, int n, int k, double *per_cpu)
{
    float *a = calloc((size_t)m * k, 4), *b = calloc((size_t)n * k, 4), *c = calloc((size_t)m * n, 4);
    for (long i = 0; i < (long)m * k; i++) a[i] = (float)(i % 7) * 0.1f;
    for (long i = 0; i < (long)n * k; i++) b[i] = (float)(i % 5) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n);
    double best = 1e30, c0 = cpu_now();
    for (int r = 0; r < 5; r++) {
        double t0 = ss_now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n);
        double t = ss_now_seconds() - t0;
        best = t < best ? t : best;
    }
    *per_cpu = 5 * 2.0 * m * n * k / (cpu_now() - c0) / 1e9;
    free(a); free(b); free(c);
    return 2.0 * m * n * k / best / 1e9;
}

typedef struct { int L, H, n; double *sums; } slash_obs;

static ss_code on_probs(void *ctx, int layer, int head, int row0, int nrows, const float *p,
                        int64_t ld)
{
    slash_obs *s = ctx;
    /* the scan's own accumulation (analysis/scan_acc.c): reversed sums */
    ss_slash_add_rows_rev(s->sums + ((size_t)layer * s->H + head) * s->n, s->n, p, ld, row0, nrows,
                          4);
    return SS_OK;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_prefill MODEL N [threads] [repeats] [prefill|logits|scan]\n");
        return 2;
    }
    int n = atoi(argv[2]), threads = argc > 3 ? atoi(argv[3]) : 2, reps = argc > 4 ? atoi(argv[4]) : 2;
    const char *mode = argc > 5 ? argv[5] : "prefill";
    ss_set_threads(threads);
    ss_error err = {0};
    ss_model *m;
    if (ss_model_open(argv[1], &m, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int32_t *ids = malloc(sizeof(int32_t) * n);
    for (int i = 0; i < n; i++)
        ids[i] = (int32_t)((i * 7919u + 13u) % (unsigned)m->cfg.vocab);
    int all_logits = strcmp(mode, "logits") == 0, scan = strcmp(mode, "scan") == 0;
    int no_logits = scan || strcmp(mode, "hidden") == 0;
    float *logits = no_logits ? NULL : malloc(sizeof(float) * (size_t)(all_logits ? n : 1) * m->cfg.vocab);
    slash_obs so = {m->cfg.n_layer, m->cfg.n_head, n, NULL};
    ss_observer obs = {.ctx = &so, .on_probs = on_probs};
    if (scan)
        so.sums = calloc((size_t)so.L * so.H * n, sizeof(double));
    ss_forward_opts o = {.allow_long = 1, .observers = scan ? &obs : NULL, .n_observers = scan,
                         .last_logits_only = !all_logits};
    double best = 1e30, cpu_best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = ss_now_seconds(), c0 = cpu_now();
        if (ss_forward(m, ids, n, &o, logits, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        double t = ss_now_seconds() - t0, c = cpu_now() - c0;
        best = t < best ? t : best;
        cpu_best = c < cpu_best ? c : cpu_best;
    }
    double flops = flops_per_pass(&m->cfg, n, no_logits ? 0 : all_logits ? n : 1);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double sg_cpu, sg = sgemm_gflops(n, m->cfg.d_ff, m->cfg.d_model, &sg_cpu);
    printf("{\"model\": \"%s\", \"mode\": \"%s\", \"n\": %d, \"threads\": %d, \"seconds\": %.4f, "
           "\"tokens_per_s\": %.1f, \"gflops\": %.2f, \"sgemm_gflops\": %.2f, \"ratio_to_sgemm\": %.3f, "
           "\"peak_rss_mib\": %.1f, \"cpu_seconds\": %.3f, \"gflops_per_cpu_s\": %.2f, "
           "\"sgemm_gflops_per_cpu_s\": %.2f, \"ratio_to_sgemm_cpu\": %.3f}\n",
           argv[1], mode, n, threads, best, n / best, flops / best / 1e9, sg, flops / best / 1e9 / sg,
           ru.ru_maxrss / 1024.0, cpu_best, flops / cpu_best / 1e9, sg_cpu,
           flops / cpu_best / 1e9 / sg_cpu);
    free(logits);
    free(so.sums);
    free(ids);
    ss_model_close(m);
    return 0;
}
