/* Causal softmax attention of one query head, one block of query rows at a
 * time: the only place probabilities exist, as a [block, n] scratch.
 * Scores come from register tiles over the visible keys only (AVX2), a few
 * rows at a time so they are still in cache for the softmax. */
#ifndef SS_ENGINE_ATTENTION_H
#define SS_ENGINE_ATTENTION_H

#include <stdint.h>

#include "engine/forward.h"

typedef struct {
    const float *q; int64_t ldq; /* rotated queries of this head, rows 0..n-1 */
    const float *k; int64_t ldk; /* rotated keys of its key/value head */
    const float *v; int64_t ldv; /* values, or NULL to skip the output */
    float *out; int64_t ldo;     /* output rows, or NULL */
    int n, d_head, block_rows;
    int window; /* > 0: query i sees only keys i - window + 1 .. i (Mistral, local layers) */
    float scale;
    float softcap; /* > 0: scores s become softcap tanh(s / softcap) before the mask (Gemma 2) */
} ss_head_attn;

/* Floats of scratch ss_attend_head needs for a head of n tokens. */
int64_t ss_attend_scratch_floats(int n, int d_head, int block_rows);

/* Runs the head block by block on the calling thread; for each block calls
 * cb(ctx, tag, row0, nrows, p, ld) with the probabilities (entries above
 * the diagonal are 0 up to the block's last row, undefined beyond).
 * scratch holds ss_attend_scratch_floats floats. */
void ss_attend_head(const ss_head_attn *a, float *scratch, ss_probs_cb cb, void *ctx, int tag);

/* The per-diagonal sums of the head's probabilities, nothing else (no
 * output, no observer): rdiag[n - 1 - (i - j)] += p_ij for skip <= j <= i,
 * the reversed layout of analysis/slash.h (ss_slash_add_rows_rev), with the
 * softmax's scaling fused into the sums. The same sums, bit for bit, as
 * ss_attend_head with an observer calling ss_slash_add_rows_rev, with one
 * pass over each row and the zeroing fewer. For re-scoring heads (freq's
 * band ablations). On the calling thread; a->v is not read. */
void ss_attend_head_slash(const ss_head_attn *a, float *scratch, double *rdiag, int skip);

/* ss_attend_head_slash for n_var schedules of one head at once (freq's band
 * ablations): variant v's rotated queries and keys in q[v], k[v] (rows of
 * d_head floats), equal in every dim but the n_u ascending dims_u. The
 * shared dims' part of each score is computed once, each variant's own dims
 * are added to it: for three bands of 10% of the frequencies about half the
 * multiply-adds of three separate passes. The sums differ from
 * ss_attend_head_slash's only by the order of each score's additions (a few
 * ulps of a logit). a gives n, d_head, block_rows, window, scale, softcap;
 * scratch holds ss_attend_shared_floats(n, d_head, block_rows, n_var, n_u). */
int64_t ss_attend_shared_floats(int n, int d_head, int block_rows, int n_var, int n_u);
void ss_attend_shared_slash(const ss_head_attn *a, int n_var, const float *const *q,
                            const float *const *k, const int *dims_u, int n_u, float *scratch,
                            double *const *rdiag, int skip);

/* The same with every thread of the enclosing parallel region working on
 * each block (all threads call it with the same arguments and one shared
 * scratch of ss_attend_team_floats floats); cb is called by the master
 * thread only, block after block, so the observer contract holds. For
 * heads left over when there are fewer heads than threads. The work is
 * split in fixed row ranges whatever the team's size, so the results do
 * not depend on it. */
int64_t ss_attend_team_floats(int n, int d_head, int block_rows);
void ss_attend_head_team(const ss_head_attn *a, float *scratch, ss_probs_cb cb, void *ctx, int tag);

/* Precomputed cos/sin of every active frequency at every position, times
 * the schedule's attn_factor (yarn, longrope). Built for n positions, so a
 * length-dependent schedule (dynamic NTK, longrope) takes its angles for a
 * sequence of n tokens (ss_rope_at_length). */
typedef struct {
    int n, n_freq;
    double *cos_sin; /* [n][n_freq][2] */
    const ss_rope *rope;
    double factor;   /* rope->attn_factor: inactive pairs are scaled by it, not rotated */
} ss_rope_table;

ss_code ss_rope_table_build(ss_rope_table *t, const ss_rope *rope, int n, ss_error *err);
void ss_rope_table_free(ss_rope_table *t);
/* What a layer's attention applies besides RoPE, so that re-scoring a head
 * gives what the model computes there. */
typedef struct {
    double scale;   /* logit scale */
    double softcap; /* > 0: Gemma 2's attention-logit soft-capping */
    int window;     /* > 0: the layer's sliding window */
} ss_attn_layer;

/* The scale, softcap and window of layer l of a model with config c. */
ss_attn_layer ss_attn_layer_of(const ss_config *c, int l);

/* ss_head_probs (engine/forward.h) with a table built once by the caller,
 * for re-scoring many heads under the same schedule and length (t->n rows),
 * with the attention details of the head's layer. */
ss_code ss_head_probs_table(const float *q, int64_t ldq, const float *k, int64_t ldk, int d_head,
                            const ss_rope_table *t, const ss_attn_layer *al, int block_rows,
                            int head_tag, ss_probs_cb cb, void *ctx, ss_error *err);

/* Floats of work ss_head_slash_table needs (rotated q and k, the
 * kernel's scratch). */
int64_t ss_rescore_floats(int n, int d_head, int block_rows);

/* ss_head_probs_table's probabilities straight into reversed per-diagonal
 * sums (ss_attend_head_slash: the same sums, bit for bit, as an observer
 * calling ss_slash_add_rows_rev with skip), in the caller's work of
 * ss_rescore_floats floats: nothing allocated, so it cannot fail. */
void ss_head_slash_table(const float *q, int64_t ldq, const float *k, int64_t ldk, int d_head,
                         const ss_rope_table *t, const ss_attn_layer *al, int block_rows,
                         float *work, double *rdiag, int skip);

/* ss_head_slash_table under n_var (<= SS_RESCORE_MAX_VAR) tables at once,
 * variant v's sums into rdiag[v], through ss_attend_shared_slash (the dims
 * the tables rotate alike are scored once); work holds
 * ss_rescore_shared_floats floats. */
#define SS_RESCORE_MAX_VAR 8
int64_t ss_rescore_shared_floats(int n, int d_head, int block_rows, int n_var);
void ss_head_slash_shared(const float *q, int64_t ldq, const float *k, int64_t ldk, int d_head,
                          const ss_rope_table *const *t, int n_var, const ss_attn_layer *al,
                          int block_rows, float *work, double *const *rdiag, int skip);

/* Rotates rows 0..n-1 of `heads` heads stored at x (row stride ld, head h
 * at column h * d_head) in place: pair (f, f + n_freq) by frequency f; dims
 * from 2 n_freq on (partial rotary) are left alone. */
void ss_rope_table_apply(const ss_rope_table *t, float *x, int64_t ld, int heads, int d_head);

/* The same for a layer's queries and keys in one parallel region (one
 * wake-up of the other threads instead of two). */
void ss_rope_table_apply_qk(const ss_rope_table *t, float *q, int64_t ldq, int q_heads, float *k,
                            int64_t ldk, int k_heads, int d_head);

#endif
