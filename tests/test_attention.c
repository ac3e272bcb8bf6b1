/* The attention kernel against a plain double-precision loop (softmax of
 * q.k * scale over the visible keys, then the weighted sum of values), on
 * lengths that are not multiples of the tile sizes, with and without a
 * sliding window, head sizes inside and outside the register tiles, and
 * with one thread per head as well as a team of threads on one head. Also
 * the observer contract: every row once, blocks in increasing row0, one
 * thread per head. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/slash.h"
#include "engine/attention.h"
#include "harness.h"

typedef struct {
    int n, next_row, bad_order, thread, threads_seen;
    double *p; /* [n, n] probabilities as the observer saw them */
} seen;

static void on_block(void *ctx, int head, int row0, int nrows, const float *p, int64_t ld)
{
    seen *s = ctx;
    (void)head;
    if (row0 != s->next_row)
        s->bad_order = 1;
    s->next_row = row0 + nrows;
    int t = omp_get_thread_num();
    if (t != s->thread) {
        s->thread = t;
        s->threads_seen++;
    }
    for (int r = 0; r < nrows; r++)
        for (int j = 0; j <= row0 + r; j++)
            s->p[(size_t)(row0 + r) * s->n + j] = p[r * ld + j];
}

static float value(unsigned i, unsigned salt)
{
    return (float)((i * 2654435761u + salt * 40503u) % 2001u) / 1000.0f - 1.0f;
}

/* Reference row i: probabilities p [n] and output o [d]. */
static void reference_row(const float *q, const float *k, const float *v, int n, int d, int window,
                          double scale, int i, double *p, double *o)
{
    int first = window > 0 && i - window + 1 > 0 ? i - window + 1 : 0;
    double mx = -INFINITY, sum = 0;
    for (int j = 0; j < n; j++) {
        p[j] = 0;
        if (j < first || j > i)
            continue;
        double s = 0;
        for (int x = 0; x < d; x++)
            s += (double)q[(size_t)i * d + x] * k[(size_t)j * d + x];
        p[j] = s * scale;
        mx = p[j] > mx ? p[j] : mx;
    }
    for (int j = first; j <= i; j++)
        sum += (p[j] = exp(p[j] - mx));
    for (int x = 0; x < d; x++)
        o[x] = 0;
    for (int j = first; j <= i; j++) {
        p[j] /= sum;
        for (int x = 0; x < d; x++)
            o[x] += p[j] * v[(size_t)j * d + x];
    }
}

static void check_head(int n, int d, int window, int block, int team)
{
    float *q = malloc(sizeof(float) * n * d), *k = malloc(sizeof(float) * n * d);
    float *v = malloc(sizeof(float) * n * d), *out = calloc((size_t)n * d, sizeof(float));
    for (unsigned i = 0; i < (unsigned)(n * d); i++) {
        q[i] = value(i, 1);
        k[i] = value(i, 2);
        v[i] = value(i, 3);
    }
    double scale = 1.0 / sqrt((double)d);
    float *scratch = malloc(sizeof(float) * (size_t)(team ? ss_attend_team_floats(n, d, block)
                                                          : ss_attend_scratch_floats(n, d, block)));
    seen s = {.n = n, .thread = -1, .p = calloc((size_t)n * n, sizeof(double))};
    ss_head_attn a = {.q = q, .ldq = d, .k = k, .ldk = d, .v = v, .ldv = d, .out = out, .ldo = d,
                      .n = n, .d_head = d, .block_rows = block, .window = window,
                      .scale = (float)scale};
    if (team) {
        #pragma omp parallel num_threads(2)
        ss_attend_head_team(&a, scratch, on_block, &s, 0);
    } else {
        ss_attend_head(&a, scratch, on_block, &s, 0);
    }
    CHECK_MSG(!s.bad_order && s.next_row == n, "n %d d %d window %d team %d: blocks out of order",
              n, d, window, team);
    CHECK_MSG(s.threads_seen == 1, "n %d team %d: the observer ran on %d threads", n, team,
              s.threads_seen);
    double *p = malloc(sizeof(double) * n), *o = malloc(sizeof(double) * d), ep = 0, eo = 0;
    for (int i = 0; i < n; i++) {
        reference_row(q, k, v, n, d, window, scale, i, p, o);
        for (int j = 0; j <= i; j++)
            ep = fmax(ep, fabs(s.p[(size_t)i * n + j] - p[j]));
        for (int x = 0; x < d; x++)
            eo = fmax(eo, fabs(out[(size_t)i * d + x] - o[x]));
    }
    /* fp32 scores of |q.k| <= d: a few ulps of the largest logit */
    CHECK_MSG(ep < 2e-6 && eo < 2e-6, "n %d d %d window %d block %d team %d: max error p %.3g, out %.3g",
              n, d, window, block, team, ep, eo);
    free(p); free(o); free(s.p); free(scratch); free(q); free(k); free(v); free(out);
}

