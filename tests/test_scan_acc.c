/* The scan's observer against llama.cpp's attention: feed the reference
 * probabilities block by block through on_probs (as the engine would) and
 * compare with the reference slash scores computed by the data set's own
 * generator; plus the identities that must hold (row sums, merging, pooling
 * of the full matrix, concurrent heads). */
#include <stdlib.h>
#include <string.h>

#include "analysis/scan_acc.h"
#include "analysis/slash.h"
#include "harness.h"
#include "io/npy.h"

typedef struct {
    const char *dir, *attn, *slash; /* under SS_SHARED */
} ref_case;

static const ref_case cases[] = {
    {"fixtures/llama3_gqa", "llamacpp_attn_s0", "llamacpp_slash_k4_s0"},
    {"fixtures/qwen2", "llamacpp_attn_s0", "llamacpp_slash_k4_s0"},
    {"fixtures/gemma", "llamacpp_exactgelu_attn_s0", "llamacpp_exactgelu_slash_k4_s0"},
    {"fixtures/mistral_mha", "llamacpp_attn_s0", "llamacpp_slash_k4_s0"},
    {"models/stories260K", "llamacpp_attn_s0", "llamacpp_slash_k4_s0"},
    {"models/llama2xs_tinystories", "llamacpp_attn_s0", "llamacpp_slash_k4_s0"},
    {"models/aidreams260K", "llamacpp_attn_s0", "llamacpp_slash_k4_s0"},
};

/* attention [L, H, T, ld] float32 (keys padded to ld) */
typedef struct {
    ss_npy a;
    int L, H, T;
    int64_t ld;
} attn_ref;

static int load_attn(const char *path, attn_ref *r)
{
    ss_error err = {0};
    if (ss_npy_read(path, &r->a, &err) != SS_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 0;
    }
    if (r->a.type != SS_NPY_F32 || r->a.ndim != 4) {
        ss_npy_free(&r->a);
        return 0;
    }
    r->L = (int)r->a.shape[0];
    r->H = (int)r->a.shape[1];
    r->T = (int)r->a.shape[2];
    r->ld = r->a.shape[3];
    return 1;
}

static const float *head_rows(const attn_ref *r, int l, int h, int row0)
{
    return (const float *)r->a.data + (((int64_t)l * r->H + h) * r->T + row0) * r->ld;
}

/* One prompt through the observer in blocks of `block` rows, layer by layer. */
static void feed(ss_scan_acc *acc, const attn_ref *r, int block)
{
    for (int l = 0; l < r->L; l++) {
        for (int h = 0; h < r->H; h++)
            for (int row0 = 0; row0 < r->T; row0 += block) {
                int nr = r->T - row0 < block ? r->T - row0 : block;
                ss_scan_acc_on_probs(acc, l, h, row0, nr, head_rows(r, l, h, row0), r->ld);
            }
        CHECK(ss_scan_acc_on_layer_done(acc, l, &(ss_error){0}) == SS_OK);
    }
    ss_error err = {0};
    CHECK_MSG(ss_scan_acc_end_prompt(acc, &err) == SS_OK, "%s", err.msg);
}

static void test_matches_reference_slash(void)
{
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        attn_ref r;
        const char *dir = ss_test_path("%s/%s/ref", ss_test_shared(), cases[c].dir);
        if (!load_attn(ss_test_path("%s/%s.npy", dir, cases[c].attn), &r)) {
            CHECK_MSG(0, "cannot load %s", cases[c].attn);
            continue;
        }
        int nd;
        long shape[4];
        double *ref = ss_test_load_npy(ss_test_path("%s/%s.npy", dir, cases[c].slash), &nd, shape);
        CHECK(ref && nd == 3 && shape[0] == r.L && shape[1] == r.H && shape[2] == r.T - 4);
        ss_scan_acc acc;
        ss_error err = {0};
        CHECK(ss_scan_acc_init(&acc, r.L, r.H, r.T, 4, 0, NULL, &err) == SS_OK);
        feed(&acc, &r, 5); /* uneven blocks: 5, 5, 5, 1 rows */
        double worst = 0;
        int nan_ok = 1;
        for (int l = 0; l < r.L; l++)
            for (int h = 0; h < r.H; h++)
                for (int d = 0; d < r.T; d++) {
                    size_t at = ((size_t)l * r.H + h) * r.T + d;
                    if (d >= r.T - 4) { /* no valid pair: not counted */
                        nan_ok &= acc.slash_count[at] == 0;
                        continue;
                    }
                    nan_ok &= acc.slash_count[at] == 1;
                    double got = acc.slash_sum[at];
                    double want = ref ? ref[((size_t)l * r.H + h) * (r.T - 4) + d] : 0;
                    if (fabs(got - want) > worst)
                        worst = fabs(got - want);
                }
        CHECK_MSG(worst <= 1e-6, "%s: max |slash - ref| = %g", cases[c].dir, worst);
        CHECK_MSG(nan_ok, "%s: counts", cases[c].dir);
        ss_scan_acc_free(&acc);
        free(ref);
        ss_npy_free(&r.a);
    }
}

