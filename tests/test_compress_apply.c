/* Low-rank plans applied with each head's SVD kept across plans
 * (analysis/compress_apply.h): every plan gives the same replaced weights,
 * bit for bit, as the plan applied on its own, and each head's SVD is
 * computed once for all the plans instead of once per plan. The weights
 * themselves are checked against numpy's SVD elsewhere (tests/cli_lowrank.sh
 * with tests/lowrank_ref.py); here the reference is the uncached route.
 * Plans applied from a plan folder (analysis/lowrank_model.h) keep no
 * pointer to it once read, and the models made with them hash their
 * source's weights once, in the source. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compress_apply.h"
#include "analysis/lowrank_model.h"
#include "harness.h"

/* Mean shares of a plan for every matrix: no bias, direction l (1-based)
 * with share 2^-l (renormalised), so thre 0.5 keeps 1 direction, 0.9 keeps
 * 4, 0.99 keeps 7 of d_head 8; head h of a layer gets the order of its
 * directions rotated by h, so the kept directions differ between heads. */
static void fake_plan(const ss_config *c, ss_compress_result *r)
{
    memset(r, 0, sizeof *r);
    r->n_layer = c->n_layer;
    r->n_head = c->n_head;
    r->n_kv_head = c->n_kv_head;
    r->d_head = c->d_head;
    r->d_model = c->d_model;
    int dh = c->d_head;
    r->q_r = calloc((size_t)c->n_layer * c->n_head * (dh + 1), sizeof *r->q_r);
    r->k_r = calloc((size_t)c->n_layer * c->n_kv_head * (dh + 1), sizeof *r->k_r);
    double tot = 0;
    for (int l = 1; l <= dh; l++)
        tot += ldexp(1, -l);
    for (int key = 0; key < 2; key++) {
        int heads = key ? c->n_kv_head : c->n_head;
        double *s = key ? r->k_r : r->q_r;
        for (int x = 0; x < c->n_layer * heads; x++)
            for (int l = 1; l <= dh; l++)
                s[(size_t)x * (dh + 1) + 1 + (l - 1 + x) % dh] = ldexp(1, -l) / tot;
    }
}

static const double THRE[3] = {0.5, 0.9, 0.99};

/* The replaced q and k projections of every layer under a plan, as bytes. */
static int same_weights(const ss_lowrank_applied *a, const ss_lowrank_applied *b, int L)
{
    for (int i = 0; i < 2 * L; i++) {
        if (!a->orig[i] != !b->orig[i] || a->repl[i].nbytes != b->repl[i].nbytes)
            return 0;
        if (a->orig[i] && memcmp(a->repl[i].data, b->repl[i].data, a->repl[i].nbytes))
            return 0;
    }
    return a->compressed == b->compressed;
}