static void test_single_thread(void)
{
    check_head(1, 64, 0, 64, 0);
    check_head(77, 64, 0, 64, 0);  /* one partial tile row, partial key tiles */
    check_head(203, 64, 0, 16, 0); /* many blocks, last one short */
    check_head(130, 80, 0, 30, 0); /* a block size that is not a multiple of the tile rows */
    check_head(50, 600, 0, 64, 0); /* beyond the register tiles: the SGEMM path */
}

static void test_windows(void)
{
    check_head(203, 64, 7, 16, 0);
    check_head(203, 64, 50, 64, 0);
    check_head(100, 32, 1, 8, 0); /* every row on its diagonal */
}

static void test_team(void)
{
    check_head(203, 64, 0, 64, 1);
    check_head(131, 64, 33, 16, 1);
    check_head(3, 64, 0, 64, 1); /* fewer rows than threads x tile rows */
    check_head(301, 64, 0, 8, 1); /* team blocks of 32 rows: 10, the last one short */
    check_head(301, 64, 20, 8, 1);
    check_head(50, 600, 0, 64, 1);
}

/* A team splits each block in fixed row ranges, so its output and what its
 * observer sees are the same bits whatever the team's size (2, 3 or 4
 * threads), windows included. (Not 1: BLAS then runs threaded itself, in
 * another order; the forward pass never forms a team of one.) */
static void run_team(int threads, int n, int d, int window, int block, float *out, double *p)
{
    float *q = malloc(sizeof(float) * n * d), *k = malloc(sizeof(float) * n * d);
    float *v = malloc(sizeof(float) * n * d);
    for (unsigned i = 0; i < (unsigned)(n * d); i++) {
        q[i] = value(i, 4);
        k[i] = value(i, 5);
        v[i] = value(i, 6);
    }
    float *scratch = malloc(sizeof(float) * (size_t)ss_attend_team_floats(n, d, block));
    seen s = {.n = n, .thread = -1, .p = p};
    ss_head_attn a = {.q = q, .ldq = d, .k = k, .ldk = d, .v = v, .ldv = d, .out = out, .ldo = d,
                      .n = n, .d_head = d, .block_rows = block, .window = window,
                      .scale = (float)(1.0 / sqrt((double)d))};
    #pragma omp parallel num_threads(threads)
    ss_attend_head_team(&a, scratch, on_block, &s, 0);
    CHECK_MSG(!s.bad_order && s.next_row == n && s.threads_seen == 1,
              "team of %d: blocks out of order or on several threads", threads);
    free(scratch); free(q); free(k); free(v);
}

static void check_team_sizes(int n, int d, int window, int block)
{
    float *o1 = calloc((size_t)n * d, sizeof(float)), *o = calloc((size_t)n * d, sizeof(float));
    double *p1 = calloc((size_t)n * n, sizeof(double)), *p = calloc((size_t)n * n, sizeof(double));
    run_team(2, n, d, window, block, o1, p1);
    for (int threads = 3; threads <= 4; threads++) {
        memset(o, 0, sizeof(float) * (size_t)n * d);
        memset(p, 0, sizeof(double) * (size_t)n * n);
        run_team(threads, n, d, window, block, o, p);
        CHECK_MSG(memcmp(p, p1, sizeof(double) * (size_t)n * n) == 0,
                  "n %d window %d block %d: a team of %d sees other probabilities than a team "
                  "of 2", n, window, block, threads);
        CHECK_MSG(memcmp(o, o1, sizeof(float) * (size_t)n * d) == 0,
                  "n %d window %d block %d: a team of %d computes another output than a team "
                  "of 2", n, window, block, threads);
    }
    free(o1); free(o); free(p1); free(p);
}

static void test_team_size_free(void)
{
    check_team_sizes(203, 64, 0, 64);
    check_team_sizes(131, 64, 33, 16);
    check_team_sizes(300, 64, 0, 40); /* a block that is not a multiple of the task rows */
    check_team_sizes(300, 64, 0, 12); /* a team block of 48 rows: 7, the last one short */
}

