/* The public C API (include/slashscope.h) on its own: only the public header
 * is included, so this also checks that it is self-sufficient. Numbers are
 * checked against the shared references and closed forms; the Python tests
 * (tests/python) compare everything with the program's files, and this file
 * runs the same paths under the sanitizers. */
#include <slashscope.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MODEL_PATH ss_test_path("%s/models/stories260K/stories260K.bin", ss_test_shared())

static ss_model *open_model(void)
{
    ss_error err = {0};
    ss_model *m = NULL;
    ss_code rc = ss_model_open(MODEL_PATH, &m, &err);
    CHECK_MSG(rc == SS_OK && m, "%s", err.msg);
    return m;
}

static void test_version_and_codes(void)
{
    CHECK(strcmp(ss_version(), "0.1.0") == 0);
    CHECK(strcmp(ss_code_name(SS_STOP), "stop") == 0);
    CHECK(strcmp(ss_code_name(SS_ERR_IO), "io") == 0);
    ss_error err = {SS_ERR_IO, "x"};
    ss_error_clear(&err);
    CHECK(err.code == SS_OK && err.msg[0] == 0);
}

static void test_bad_model(void)
{
    ss_error err = {0};
    ss_model *m = (ss_model *)1;
    ss_code rc = ss_model_open(ss_test_path("%s/no-such-model.bin", ss_test_tmp()), &m, &err);
    CHECK(rc != SS_OK && rc == err.code);
    CHECK_MSG(strstr(err.msg, "no-such-model.bin") != NULL, "%s", err.msg);
}

static void test_model_dims_theta_logits_attention(void)
{
    ss_model *m = open_model();
    if (!m)
        return;
    ss_model_dims d;
    ss_model_get_dims(m, &d);
    CHECK(d.n_layers == 5 && d.n_heads == 8 && d.n_kv_heads == 4 && d.head_dim == 8);
    CHECK(d.vocab == 512 && d.context == 512 && d.n_freq == 4 && d.bos_id == 1);
    int nf;
    const double *th = ss_model_theta(m, &nf);
    CHECK(nf == 4);
    for (int f = 0; f < nf; f++) /* base 10000, d_head 8: 10000^(-2f/8) = 10^-f */
        CHECK_NEAR(th[f], pow(10.0, -f), 1e-15);
    ss_error err = {0};
    char *json = ss_model_config_json(m, &err);
    CHECK(json && strstr(json, "\"n_layer\":5"));
    ss_free(json);

    int ndim;
    long shape[4];
    double *ref = ss_test_load_npy(ss_test_path("%s/models/stories260K/ref/llamacpp_logits_s0.npy",
                                                ss_test_shared()), &ndim, shape);
    double *attn = ss_test_load_npy(ss_test_path("%s/models/stories260K/ref/llamacpp_attn_s0.npy",
                                                 ss_test_shared()), &ndim, shape);
    FILE *f = fopen(ss_test_path("%s/models/stories260K/tokens.txt", ss_test_shared()), "r");
    int32_t ids[64];
    int n = 0;
    while (f && n < 64 && fscanf(f, "%d", &ids[n]) == 1) {
        n++;
        if (fgetc(f) == '\n')
            break;
    }
    if (f)
        fclose(f);
    CHECK(n == 16 && ref && attn);
    float *lg = calloc((size_t)n * 512, sizeof *lg);
    float *map = calloc((size_t)n * n, sizeof *map);
    CHECK_MSG(ss_logits(m, ids, n, NULL, lg, &err) == SS_OK, "%s", err.msg);
    double worst = 0;
    for (int i = 0; ref && i < n * 512; i++)
        worst = fmax(worst, fabs(lg[i] - ref[i]));
    CHECK_NEAR(worst, 0, 1e-4);
    CHECK_MSG(ss_attention(m, ids, n, 3, 6, NULL, map, &err) == SS_OK, "%s", err.msg);
    worst = 0;
    for (int i = 0; attn && i < n * n; i++) /* [L, H, T, T] */
        worst = fmax(worst, fabs(map[i] - attn[((size_t)3 * 8 + 6) * n * n + i]));
    CHECK_NEAR(worst, 0, 1e-4);
    /* p-RoPE 0 equals removing every frequency */
    float *a = calloc((size_t)n * 512, sizeof *a), *b = calloc((size_t)n * 512, sizeof *b);
    int all[4] = {1, 2, 3, 4};
    ss_run_opts nope = {.use_p_rope = 1, .p_rope = 0}, rm = {.rope_remove = all, .n_rope_remove = 4};
    CHECK(ss_logits(m, ids, n, &nope, a, &err) == SS_OK && ss_logits(m, ids, n, &rm, b, &err) == SS_OK);
    CHECK(memcmp(a, b, (size_t)n * 512 * sizeof *a) == 0);
    /* bad inputs: an id outside the vocabulary, a layer out of range */
    ids[2] = 512;
    ss_error_clear(&err);
    CHECK(ss_logits(m, ids, n, NULL, lg, &err) == SS_ERR_VALUE);
    CHECK_MSG(strstr(err.msg, "token id 512 at position 2") != NULL, "%s", err.msg);
    ids[2] = 5;
    ss_error_clear(&err);
    CHECK(ss_attention(m, ids, n, 5, 0, NULL, map, &err) == SS_ERR_USAGE);
    CHECK_MSG(strstr(err.msg, "layer 5 is out of range") != NULL, "%s", err.msg);
    free(a);
    free(b);
    free(lg);
    free(map);
    free(ref);
    free(attn);
    ss_model_close(m);
}