/* The fast reversed accumulator gives the very sums of the plain
 * ss_slash_add_rows loop (same additions in the same order). */
static void test_same_as_plain_loop(void)
{
    attn_ref r;
    if (!load_attn(ss_test_path("%s/fixtures/qwen2/ref/llamacpp_attn_s0.npy", ss_test_shared()),
                   &r)) {
        CHECK(0);
        return;
    }
    for (int skip = 0; skip <= 5; skip += 5) {
        ss_scan_acc acc;
        ss_error err = {0};
        CHECK(ss_scan_acc_init(&acc, r.L, r.H, r.T, skip, 0, NULL, &err) == SS_OK);
        feed(&acc, &r, 3);
        int same = 1;
        double *diag = calloc((size_t)r.T, sizeof *diag);
        double *sum = calloc((size_t)r.T, sizeof *sum);
        int64_t *cnt = calloc((size_t)r.T, sizeof *cnt);
        for (int l = 0; l < r.L; l++)
            for (int h = 0; h < r.H; h++) {
                memset(diag, 0, (size_t)r.T * sizeof *diag);
                memset(sum, 0, (size_t)r.T * sizeof *sum);
                memset(cnt, 0, (size_t)r.T * sizeof *cnt);
                ss_slash_add_rows(diag, head_rows(&r, l, h, 0), r.ld, 0, r.T, skip);
                ss_slash_finish_prompt(diag, r.T, skip, sum, NULL, cnt);
                size_t at = ((size_t)l * r.H + h) * r.T;
                same &= memcmp(sum, acc.slash_sum + at, (size_t)r.T * sizeof *sum) == 0;
                same &= memcmp(cnt, acc.slash_count + at, (size_t)r.T * sizeof *cnt) == 0;
            }
        CHECK_MSG(same, "skip %d", skip);
        free(diag);
        free(sum);
        free(cnt);
        ss_scan_acc_free(&acc);
    }
    ss_npy_free(&r.a);
}

/* The reversed sums freq keeps (ss_slash_add_rows_rev, blocks of 5 rows,
 * then ss_slash_reverse) are the plain loop's, bit for bit. */
static void test_reversed_sums_same_as_plain(void)
{
    attn_ref r;
    if (!load_attn(ss_test_path("%s/fixtures/qwen2/ref/llamacpp_attn_s0.npy", ss_test_shared()),
                   &r)) {
        CHECK(0);
        return;
    }
    double *plain = calloc((size_t)r.T, sizeof *plain), *rev = calloc((size_t)r.T, sizeof *rev);
    int same = 1;
    for (int skip = 0; skip <= 3; skip += 3)
        for (int h = 0; h < r.H; h++) {
            memset(plain, 0, (size_t)r.T * sizeof *plain);
            memset(rev, 0, (size_t)r.T * sizeof *rev);
            ss_slash_add_rows(plain, head_rows(&r, 0, h, 0), r.ld, 0, r.T, skip);
            for (int row0 = 0; row0 < r.T; row0 += 5)
                ss_slash_add_rows_rev(rev, r.T, head_rows(&r, 0, h, row0), r.ld, row0,
                                      r.T - row0 < 5 ? r.T - row0 : 5, skip);
            ss_slash_reverse(rev, r.T);
            same &= memcmp(plain, rev, (size_t)r.T * sizeof *rev) == 0;
        }
    CHECK(same);
    free(plain);
    free(rev);
    ss_npy_free(&r.a);
}

/* Skip 0: every row sums to one, so sum_d score(d) * rows(d) = T. */
static void test_row_sum_identity(void)
{
    attn_ref r;
    if (!load_attn(ss_test_path("%s/models/stories260K/ref/llamacpp_attn_s0.npy", ss_test_shared()),
                   &r)) {
        CHECK(0);
        return;
    }
    ss_scan_acc acc;
    ss_error err = {0};
    CHECK(ss_scan_acc_init(&acc, r.L, r.H, r.T, 0, 0, NULL, &err) == SS_OK);
    feed(&acc, &r, 7);
    feed(&acc, &r, 16); /* two prompts: sums of per-prompt means */
    for (int l = 0; l < r.L; l++)
        for (int h = 0; h < r.H; h++) {
            double total = 0;
            for (int d = 0; d < r.T; d++) {
                size_t at = ((size_t)l * r.H + h) * r.T + d;
                CHECK(acc.slash_count[at] == 2);
                total += acc.slash_sum[at] * ss_slash_rows_at(r.T, d, 0);
            }
            CHECK_NEAR(total, 2.0 * r.T, 2 * r.T * 4e-7);
        }
    ss_scan_acc_free(&acc);
    ss_npy_free(&r.a);
}