static void run_plans(size_t budget)
{
    ss_error err = {0};
    ss_model *m = NULL;
    if (ss_model_open(ss_test_path("%s/models/stories260K/stories260K.bin", ss_test_shared()),
                      &m, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    const ss_config *c = &m->cfg;
    ss_compress_result r;
    fake_plan(c, &r);
    ss_lowrank_svds svds;
    CHECK(ss_lowrank_svds_init(&svds, m, budget, &err) == SS_OK);
    int matrices = c->n_layer * (c->n_head + c->n_kv_head);
    for (int p = 0; p < 3; p++) {
        ss_lowrank_applied alone, kept;
        CHECK(ss_lowrank_apply(m, &r, THRE[p], 8, &alone, &err) == SS_OK);
        /* keep a copy of the plan's weights, then the same plan through the cache */
        ss_lowrank_applied copy = alone;
        copy.repl = calloc(2 * (size_t)c->n_layer, sizeof *copy.repl);
        for (int i = 0; i < 2 * c->n_layer; i++) {
            copy.repl[i] = alone.repl[i];
            if (alone.orig[i]) {
                void *d = malloc(alone.repl[i].nbytes);
                memcpy(d, alone.repl[i].data, alone.repl[i].nbytes);
                copy.repl[i].data = d;
            }
        }
        copy.orig = calloc(2 * (size_t)c->n_layer, sizeof *copy.orig);
        memcpy(copy.orig, alone.orig, 2 * (size_t)c->n_layer * sizeof *copy.orig);
        ss_lowrank_restore(&alone);
        CHECK(ss_lowrank_apply_svds(m, &r, THRE[p], 8, &svds, &kept, &err) == SS_OK);
        CHECK_MSG(kept.compressed == matrices, "plan %d compressed %d of %d", p,
                  kept.compressed, matrices);
        CHECK_MSG(same_weights(&copy, &kept, c->n_layer), "plan thre %g: weights differ",
                  THRE[p]);
        if (p == 1) { /* a plan still applied: its weights are not what the SVDs are of */
            ss_lowrank_applied twice;
            ss_error e2 = {0};
            CHECK(ss_lowrank_apply_svds(m, &r, THRE[p], 8, &svds, &twice, &e2) == SS_ERR_USAGE);
            CHECK(strstr(e2.msg, "still applied") != NULL);
        }
        ss_lowrank_restore(&kept);
        for (int i = 0; i < 2 * c->n_layer; i++)
            free((void *)copy.repl[i].data);
        free(copy.repl);
        free(copy.orig);
    }
    /* once per head for the three plans when they fit, else once per plan */
    int64_t want = budget ? matrices : 3 * (int64_t)matrices;
    CHECK_MSG(svds.computed == want, "%lld SVDs computed, want %lld",
              (long long)svds.computed, (long long)want);
    ss_lowrank_svds_free(&svds);
    ss_compress_result_free(&r);
    ss_model_close(m);
}

static void test_kept_svds_once_per_head(void)
{
    run_plans((size_t)1 << 30);
}

static void test_no_budget_recomputes(void)
{
    run_plans(0);
}

/* A compress plan of stories260K with two pairs (0.9/2 compresses), made by
 * the program into `dir`; 0 on success. */
static int make_plan(const char *model, char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/compress_apply_plan", ss_test_tmp());
    int sh = ss_test_sh("rm -rf '%s' && '%s' compress '%s' --ids-file "
                        "'%s/prompts/stories260K-samples.ids' --len 32 --count 4 --thre 0.9,1 "
                        "--rank-thre 2,8 --out '%s' --quiet >/dev/null", dir, ss_test_bin(),
                        model, ss_test_shared(), dir);
    CHECK_MSG(sh == 0, "compress exited %d", sh);
    return sh;
}

/* --lowrank's route (ss_lowrank_apply_spec): the plan read from the folder
 * is freed once applied, and the applied record keeps no pointer to it */
static void test_spec_keeps_no_freed_plan(void)
{
    const char *path = ss_test_path("%s/models/stories260K/stories260K.bin", ss_test_shared());
    char dir[4096], spec[4200];
    ss_error err = {0};
    ss_model *m = NULL;
    if (make_plan(path, dir, sizeof dir) || ss_model_open(path, &m, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    snprintf(spec, sizeof spec, "%s@0.9,2", dir);
    ss_lowrank_applied la;
    cJSON *plan = NULL;
    CHECK_MSG(ss_lowrank_apply_spec(m, spec, "--lowrank", &la, &plan, &err) == SS_OK, "%s",
              err.msg);
    CHECK(la.compressed > 0 && plan);
    CHECK_MSG(la.r == NULL, "the applied plan still points to the freed plan");
    ss_lowrank_restore(&la);
    cJSON_Delete(plan);
    ss_model_close(m);
}

/* A low-rank model's fingerprint is its source's stored tensors': asked of
 * the new model first, it is computed once, into the source, and every
 * model made from that source (before or after) gets that one digest */
static void test_lowrank_models_share_one_fingerprint(void)
{
    const char *path = ss_test_path("%s/models/stories260K/stories260K.bin", ss_test_shared());
    char dir[4096], spec[4200];
    ss_error err = {0};
    ss_model *m = NULL, *a = NULL, *b = NULL;
    if (make_plan(path, dir, sizeof dir) || ss_model_open(path, &m, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    snprintf(spec, sizeof spec, "%s@0.9,2", dir);
    CHECK_MSG(ss_model_open_lowrank(m, spec, &a, &err) == SS_OK, "%s", err.msg);
    ss_weights_fingerprint fa, fb, fm;
    CHECK(a && a->source == m && !m->has_fingerprint);
    CHECK(a && ss_model_fingerprint(a, &fa, &err) == SS_OK);
    CHECK_MSG(m->has_fingerprint && a && !a->has_fingerprint,
              "the low-rank model computed its own fingerprint, not its source's");
    CHECK_MSG(ss_model_open_lowrank(m, spec, &b, &err) == SS_OK, "%s", err.msg);
    CHECK(b && ss_model_fingerprint(b, &fb, &err) == SS_OK && !b->has_fingerprint);
    CHECK(ss_model_fingerprint(m, &fm, &err) == SS_OK);
    /* one computation: its time, kept once, is what each of them reports */
    CHECK(strcmp(fa.digest, fm.digest) == 0 && strcmp(fb.digest, fm.digest) == 0);
    CHECK(fa.seconds == fm.seconds && fb.seconds == fm.seconds && fm.tensors == m->tensors.count);
    /* and it is the digest of the files' tensors, as a fresh open computes it */
    ss_model *again = NULL;
    CHECK_MSG(ss_model_open(path, &again, &err) == SS_OK, "%s", err.msg);
    CHECK(again && ss_model_fingerprint(again, &fb, &err) == SS_OK &&
          strcmp(fb.digest, fm.digest) == 0);
    ss_model_close(again);
    ss_model_close(b);
    ss_model_close(a);
    ss_model_close(m);
}

TEST_MAIN(TEST(test_kept_svds_once_per_head), TEST(test_no_budget_recomputes),
          TEST(test_spec_keeps_no_freed_plan), TEST(test_lowrank_models_share_one_fingerprint))
