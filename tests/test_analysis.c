/* The analysis driver (analysis/analysis.h) and the observer contract
 * (engine/observer.h): SS_STOP ends a pass without being an error, errors
 * carry a message naming where they happened, the interrupt flag stops a
 * run between layers, the between-prompts hook sees every prompt, and two
 * scans over disjoint prompts merge into the one-shot sums. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/freq_result.h"
#include "analysis/rank_result.h"
#include "analysis/scan_analysis.h"
#include "analysis/scan_result.h"
#include "engine/forward.h"
#include "harness.h"

enum { LEN = 24, PROMPTS = 4 };

static ss_model *open_model(void)
{
    ss_error err = {0};
    ss_model *m = NULL;
    const char *p = ss_test_path("%s/models/stories260K/stories260K.bin", ss_test_shared());
    CHECK_MSG(ss_model_open(p, &m, &err) == SS_OK, "%s", err.msg);
    return m;
}

static ss_prompts *open_ood(const ss_model *m, int64_t count, uint64_t seed)
{
    ss_error err = {0};
    ss_prompt_opts o = {.kind = SS_SRC_OOD, .len = LEN, .count = count, .seed = seed,
                        .vocab = m->cfg.vocab, .bos = -1};
    ss_prompts *p = NULL;
    CHECK_MSG(ss_prompts_open(&o, &p, &err) == SS_OK, "%s", err.msg);
    return p;
}

/* What a SIGINT handler would set, and its poll for the driver. */
static volatile sig_atomic_t ctrl_c;

static int interrupted(void)
{
    return ctrl_c;
}

/* A probe analysis: counts every hook and returns the codes it is told to. */
typedef struct {
    int begins, layers, layers_done, probs, ends;
    int stop_layer;          /* on_layer returns SS_STOP at this layer (-1: never) */
    int fail_probs_layer;    /* on_probs fails at this layer (-1: never) */
    int stop_after_prompts;  /* end_prompt returns SS_STOP at this count (0: never) */
    int raise; /* set at layer 1 of the second prompt (a "Ctrl-C") */
} probe;

static ss_code probe_begin(void *self, const int32_t *ids, int n, ss_error *err)
{
    (void)ids; (void)n; (void)err;
    ((probe *)self)->begins++;
    return SS_OK;
}

static ss_code probe_layer(void *self, int layer, int n, const float *h, const float *q,
                           const float *k, ss_error *err)
{
    (void)n; (void)h; (void)q; (void)k; (void)err;
    probe *p = self;
    p->layers++;
    return layer == p->stop_layer ? SS_STOP : SS_OK;
}

static ss_code probe_probs(void *self, int layer, int head, int row0, int nrows, const float *pr,
                           int64_t ld)
{
    (void)head; (void)row0; (void)nrows; (void)pr; (void)ld;
    probe *p = self;
    __atomic_add_fetch(&p->probs, 1, __ATOMIC_RELAXED);
    return layer == p->fail_probs_layer ? SS_ERR_VALUE : SS_OK;
}

static ss_code probe_layer_done(void *self, int layer, ss_error *err)
{
    (void)err;
    probe *p = self;
    p->layers_done++;
    if (p->begins == 2 && layer == 1)
        ctrl_c = p->raise;
    return SS_OK;
}

static ss_code probe_end(void *self, ss_error *err)
{
    (void)err;
    probe *p = self;
    p->ends++;
    return p->stop_after_prompts && p->ends == p->stop_after_prompts ? SS_STOP : SS_OK;
}

static const ss_analysis_vtable probe_vt = {"probe", probe_begin, probe_layer, probe_probs,
                                            probe_layer_done, probe_end, NULL, NULL, NULL, NULL, NULL,
                                            NULL};

static ss_code count_between(void *ctx, int64_t done, ss_error *err)
{
    (void)err;
    int64_t *seen = ctx;
    CHECK(done == *seen + 1); /* once per prompt, in order */
    *seen = done;
    return SS_OK;
}