/* Direct block means of the full matrices, independent of the observer. */
static double direct_block_mean(const attn_ref *const *refs, int n_refs, int l, int h, int r0,
                                int r1, int c0, int c1)
{
    double s = 0;
    for (int k = 0; k < n_refs; k++)
        for (int i = r0; i < r1; i++)
            for (int j = c0; j < c1 && j <= i; j++)
                s += head_rows(refs[k], l, h, i)[j];
    return s / ((double)(r1 - r0) * (c1 - c0) * n_refs);
}

/* llama.cpp and torch attention of the same prompt as two "prompts". */
static int load_pair(const char *dir, attn_ref *a, attn_ref *b)
{
    if (!load_attn(ss_test_path("%s/%s/ref/llamacpp_attn_s0.npy", ss_test_shared(), dir), a))
        return 0;
    if (!load_attn(ss_test_path("%s/%s/ref/torch_attn_s0.npy", ss_test_shared(), dir), b)) {
        ss_npy_free(&a->a);
        return 0;
    }
    return a->L == b->L && a->H == b->H && a->T == b->T;
}

static void test_maps(void)
{
    attn_ref x, y;
    if (!load_pair("fixtures/mistral_mha", &x, &y)) {
        CHECK(0);
        return;
    }
    const attn_ref *both[2] = {&x, &y};
    unsigned char *want = calloc((size_t)x.L * x.H, 1);
    want[0 * x.H + 1] = 1; /* L0H1 */
    want[1 * x.H + 3] = 1; /* L1H3 */
    int sizes[] = {5, 16, 40, 1};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int M = sizes[s];
        ss_scan_acc acc;
        ss_error err = {0};
        CHECK(ss_scan_acc_init(&acc, x.L, x.H, x.T, 4, M, want, &err) == SS_OK);
        CHECK(acc.n_maps == 2);
        int B = M < x.T ? M : x.T;
        CHECK(acc.bins == B);
        feed(&acc, &x, 4);
        feed(&acc, &y, 6);
        double *m = calloc((size_t)B * B, sizeof *m);
        double worst = 0;
        int heads[2][2] = {{0, 1}, {1, 3}};
        for (int slot = 0; slot < 2; slot++) {
            ss_scan_acc_map_mean(&acc, slot, m);
            for (int r = 0; r < B; r++)
                for (int c = 0; c < B; c++) {
                    /* bins by the documented rule floor(b T / B) */
                    int r0 = r * x.T / B, r1 = (r + 1) * x.T / B;
                    int c0 = c * x.T / B, c1 = (c + 1) * x.T / B;
                    double d = direct_block_mean(both, 2, heads[slot][0], heads[slot][1], r0, r1,
                                                 c0, c1);
                    if (fabs(m[(size_t)r * B + c] - d) > worst)
                        worst = fabs(m[(size_t)r * B + c] - d);
                }
        }
        CHECK_MSG(worst < 1e-12, "M=%d: max diff %g", M, worst);
        if (M == 1) { /* one block: mean of T rows summing to 1 over T*T cells */
            ss_scan_acc_map_mean(&acc, 0, m);
            CHECK_NEAR(m[0], 1.0 / x.T, 1e-7);
        }
        free(m);
        ss_scan_acc_free(&acc);
    }
    free(want);
    ss_npy_free(&x.a);
    ss_npy_free(&y.a);
}

static void test_bins(void)
{
    int edge[8], bins;
    ss_scan_map_edges(16, 5, &bins, edge);
    CHECK(bins == 5);
    int want[] = {0, 3, 6, 9, 12, 16};
    for (int b = 0; b <= 5; b++)
        CHECK(edge[b] == want[b]);
    ss_scan_map_edges(3, 7, &bins, edge);
    CHECK(bins == 3 && edge[0] == 0 && edge[1] == 1 && edge[2] == 2 && edge[3] == 3);
}