/* ss_attend_head_slash against the kernel's probabilities summed by the
 * scan's own loop: the same sums, bit for bit (freq relies on it: an empty
 * ablation reproduces the unablated scores exactly). */
typedef struct {
    double *rdiag;
    int n, skip;
} sums;

static void add_sums(void *ctx, int head, int row0, int nrows, const float *p, int64_t ld)
{
    sums *s = ctx;
    (void)head;
    ss_slash_add_rows_rev(s->rdiag, s->n, p, ld, row0, nrows, s->skip);
}

/* The reversed per-diagonal sums of a head's probabilities in double, from
 * the definitions alone: scores q_i . k_j scaled, soft-capped (cap tanh(s /
 * cap)), softmax over the visible keys, rdiag[n - 1 - (i - j)] += P[i][j]
 * for keys j >= skip. */
static void reference_rdiag(const float *q, const float *k, int n, int d, int window,
                            double scale, double cap, int skip, double *rdiag)
{
    double *p = malloc(sizeof(double) * n);
    for (int x = 0; x < n; x++)
        rdiag[x] = 0;
    for (int i = 0; i < n; i++) {
        int first = window > 0 && i - window + 1 > 0 ? i - window + 1 : 0;
        double mx = -INFINITY, sum = 0;
        for (int j = first; j <= i; j++) {
            double s = 0;
            for (int x = 0; x < d; x++)
                s += (double)q[(size_t)i * d + x] * k[(size_t)j * d + x];
            s *= scale;
            p[j] = cap > 0 ? cap * tanh(s / cap) : s;
            mx = fmax(mx, p[j]);
        }
        for (int j = first; j <= i; j++)
            sum += (p[j] = exp(p[j] - mx));
        for (int j = first > skip ? first : skip; j <= i; j++)
            rdiag[n - 1 - (i - j)] += p[j] / sum;
    }
    free(p);
}

/* largest |a - b| / (1 + |b|) */
static double worst_rel(const double *a, const double *b, int n)
{
    double w = 0;
    for (int x = 0; x < n; x++)
        w = fmax(w, fabs(a[x] - b[x]) / (1 + fabs(b[x])));
    return w;
}

static void check_slash(int n, int d, int window, int block, int skip, float softcap)
{
    float *q = malloc(sizeof(float) * n * d), *k = malloc(sizeof(float) * n * d);
    for (unsigned i = 0; i < (unsigned)(n * d); i++) {
        q[i] = 2.0f * value(i, 4);
        k[i] = 2.0f * value(i, 5);
    }
    float *scratch = malloc(sizeof(float) * (size_t)ss_attend_scratch_floats(n, d, block));
    double *want = calloc((size_t)n, sizeof(double)), *got = calloc((size_t)n, sizeof(double));
    ss_head_attn a = {.q = q, .ldq = d, .k = k, .ldk = d, .n = n, .d_head = d,
                      .block_rows = block, .window = window, .scale = 1.0f / sqrtf((float)d),
                      .softcap = softcap};
    sums s = {want, n, skip};
    ss_attend_head(&a, scratch, add_sums, &s, 0);
    ss_attend_head_slash(&a, scratch, got, skip);
    int same = 1;
    for (int x = 0; x < n; x++)
        same &= memcmp(&want[x], &got[x], sizeof(double)) == 0;
    CHECK_MSG(same, "n %d d %d window %d block %d skip %d softcap %g: fused sums differ", n, d,
              window, block, skip, softcap);
    double *ref = malloc(sizeof(double) * n); /* and both against the definition */
    reference_rdiag(q, k, n, d, window, a.scale, softcap, skip, ref);
    double off = worst_rel(got, ref, n);
    CHECK_MSG(off < 1e-5, "n %d d %d window %d block %d skip %d softcap %g: sums off the "
              "double reference by %.3g", n, d, window, block, skip, softcap, off);
    free(ref);
    /* and the sums are of probabilities: each row adds 1 when skip is 0 */
    if (skip == 0) {
        double total = 0;
        for (int x = 0; x < n; x++)
            total += got[x];
        CHECK_NEAR(total, (double)n, 1e-4 * n);
    }
    free(q); free(k); free(scratch); free(want); free(got);
}

/* ss_attend_shared_slash: variants that differ in a few dims (as band
 * ablations do) against each variant re-scored on its own; the sums differ
 * by the order of each score's additions only. */