/* The program's --lowrank as a new model: its logits are `slashscope logits
 * --lowrank`'s bit for bit, a pair that compresses nothing (thre 1) leaves
 * every bit, the model it was made from is untouched, and closing the new
 * one frees only its own matrices (the sanitizer run checks that). */
static void test_lowrank_model(void)
{
    static const int32_t ids[16] = {1, 403, 407, 261, 378, 410, 270, 422,
                                    261, 300, 343, 402, 439, 411, 261, 300};
    const int n = 16, V = 512;
    char plan[4200], out[4200], spec[4300];
    snprintf(plan, sizeof plan, "%s/api_lowrank_plan", ss_test_tmp());
    snprintf(out, sizeof out, "%s/api_lowrank_logits.npy", ss_test_tmp());
    int sh = ss_test_sh("rm -rf '%s' && '%s' compress '%s' --ids-file "
                        "'%s/prompts/stories260K-samples.ids' --len 32 --count 4 --thre 0.9,1 "
                        "--rank-thre 2,8 --out '%s' --quiet >/dev/null && '%s' logits '%s' "
                        "--ids '1 403 407 261 378 410 270 422 261 300 343 402 439 411 261 300' "
                        "--lowrank '%s@0.9,2' --out '%s' --quiet", plan, ss_test_bin(),
                        MODEL_PATH, ss_test_shared(), plan, ss_test_bin(), MODEL_PATH, plan,
                        out);
    CHECK_MSG(sh == 0, "compress / logits --lowrank exited %d", sh);
    int ndim;
    long shape[4];
    double *cli = sh ? NULL : ss_test_load_npy(out, &ndim, shape);
    ss_model *m = open_model();
    if (!cli || !m) {
        free(cli);
        ss_model_close(m);
        return;
    }
    float *before = calloc((size_t)n * V, sizeof *before), *lg = calloc((size_t)n * V, sizeof *lg);
    ss_error err = {0};
    CHECK(ss_logits(m, ids, n, NULL, before, &err) == SS_OK);
    ss_model *lr = NULL;
    snprintf(spec, sizeof spec, "%s@0.9,2", plan);
    CHECK_MSG(ss_model_with_lowrank(m, spec, &lr, &err) == SS_OK && lr, "%s", err.msg);
    if (lr) {
        CHECK_MSG(ss_logits(lr, ids, n, NULL, lg, &err) == SS_OK, "%s", err.msg);
        int same = 1, changed = 0;
        for (int i = 0; i < n * V; i++) {
            same &= (double)lg[i] == cli[i];
            changed |= lg[i] != before[i];
        }
        CHECK_MSG(same, "the low-rank model's logits differ from logits --lowrank");
        CHECK(changed);
        char *json = ss_model_config_json(lr, &err);
        CHECK_MSG(json && strstr(json, "\"lowrank\":{\"spec\":") && strstr(json, "@0.9,2"),
                  "%s", json ? json : err.msg);
        ss_free(json);
        ss_model *again = (ss_model *)1;
        ss_error_clear(&err);
        CHECK(ss_model_with_lowrank(lr, spec, &again, &err) == SS_ERR_USAGE && !again);
        CHECK_MSG(strstr(err.msg, "already carries the plan") != NULL, "%s", err.msg);
        ss_model_close(lr);
    }
    /* thre 1 keeps every direction: nothing is compressed, no bit changes */
    snprintf(spec, sizeof spec, "%s@1,8", plan);
    CHECK_MSG(ss_model_with_lowrank(m, spec, &lr, &err) == SS_OK, "%s", err.msg);
    CHECK(lr && ss_logits(lr, ids, n, NULL, lg, &err) == SS_OK &&
          memcmp(lg, before, (size_t)n * V * sizeof *lg) == 0);
    ss_model_close(lr);
    /* the source model is as it was */
    CHECK(ss_logits(m, ids, n, NULL, lg, &err) == SS_OK &&
          memcmp(lg, before, (size_t)n * V * sizeof *lg) == 0);
    /* a plan of four pairs needs one chosen; a folder that is no plan */
    ss_error_clear(&err);
    CHECK(ss_model_with_lowrank(m, plan, &lr, &err) == SS_ERR_USAGE && !lr);
    CHECK_MSG(strstr(err.msg, "choose one pair as") != NULL, "%s", err.msg);
    ss_error_clear(&err);
    CHECK(ss_model_with_lowrank(m, ss_test_shared(), &lr, &err) != SS_OK && !lr);
    CHECK_MSG(strstr(err.msg, "plan.json") != NULL, "%s", err.msg);
    free(before);
    free(lg);
    free(cli);
    ss_model_close(m);
}