/* Two accumulators over two disjoint prompts, summed, equal one over both. */
static void test_merge_halves(void)
{
    attn_ref x, y;
    if (!load_pair("fixtures/llama3_gqa", &x, &y)) {
        CHECK(0);
        return;
    }
    unsigned char *want = calloc((size_t)x.L * x.H, 1);
    want[2] = 1;
    ss_scan_acc one, a, b;
    ss_error err = {0};
    CHECK(ss_scan_acc_init(&one, x.L, x.H, x.T, 4, 6, want, &err) == SS_OK);
    CHECK(ss_scan_acc_init(&a, x.L, x.H, x.T, 4, 6, want, &err) == SS_OK);
    CHECK(ss_scan_acc_init(&b, x.L, x.H, x.T, 4, 6, want, &err) == SS_OK);
    feed(&one, &x, 8);
    feed(&one, &y, 8);
    feed(&a, &x, 3);
    feed(&b, &y, 16);
    size_t n = (size_t)x.L * x.H * x.T;
    int same = 1;
    for (size_t k = 0; k < n; k++) {
        same &= one.slash_sum[k] == a.slash_sum[k] + b.slash_sum[k];
        same &= one.slash_count[k] == a.slash_count[k] + b.slash_count[k];
    }
    CHECK(same);
    /* maps add row by row across prompts: equal up to rounding */
    for (int k = 0; k < 36; k++)
        CHECK_NEAR(one.map_sum[k], a.map_sum[k] + b.map_sum[k], 1e-12);
    CHECK(one.prompts == 2 && a.prompts == 1 && b.prompts == 1);
    ss_scan_acc_free(&one);
    ss_scan_acc_free(&a);
    ss_scan_acc_free(&b);
    free(want);
    ss_npy_free(&x.a);
    ss_npy_free(&y.a);
}

/* Heads fed from concurrent threads give the serial result bit for bit. */
static void test_concurrent_heads(void)
{
    attn_ref r;
    if (!load_attn(ss_test_path("%s/models/llama2xs_tinystories/ref/llamacpp_attn_s0.npy",
                                ss_test_shared()), &r)) {
        CHECK(0);
        return;
    }
    unsigned char *want = calloc((size_t)r.L * r.H, 1);
    memset(want, 1, (size_t)r.L * r.H);
    ss_scan_acc ser, par;
    ss_error err = {0};
    CHECK(ss_scan_acc_init(&ser, r.L, r.H, r.T, 4, 7, want, &err) == SS_OK);
    CHECK(ss_scan_acc_init(&par, r.L, r.H, r.T, 4, 7, want, &err) == SS_OK);
    feed(&ser, &r, 4);
    for (int l = 0; l < r.L; l++) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(4)
        for (int h = 0; h < r.H; h++)
            for (int row0 = 0; row0 < r.T; row0 += 4)
                ss_scan_acc_on_probs(&par, l, h, row0, 4, head_rows(&r, l, h, row0), r.ld);
        CHECK(ss_scan_acc_on_layer_done(&par, l, &(ss_error){0}) == SS_OK);
    }
    CHECK(ss_scan_acc_end_prompt(&par, &err) == SS_OK);
    size_t n = (size_t)r.L * r.H * r.T;
    CHECK(memcmp(ser.slash_sum, par.slash_sum, n * sizeof(double)) == 0);
    CHECK(memcmp(ser.map_sum, par.map_sum, (size_t)ser.n_maps * 49 * sizeof(double)) == 0);
    ss_scan_acc_free(&ser);
    ss_scan_acc_free(&par);
    free(want);
    ss_npy_free(&r.a);
}

/* Contract violations are reported, not written out of bounds. */
static void test_bad_calls(void)
{
    ss_scan_acc acc;
    ss_error err = {0};
    CHECK(ss_scan_acc_init(&acc, 2, 2, 8, 4, 0, NULL, &err) == SS_OK);
    float row[8 * 8] = {0};
    ss_scan_acc_on_probs(&acc, 0, 2, 0, 1, row, 8); /* head out of range */
    CHECK(ss_scan_acc_on_layer_done(&acc, 0, &(ss_error){0}) == SS_OK);
    CHECK(ss_scan_acc_on_layer_done(&acc, 1, &(ss_error){0}) == SS_OK);
    CHECK(ss_scan_acc_end_prompt(&acc, &err) == SS_ERR_USAGE);
    ss_error_clear(&err);
    ss_scan_acc_on_probs(&acc, 0, 0, 6, 4, row, 8); /* rows past n */
    CHECK(ss_scan_acc_end_prompt(&acc, &err) == SS_ERR_USAGE);
    ss_error_clear(&err);
    CHECK(ss_scan_acc_on_layer_done(&acc, 0, &(ss_error){0}) == SS_OK); /* a prompt missing a layer */
    CHECK(ss_scan_acc_end_prompt(&acc, &err) == SS_ERR_USAGE);
    CHECK(acc.prompts == 0);
    ss_scan_acc_free(&acc);
    CHECK(ss_scan_acc_init(&acc, 0, 2, 8, 4, 0, NULL, &err) == SS_ERR_USAGE);
}

TEST_MAIN(TEST(test_matches_reference_slash), TEST(test_same_as_plain_loop),
          TEST(test_reversed_sums_same_as_plain),
          TEST(test_row_sum_identity), TEST(test_bins), TEST(test_maps), TEST(test_merge_halves),
          TEST(test_concurrent_heads), TEST(test_bad_calls))