static void test_stop_is_not_an_error(void)
{
    ss_model *m = open_model();
    if (!m)
        return;
    int L = m->cfg.n_layer;
    CHECK(L >= 3);
    probe p = {.stop_layer = 1, .fail_probs_layer = -1};
    ss_analysis an = {&probe_vt, &p};
    ss_prompts *pr = open_ood(m, 3, 1);
    ss_prompt_source src;
    ss_error err = {0};
    CHECK(ss_prompt_source_prompts(&src, pr, LEN, 3, &err) == SS_OK);
    int64_t seen = 0, done = -1;
    ss_analysis_opts ro = {.between_prompts = count_between, .between_ctx = &seen};
    CHECK(ss_analysis_run(m, &src, (ss_analysis *[]){&an}, 1, NULL, &ro, &done, &err) == SS_OK);
    CHECK_MSG(err.code == SS_OK, "%s", err.msg);
    /* every prompt: layers 0 and 1 seen, layer 0 finished, the pass ended at 1 */
    CHECK(done == 3 && seen == 3 && p.begins == 3 && p.ends == 3);
    CHECK(p.layers == 2 * 3);
    CHECK(p.layers_done == 1 * 3);
    CHECK(p.probs == 3 * m->cfg.n_head); /* layer 0 only, one block per head at 24 rows */
    ss_prompt_source_free(&src);
    ss_prompts_close(pr);

    /* the engine itself: SS_STOP back, no message, no logits computed */
    int32_t ids[LEN];
    for (int i = 0; i < LEN; i++)
        ids[i] = i + 1;
    ss_observer obs = {&p, probe_layer, NULL, NULL};
    ss_forward_opts fo = {.observers = &obs, .n_observers = 1};
    float *logits = calloc((size_t)LEN * m->cfg.vocab, sizeof(float));
    logits[0] = 12345.0f;
    CHECK(ss_forward(m, ids, LEN, &fo, logits, &err) == SS_STOP);
    CHECK(err.code == SS_OK && err.msg[0] == '\0');
    CHECK(logits[0] == 12345.0f);
    free(logits);
    ss_model_close(m);
}

static void test_errors_name_the_place(void)
{
    ss_model *m = open_model();
    if (!m)
        return;
    probe p = {.stop_layer = -1, .fail_probs_layer = 2};
    ss_analysis an = {&probe_vt, &p};
    int32_t ids[LEN];
    for (int i = 0; i < LEN; i++)
        ids[i] = i + 1;
    ss_prompt_source src;
    ss_prompt_source_ids(&src, ids, LEN);
    ss_error err = {0};
    CHECK(ss_analysis_run(m, &src, (ss_analysis *[]){&an}, 1, NULL, NULL, NULL, &err) ==
          SS_ERR_VALUE);
    CHECK_MSG(strstr(err.msg, "layer 2, head") != NULL, "%s", err.msg);
    CHECK(p.ends == 0); /* a failed prompt is not ended */
    ss_model_close(m);
}

static void test_interrupt_and_stop_between_prompts(void)
{
    ss_model *m = open_model();
    if (!m)
        return;
    ctrl_c = 0;
    probe p = {.stop_layer = -1, .fail_probs_layer = -1, .raise = 1};
    ss_analysis an = {&probe_vt, &p};
    ss_prompts *pr = open_ood(m, 5, 2);
    ss_prompt_source src;
    ss_error err = {0};
    CHECK(ss_prompt_source_prompts(&src, pr, LEN, 5, &err) == SS_OK);
    ss_analysis_opts ro = {.interrupted = interrupted};
    int64_t done = -1;
    CHECK(ss_analysis_run(m, &src, (ss_analysis *[]){&an}, 1, NULL, &ro, &done, &err) == SS_STOP);
    CHECK_MSG(strstr(err.msg, "interrupted after 1 complete prompt") != NULL, "%s", err.msg);
    /* stopped right after layer 1 of the second prompt */
    CHECK(done == 1 && p.ends == 1 && p.layers == m->cfg.n_layer + 2);
    ss_prompt_source_free(&src);
    ss_prompts_close(pr);

    /* an analysis that has enough ends the run cleanly */
    probe q = {.stop_layer = -1, .fail_probs_layer = -1, .stop_after_prompts = 2};
    ss_analysis an2 = {&probe_vt, &q};
    pr = open_ood(m, 5, 2);
    ss_error_clear(&err);
    CHECK(ss_prompt_source_prompts(&src, pr, LEN, 5, &err) == SS_OK);
    CHECK(ss_analysis_run(m, &src, (ss_analysis *[]){&an2}, 1, NULL, NULL, &done, &err) == SS_OK);
    CHECK(done == 2 && q.begins == 2);
    ss_prompt_source_free(&src);
    ss_prompts_close(pr);
    ss_model_close(m);
}