static ss_scan *ood_scan(ss_model *m, int count, uint64_t seed, int len, ss_error *err)
{
    ss_prompt_spec spec = {.kind = SS_PROMPTS_OOD, .count = count, .seed = seed, .len = len};
    ss_source *src;
    if (ss_source_open(m, &spec, &src, err))
        return NULL;
    ss_scan_params p = ss_scan_defaults();
    ss_scan *s = NULL;
    ss_run_scan(m, src, &p, &s, err);
    ss_source_close(src);
    return s;
}

static void test_scan_save_load_merge_sdh(void)
{
    ss_model *m = open_model();
    if (!m)
        return;
    ss_error err = {0};
    ss_scan *a = ood_scan(m, 2, 1, 48, &err), *b = ood_scan(m, 3, 2, 48, &err);
    CHECK_MSG(a && b, "%s", err.msg);
    if (!a || !b) {
        ss_scan_free(a);
        ss_scan_free(b);
        ss_model_close(m);
        return;
    }
    ss_scan_dims d;
    ss_scan_get_dims(a, &d);
    CHECK(d.n_layers == 5 && d.n_heads == 8 && d.len == 48 && d.skip == 4 && d.prompts == 2);
    size_t cells = (size_t)5 * 8 * 48;
    double *avg = calloc(cells, sizeof *avg), *sd = calloc(cells, sizeof *sd);
    CHECK(ss_scan_slash(a, avg, &err) == SS_OK && ss_scan_spread(a, sd, NULL, &err) == SS_OK);
    const double *sum = ss_scan_slash_sum(a), *sq = ss_scan_slash_sumsq(a);
    const int64_t *cnt = ss_scan_slash_count(a);
    int counted = 0;
    for (size_t i = 0; i < cells; i++) {
        if (cnt[i] == 0) {
            CHECK(isnan(avg[i]));
            continue;
        }
        counted++;
        CHECK(avg[i] == sum[i] / (double)cnt[i]);
        /* two prompts: sd = |s1 - s2| / sqrt 2, from sum and sum of squares */
        double s1 = (sum[i] + sqrt(fmax(0, 2 * sq[i] - sum[i] * sum[i]))) / 2, s2 = sum[i] - s1;
        CHECK_NEAR(sd[i], fabs(s1 - s2) / sqrt(2.0), 1e-9);
    }
    CHECK(counted > 1000);
    /* save, then the program reads the folder */
    const char *dir = ss_test_path("%s/api_scan", ss_test_tmp());
    ss_test_sh("rm -rf '%s'", dir);
    CHECK_MSG(ss_scan_save(a, dir, &err) == SS_OK, "%s", err.msg);
    CHECK(ss_test_sh("'%s' sdh '%s' >/dev/null", ss_test_bin(), dir) == 0);
    /* a save is the program's transaction: SHA256SUMS, no overwrite without replace */
    CHECK(ss_test_sh("cd '%s' && sha256sum --quiet -c SHA256SUMS", dir) == 0);
    ss_error_clear(&err);
    CHECK(ss_scan_save(b, dir, &err) == SS_ERR_USAGE && strstr(err.msg, "finished result"));
    ss_error_clear(&err);
    CHECK_MSG(ss_scan_save_replace(a, dir, &err) == SS_OK, "%s", err.msg);
    CHECK(ss_test_sh("test ! -e '%s.partial' && test ! -e '%s.lock'", dir, dir) == 0);
    ss_scan *c = NULL;
    CHECK_MSG(ss_scan_load(dir, &c, &err) == SS_OK, "%s", err.msg);
    if (c)
        CHECK(memcmp(ss_scan_slash_sum(c), sum, cells * sizeof *sum) == 0);
    /* merge: sums add; the same scan twice is refused */
    const ss_scan *two[2] = {a, b};
    ss_scan *ab = NULL;
    CHECK_MSG(ss_scan_merge_all(two, 2, &ab, &err) == SS_OK, "%s", err.msg);
    if (ab) {
        ss_scan_get_dims(ab, &d);
        CHECK(d.prompts == 5);
        for (size_t i = 0; i < cells; i++)
            CHECK(ss_scan_slash_sum(ab)[i] == sum[i] + ss_scan_slash_sum(b)[i]);
    }
    const ss_scan *same[2] = {a, c};
    ss_scan *bad = NULL;
    ss_error_clear(&err);
    CHECK(ss_scan_merge_all(same, 2, &bad, &err) == SS_ERR_INCOMPATIBLE && bad == NULL);
    CHECK_MSG(strstr(err.msg, "share a prompt source") != NULL, "%s", err.msg);
    /* SDHs and compare */
    ss_sdh_entry *list;
    int n;
    CHECK(ss_scan_sdh(a, 0.1, 0, 4, &list, &n, &err) == SS_OK && n > 0);
    for (int k = 0; k < n; k++) {
        CHECK(list[k].score >= 0.1 && list[k].delta <= 4);
        CHECK(list[k].score == avg[((size_t)list[k].layer * 8 + list[k].head) * 48 + list[k].delta]);
    }
    ss_free(list);
    ss_compare_entry *rows;
    ss_five_numbers five;
    CHECK(ss_scan_compare(a, a, 0.1, 0, 4, &rows, &n, &five, &err) == SS_OK);
    CHECK(five.n == n && five.min == 1 && five.max == 1);
    ss_free(rows);
    free(avg);
    free(sd);
    ss_scan_free(a);
    ss_scan_free(b);
    ss_scan_free(c);
    ss_scan_free(ab);
    ss_model_close(m);
}

