/* The in-context linear regression data of section 5.1 (SPEC.md section 6).
 *
 * K orthonormal features v_1..v_K in R^{d_x} (we take the first K standard
 * basis vectors: any orthonormal set gives the same model up to a rotation
 * of the x block), x ~ uniform over them, a task w, y = <w, x>. A prompt is
 * (x_1, y_1, ..., x_Nin, y_Nin, x_q), N = 2 N_in + 1, positions 0-based.
 *
 * Layout for an offset Delta (the paper's "place y_i at distance Delta from
 * x_i"): pairs come in blocks of Delta, each block being its Delta inputs
 * followed by their Delta labels, so pair i (0-based) sits at
 *   x_i: 2 Delta (i / Delta) + i % Delta,   y_i: that + Delta,
 * and the question at N - 1. Delta = 1 is the paper's x_1 y_1 x_2 y_2 ...
 * N_in must be a multiple of Delta.
 *
 * The semantic part of the embeddings (E^{x,y}, d_s = d_x + 2 columns) is
 * kept sparse: an input or question token is e_feat, a label token is
 * e_{d_x} + y e_{d_x + 1}. The cone part [c; ...] is the same for every
 * token and lives in the model (rmodel.h). */
#ifndef SS_THEORY_ICL_H
#define SS_THEORY_ICL_H

#include <stdint.h>

#include "common/error.h"
#include "theory/rng.h"

typedef struct {
    int n_in;  /* demonstrations per prompt */
    int K;     /* features */
    int d_x;   /* feature space dimension, >= K, even (RoPE pairs) */
    int delta; /* distance from x_i to y_i */
} ss_icl_config;

/* Checks the config: n_in >= 1, 1 <= K <= d_x, d_x even, delta >= 1,
 * n_in % delta == 0. Names the offending field. */
ss_code ss_icl_check(const ss_icl_config *c, ss_error *err);
static inline int ss_icl_len(const ss_icl_config *c) { return 2 * c->n_in + 1; }

/* Where pair i's input and label sit. */
int ss_icl_pos_x(const ss_icl_config *c, int i);
int ss_icl_pos_y(const ss_icl_config *c, int i);

enum { SS_TOK_X = 0, SS_TOK_Y = 1, SS_TOK_Q = 2 };

/* One prompt, arrays of length N owned by the caller (see ss_icl_batch). */
typedef struct {
    int8_t *kind;  /* SS_TOK_X / SS_TOK_Y / SS_TOK_Q */
    int16_t *feat; /* input/question: its feature; label: its input's feature */
    double *val;   /* label: y; otherwise 0 */
    int q_feat;    /* feature of the question */
    double y_q;    /* <w, x_q>: the target */
} ss_icl_prompt;

/* The task distribution: the training one (w ~ N(0, I)) and the shifts the
 * OOD evaluation uses. */
typedef enum {
    SS_TASK_GAUSS = 0, /* w ~ N(0, I_{d_x}) */
    SS_TASK_SCALED,    /* w ~ N(0, scale^2 I) */
    SS_TASK_SHIFTED,   /* w ~ N(shift * 1, I) */
    SS_TASK_ONEHOT     /* w = e_m, m uniform over the K features: y in {0, 1} */
} ss_task_kind;

typedef struct {
    ss_task_kind kind;
    double scale, shift;
} ss_task;

/* A batch of B prompts in one allocation. */
typedef struct {
    int B, N;
    ss_icl_prompt *p;
    int8_t *kind;
    int16_t *feat;
    double *val;
} ss_icl_batch;

ss_code ss_icl_batch_alloc(ss_icl_batch *b, int B, int N, ss_error *err);
void ss_icl_batch_free(ss_icl_batch *b);

/* Draws prompt `index` of a batch from the stream (seed, stream, index):
 * the same triple always gives the same prompt. */
void ss_icl_sample(const ss_icl_config *c, const ss_task *t, uint64_t seed, uint64_t stream,
                   uint64_t index, ss_icl_prompt *p);
/* Fills the whole batch (prompt b from index b). */
void ss_icl_fill(const ss_icl_config *c, const ss_task *t, uint64_t seed, uint64_t stream,
                 ss_icl_batch *b);

#endif