/* A scan over prompts [first, first + count) of the OOD stream of seed 7
 * (each prompt is drawn from its own (seed, index) stream). */
static void run_scan(ss_model *m, ss_analysis *an, int64_t first, int64_t count)
{
    ss_error err = {0};
    CHECK(ss_scan_analysis_new(an, m->cfg.n_layer, m->cfg.n_head, LEN, 4, 0, NULL, &err) ==
          SS_OK);
    ss_prompts *pr = open_ood(m, first + count, 7);
    if (first > 0)
        CHECK_MSG(ss_prompts_seek(pr, first, 0, first, &err) == SS_OK, "%s", err.msg);
    ss_prompt_source src;
    CHECK(ss_prompt_source_prompts(&src, pr, LEN, count, &err) == SS_OK);
    CHECK_MSG(ss_analysis_run(m, &src, (ss_analysis *[]){an}, 1, NULL, NULL, NULL, &err) ==
              SS_OK, "%s", err.msg);
    ss_prompt_source_free(&src);
    ss_prompts_close(pr);
}

/* Two scans over disjoint halves merge into the one-shot sums. */
static void test_scan_merge_is_exact(void)
{
    ss_model *m = open_model();
    if (!m)
        return;
    ss_analysis all, a, b;
    run_scan(m, &all, 0, PROMPTS);
    run_scan(m, &a, 0, PROMPTS / 2);
    run_scan(m, &b, PROMPTS / 2, PROMPTS / 2);
    ss_error err = {0};
    CHECK(ss_analysis_merge(&a, &b, &err) == SS_OK);
    const ss_scan_acc *x = ss_scan_analysis_acc(&all), *y = ss_scan_analysis_acc(&a);
    CHECK(x->prompts == PROMPTS && y->prompts == PROMPTS);
    size_t cells = (size_t)x->n_layer * x->n_head * LEN;
    int counts_ok = 1;
    double worst = 0;
    for (size_t i = 0; i < cells; i++) {
        counts_ok &= y->slash_count[i] == x->slash_count[i];
        /* (p0 + p1) + (p2 + p3) against ((p0 + p1) + p2) + p3 */
        worst = fmax(worst, fabs(y->slash_sum[i] - x->slash_sum[i]));
    }
    CHECK(counts_ok);
    CHECK(x->slash_count[LEN - 1 - 4] == PROMPTS); /* the longest offset with a valid row */
    CHECK(worst < 1e-12);
    ss_scan_result r = {0};
    CHECK(ss_analysis_finish(&all, &r, &err) == SS_OK);
    CHECK(r.prompts == PROMPTS && memcmp(r.slash_sum, x->slash_sum, cells * 8) == 0);
    ss_scan_result_free(&r);
    /* merging other settings is refused */
    ss_analysis other;
    CHECK(ss_scan_analysis_new(&other, x->n_layer, x->n_head, LEN, 3, 0, NULL, &err) == SS_OK);
    CHECK(ss_analysis_merge(&all, &other, &err) == SS_ERR_INCOMPATIBLE);
    ss_analysis_free(&other);
    ss_analysis_free(&all);
    ss_analysis_free(&a);
    ss_analysis_free(&b);
    ss_model_close(m);
}

/* rank and freq observing the same passes over prompts [first, first +
 * count) of the OOD stream of seed 7. */
static void run_rank_freq(ss_model *m, ss_analysis *rank, ss_analysis *freq, int64_t first,
                          int64_t count)
{
    ss_error err = {0};
    static const double tau[2] = {0.95, 0.5};
    static const ss_head_ref sel[3] = {{0, 0}, {1, 2}, {2, 5}};
    const ss_freq_opts fo = {.row = 10, .inp_rows = 6, .skip = 4, .max_delta = 2,
                             .active_frac = 0.1};
    CHECK(ss_rank_analysis_new(rank, m, tau, 2, &err) == SS_OK);
    CHECK(ss_freq_analysis_new(freq, m, &m->rope, LEN, sel, 3, NULL, 0, &fo, &err) ==
          SS_OK);
    ss_prompts *pr = open_ood(m, first + count, 7);
    if (first > 0)
        CHECK(ss_prompts_seek(pr, first, 0, first, &err) == SS_OK);
    ss_prompt_source src;
    CHECK(ss_prompt_source_prompts(&src, pr, LEN, count, &err) == SS_OK);
    CHECK_MSG(ss_analysis_run(m, &src, (ss_analysis *[]){rank, freq}, 2, NULL, NULL, NULL, &err) ==
              SS_OK, "%s", err.msg);
    ss_prompt_source_free(&src);
    ss_prompts_close(pr);
}