static int stop_after_one(void *user, int64_t done, int64_t total)
{
    (void)total;
    *(int64_t *)user = done;
    return done >= 1;
}

static int interrupt_after_one(void *user, int64_t done, int64_t total)
{
    (void)user;
    (void)total;
    if (done >= 1)
        ss_interrupt(); /* as a SIGINT handler would */
    return 0;
}

static void test_stop_and_interrupt(void)
{
    ss_model *m = open_model();
    if (!m)
        return;
    for (int way = 0; way < 2; way++) {
        ss_error err = {0};
        ss_prompt_spec spec = {.kind = SS_PROMPTS_OOD, .count = 50, .len = 64};
        ss_source *src;
        CHECK(ss_source_open(m, &spec, &src, &err) == SS_OK);
        int64_t seen = 0;
        ss_scan_params p = ss_scan_defaults();
        p.progress = way ? interrupt_after_one : stop_after_one;
        p.progress_user = &seen;
        ss_scan *s = (ss_scan *)1;
        ss_code rc = ss_run_scan(m, src, &p, &s, &err);
        CHECK_MSG(rc == SS_STOP && s == NULL, "way %d: rc %d %s", way, rc, err.msg);
        if (!way)
            CHECK(seen == 1);
        /* the source is spent; a new run works and clears the request */
        ss_scan_params q = ss_scan_defaults();
        ss_error_clear(&err);
        CHECK(ss_run_scan(m, src, &q, &s, &err) == SS_ERR_USAGE);
        ss_source_close(src);
        ss_scan *t = ood_scan(m, 1, 0, 16, &err);
        CHECK_MSG(t != NULL && !ss_interrupted(), "%s", err.msg);
        ss_scan_free(t);
    }
    ss_model_close(m);
}