static void check_shared(int n, int d, int window, int block, int skip, float softcap, int n_u)
{
    enum { V = 3 };
    float *q[V], *k[V];
    int dims_u[64];
    for (int x = 0; x < n_u; x++)
        dims_u[x] = (x * 5 + 1) % d; /* ascending as long as 5 n_u < d */
    for (int v = 0; v < V; v++) {
        q[v] = malloc(sizeof(float) * n * d);
        k[v] = malloc(sizeof(float) * n * d);
        for (unsigned i = 0; i < (unsigned)(n * d); i++) {
            q[v][i] = 2.0f * value(i, 6);
            k[v][i] = 2.0f * value(i, 7);
        }
        for (int i = 0; i < n; i++) /* each variant's own values in its dims */
            for (int x = 0; x < n_u; x++) {
                q[v][(size_t)i * d + dims_u[x]] = 2.0f * value((unsigned)(i * d + x), 10 + v);
                k[v][(size_t)i * d + dims_u[x]] = 2.0f * value((unsigned)(i * d + x), 20 + v);
            }
    }
    ss_head_attn a = {.q = q[0], .ldq = d, .k = k[0], .ldk = d, .n = n, .d_head = d,
                      .block_rows = block, .window = window, .scale = 1.0f / sqrtf((float)d),
                      .softcap = softcap};
    float *scratch = malloc(sizeof(float) * (size_t)ss_attend_shared_floats(n, d, block, V, n_u));
    double *want[V], *got[V], worst = 0;
    for (int v = 0; v < V; v++) {
        want[v] = calloc((size_t)n, sizeof(double));
        got[v] = calloc((size_t)n, sizeof(double));
        ss_head_attn b = a;
        b.q = q[v];
        b.k = k[v];
        ss_attend_head_slash(&b, scratch, want[v], skip);
    }
    ss_attend_shared_slash(&a, V, (const float *const *)q, (const float *const *)k, dims_u, n_u,
                           scratch, got, skip);
    double moved = 0;
    for (int v = 0; v < V; v++)
        for (int x = 0; x < n; x++) {
            worst = fmax(worst, fabs(got[v][x] - want[v][x]) / (1 + fabs(want[v][x])));
            moved = fmax(moved, fabs(want[v][x] - want[0][x]));
        }
    CHECK_MSG(worst < 1e-5, "n %d d %d window %d block %d skip %d softcap %g n_u %d: shared sums "
              "off by %.3g", n, d, window, block, skip, softcap, n_u, worst);
    double *ref = malloc(sizeof(double) * n); /* each variant against the definition too */
    for (int v = 0; v < V; v++) {
        reference_rdiag(q[v], k[v], n, d, window, a.scale, softcap, skip, ref);
        double off = worst_rel(got[v], ref, n);
        CHECK_MSG(off < 1e-5, "n %d d %d window %d n_u %d variant %d: shared sums off the "
                  "double reference by %.3g", n, d, window, n_u, v, off);
    }
    free(ref);
    CHECK(n_u == 0 || n < 3 || moved > 1e-6); /* the variants do differ */
    for (int v = 0; v < V; v++) {
        free(q[v]); free(k[v]); free(want[v]); free(got[v]);
    }
    free(scratch);
}

static void test_shared_sums(void)
{
    check_shared(203, 64, 0, 64, 4, 0, 6);
    check_shared(203, 64, 0, 16, 0, 0, 12);
    check_shared(131, 64, 33, 16, 4, 0, 6); /* window */
    check_shared(77, 64, 0, 64, 4, 5.0f, 6); /* softcap */
    check_shared(130, 32, 0, 30, 4, 0, 0);  /* nothing differs */
    check_shared(50, 600, 0, 64, 4, 0, 6);  /* beyond the tiles: each variant on its own */
    check_shared(3, 64, 0, 64, 0, 0, 6);
}

static void test_slash_sums(void)
{
    check_slash(203, 64, 0, 64, 4, 0);
    check_slash(203, 64, 0, 16, 0, 0);
    check_slash(131, 64, 33, 16, 4, 0);  /* window: keys left of it add nothing */
    check_slash(100, 32, 1, 8, 0, 0);    /* every row on its diagonal */
    check_slash(77, 64, 0, 64, 4, 5.0f); /* Gemma 2's softcap */
    check_slash(50, 600, 0, 64, 4, 0);   /* the SGEMM path */
    check_slash(3, 64, 0, 64, 5, 0);     /* skip beyond every row */
}

TEST_MAIN(TEST(test_single_thread), TEST(test_windows), TEST(test_team), TEST(test_team_size_free), TEST(test_slash_sums),
          TEST(test_shared_sums))