static double worst_rel(const double *a, const double *b, size_t n)
{
    double w = 0;
    for (size_t i = 0; i < n; i++)
        if (!(isnan(a[i]) && isnan(b[i])))
            w = fmax(w, fabs(a[i] - b[i]) / (fabs(b[i]) + 1e-300));
    return w;
}

/* Two analyses in one pass; their merges of disjoint halves equal one shot. */
static void test_rank_freq_merge(void)
{
    ss_model *m = open_model();
    if (!m)
        return;
    ss_analysis r_all, f_all, r_a, f_a, r_b, f_b;
    run_rank_freq(m, &r_all, &f_all, 0, PROMPTS);
    run_rank_freq(m, &r_a, &f_a, 0, PROMPTS / 2);
    run_rank_freq(m, &r_b, &f_b, PROMPTS / 2, PROMPTS / 2);
    ss_error err = {0};
    CHECK(ss_analysis_merge(&r_a, &r_b, &err) == SS_OK);
    CHECK(ss_analysis_merge(&f_a, &f_b, &err) == SS_OK);
    CHECK(ss_analysis_merge(&r_a, &f_b, &err) == SS_ERR_INCOMPATIBLE); /* not the same kind */
    ss_rank_result x, y;
    ss_freq_result u, v;
    CHECK(ss_analysis_finish(&r_all, &x, &err) == SS_OK);
    CHECK(ss_analysis_finish(&r_a, &y, &err) == SS_OK);
    CHECK(ss_analysis_finish(&f_all, &u, &err) == SS_OK);
    CHECK(ss_analysis_finish(&f_a, &v, &err) == SS_OK);
    size_t L = (size_t)x.n_layer, H = (size_t)x.n_head, K = (size_t)x.n_kv_head;
    CHECK(x.prompts == PROMPTS && y.prompts == PROMPTS && u.prompts == PROMPTS);
    CHECK(worst_rel(y.q_r, x.q_r, L * H * x.d_head) < 1e-12);
    CHECK(worst_rel(y.k_R, x.k_R, L * K * x.n_tau) < 1e-12);
    CHECK(worst_rel(y.h_r, x.h_r, L * x.d_model) < 1e-12);
    CHECK(worst_rel(y.q_norm_rv, x.q_norm_rv, L * H) < 1e-9);
    CHECK(worst_rel(v.scores, u.scores, (size_t)u.n_sel * u.n_var * u.n) < 1e-12);
    CHECK(worst_rel(v.inp_mean_abs, u.inp_mean_abs, (size_t)u.n_sel * u.n_freq) < 1e-12);
    CHECK(worst_rel(v.cs_mean, u.cs_mean, (size_t)u.n_sel * (u.max_delta + 1)) < 1e-12);
    CHECK(worst_rel(v.usage_q, u.usage_q, L * H * u.n_freq) < 1e-12);
    CHECK(memcmp(v.inp, u.inp, sizeof(double) * u.n_sel * (u.row + 1) * u.n_freq) == 0);
    CHECK(memcmp(v.n_active, u.n_active, sizeof(int) * u.n_sel) == 0);
    ss_rank_result_free(&x);
    ss_rank_result_free(&y);
    ss_freq_result_free(&u);
    ss_freq_result_free(&v);
    ss_analysis *all[6] = {&r_all, &f_all, &r_a, &f_a, &r_b, &f_b};
    for (int i = 0; i < 6; i++)
        ss_analysis_free(all[i]);
    ss_model_close(m);
}

TEST_MAIN(TEST(test_stop_is_not_an_error), TEST(test_errors_name_the_place),
          TEST(test_interrupt_and_stop_between_prompts), TEST(test_scan_merge_is_exact), TEST(test_rank_freq_merge))