static void test_sources_refuse_bad_specs(void)
{
    ss_model *m = open_model();
    if (!m)
        return;
    struct {
        ss_prompt_spec spec;
        const char *msg;
    } cases[] = {
        {{.kind = SS_PROMPTS_OOD, .count = 1, .len = 0}, "len (tokens per prompt) must be at least 1"},
        {{.kind = SS_PROMPTS_OOD, .count = 1, .len = 600}, "len 600 is longer than the model's context"},
        {{.kind = (ss_prompt_kind)9, .len = 8}, "kind 9 is not one of"},
        {{.kind = SS_PROMPTS_IDS, .len = 8}, "needs a path"},
        {{.kind = SS_PROMPTS_REPEAT, .count = 2, .len = 8}, "segment"},
        {{.kind = SS_PROMPTS_TEXT, .len = 8, .path = "/nonexistent/p.jsonl"}, "/nonexistent/p.jsonl"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ss_error err = {0};
        ss_source *s = (ss_source *)1;
        CHECK(ss_source_open(m, &cases[i].spec, &s, &err) != SS_OK && s == NULL);
        CHECK_MSG(strstr(err.msg, cases[i].msg) != NULL, "case %zu: %s", i, err.msg);
    }
    ss_model_close(m);
}

static void test_results(void)
{
    ss_model *m = open_model();
    if (!m)
        return;
    ss_error err = {0};
    ss_prompt_spec spec = {.kind = SS_PROMPTS_OOD, .count = 1, .len = 32};
    ss_source *src;
    CHECK(ss_source_open(m, &spec, &src, &err) == SS_OK);
    double tau = 0.9;
    ss_pass_params p = {0};
    ss_result *r = NULL;
    CHECK_MSG(ss_run_rank(m, src, &tau, 1, &p, &r, &err) == SS_OK, "%s", err.msg);
    ss_source_close(src);
    if (r) {
        CHECK(strcmp(ss_result_kind(r), "rank") == 0);
        const ss_array *a = ss_result_find(r, "q_r");
        CHECK(a && a->type == SS_ARRAY_F64 && a->ndim == 3 && a->shape[0] == 5 &&
              a->shape[1] == 8 && a->shape[2] == 8);
        for (int i = 0; a && i < 5 * 8; i++) { /* each spectrum sums to 1 */
            double s = 0;
            for (int l = 0; l < 8; l++)
                s += ((const double *)a->data)[i * 8 + l];
            CHECK_NEAR(s, 1, 1e-9);
        }
        CHECK(ss_result_find(r, "nope") == NULL && ss_result_array(r, -1) == NULL &&
              ss_result_array(r, ss_result_n_arrays(r)) == NULL);
        char *j = ss_result_json(r, &err);
        CHECK(j && strstr(j, "\"tau\":[0.9]"));
        ss_free(j);
        ss_result_free(r);
    }
    ss_cone_params c = ss_cone_defaults();
    CHECK_MSG(ss_run_cone(m, &c, &r, &err) == SS_OK, "%s", err.msg);
    if (r) {
        const ss_array *q = ss_result_find(r, "q");
        CHECK(q && q->shape[0] == 8 && q->shape[1] == 12);
        ss_result_free(r);
    }
    ss_theory_params t = ss_theory_defaults();
    t.tau1 = t.tau2 = 5;
    t.batch = 16;
    t.eval_prompts = 8;
    t.delta = 5; /* does not divide n_in = 32 */
    ss_error_clear(&err);
    CHECK(ss_run_theory(&t, &r, &err) == SS_ERR_USAGE && r == NULL);
    CHECK_MSG(strstr(err.msg, "delta") != NULL, "%s", err.msg);
    ss_model_close(m);
}

/* rank and freq as analyzers over one pass give the numbers of their own
 * passes, bit for bit; misuse is refused by name. */
static int same_arrays(const ss_result *a, const ss_result *b)
{
    if (ss_result_n_arrays(a) != ss_result_n_arrays(b))
        return 0;
    for (int i = 0; i < ss_result_n_arrays(a); i++) {
        const ss_array *x = ss_result_array(a, i), *y = ss_result_array(b, i);
        int64_t n = 1;
        for (int d = 0; d < x->ndim; d++)
            n *= x->shape[d];
        if (strcmp(x->name, y->name) || x->ndim != y->ndim || memcmp(x->data, y->data, (size_t)n * 8))
            return 0;
    }
    return 1;
}

static ss_source *ood_source(ss_model *m, int count, int len, ss_error *err)
{
    ss_prompt_spec spec = {.kind = SS_PROMPTS_OOD, .count = count, .seed = 3, .len = len};
    ss_source *s = NULL;
    ss_source_open(m, &spec, &s, err);
    return s;
}

static void test_analyzers_share_a_pass(void)
{
    ss_model *m = open_model();
    if (!m)
        return;
    ss_error err = {0};
    double tau = 0.95;
    int heads[4] = {1, 3, 3, 6};
    ss_freq_params f = ss_freq_defaults();
    f.heads = heads;
    f.n_heads = 2;
    ss_pass_params p = {0};
    ss_result *rank1 = NULL, *freq1 = NULL, *rank2 = NULL, *freq2 = NULL;
    ss_source *s1 = ood_source(m, 2, 64, &err), *s2 = ood_source(m, 2, 64, &err);
    CHECK(s1 && s2);
    CHECK(ss_run_rank(m, s1, &tau, 1, &p, &rank1, &err) == SS_OK);
    ss_source_close(s1);
    s1 = ood_source(m, 2, 64, &err);
    CHECK(ss_run_freq(m, s1, &f, &p, &freq1, &err) == SS_OK);
    ss_analyzer *a[2] = {NULL, NULL};
    CHECK(ss_analyzer_rank(m, &tau, 1, &a[0], &err) == SS_OK);
    CHECK(ss_analyzer_freq(m, 64, &f, NULL, &a[1], &err) == SS_OK);
    CHECK_MSG(ss_run_analyzers(m, s2, a, 2, &p, &err) == SS_OK, "%s", err.msg);
    CHECK(ss_analyzer_result(a[0], &rank2, &err) == SS_OK);
    CHECK(ss_analyzer_result(a[1], &freq2, &err) == SS_OK);
    CHECK(rank1 && rank2 && same_arrays(rank1, rank2));
    CHECK(freq1 && freq2 && same_arrays(freq1, freq2));
    /* run twice, another length, another RoPE schedule: refused */
    ss_source *s3 = ood_source(m, 1, 64, &err);
    ss_error_clear(&err);
    CHECK(ss_run_analyzers(m, s3, a, 2, &p, &err) == SS_ERR_USAGE && strstr(err.msg, "has run"));
    ss_analyzer *b = NULL;
    CHECK(ss_analyzer_freq(m, 32, &f, NULL, &b, &err) == SS_OK);
    ss_error_clear(&err);
    CHECK(ss_run_analyzers(m, s3, &b, 1, &p, &err) == SS_ERR_USAGE &&
          strstr(err.msg, "made for prompts of 32 tokens"));
    ss_analyzer_free(b);
    CHECK(ss_analyzer_freq(m, 64, &f, NULL, &b, &err) == SS_OK);
    ss_pass_params nope = {.run = {.use_p_rope = 1, .p_rope = 0}};
    ss_error_clear(&err);
    CHECK(ss_run_analyzers(m, s3, &b, 1, &nope, &err) == SS_ERR_USAGE &&
          strstr(err.msg, "another RoPE schedule"));
    ss_result *none = NULL;
    ss_error_clear(&err);
    CHECK(ss_analyzer_result(b, &none, &err) == SS_ERR_USAGE && none == NULL);
    ss_analyzer_free(b);
    ss_analyzer_free(a[0]);
    ss_analyzer_free(a[1]);
    ss_source_close(s1);
    ss_source_close(s2);
    ss_source_close(s3);
    ss_result_free(rank1);
    ss_result_free(rank2);
    ss_result_free(freq1);
    ss_result_free(freq2);
    ss_model_close(m);
}

TEST_MAIN(TEST(test_version_and_codes), TEST(test_bad_model),
          TEST(test_model_dims_theta_logits_attention), TEST(test_scan_save_load_merge_sdh),
          TEST(test_stop_and_interrupt), TEST(test_sources_refuse_bad_specs), TEST(test_results),
          TEST(test_analyzers_share_a_pass), TEST(test_lowrank_model))
