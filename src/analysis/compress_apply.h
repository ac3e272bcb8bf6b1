/* A low-rank plan (analysis/compress.h) applied to a model in memory, and
 * the plan read back from a compress result folder (issue 14: --lowrank,
 * compress --write-model / --eval-prompts).
 *
 * For one (thre, rank_thre) pair every compressed matrix W (R_thre <=
 * rank_thre and R_thre < d_head) becomes W' = sum_{l in K} sigma_l u_l v_l^T,
 * K its R_thre kept directions (largest mean shares first, eq. 20), computed
 * in double from the dense SVD and rounded to float32 once; the bias is kept
 * whole. A layer with a compressed matrix gets an F32 copy of its whole
 * q (or k) projection with the compressed heads' rows replaced, in the
 * checkpoint's own row order (an interleaved checkpoint permutes rows within
 * a head, which a row-wise reconstruction keeps); other layers keep their
 * tensors untouched, so a plan that compresses nothing changes no bit. */
#ifndef SS_ANALYSIS_COMPRESS_APPLY_H
#define SS_ANALYSIS_COMPRESS_APPLY_H

#include "analysis/compress.h"
#include "model/model.h"

/* The SVDs of the heads' original W_Q / W_K, each computed when a plan first
 * compresses that head and kept for the next plans (compress --eval-prompts
 * applies one plan after another: the SVD of a head does not depend on the
 * plan). The same dgesdd on the same weights, so a plan applied with the
 * cache is bit for bit the plan applied without it. An SVD takes
 * (d_head + d_head^2 + d_head d) doubles; heads beyond `budget` bytes are not
 * kept (computed for each plan, as without a cache). */
typedef struct {
    const ss_model *m;
    double **svd;               /* [L H + L K]: sigma [dh], u [dh, dh], vt [dh, d]; or NULL */
    const ss_tensor **of;       /* [2 L]: the wq / wk the layer's SVDs are of */
    size_t bytes, budget;
    int64_t computed;           /* SVDs computed, kept or not */
} ss_lowrank_svds;

ss_code ss_lowrank_svds_init(ss_lowrank_svds *s, const ss_model *m, size_t budget,
                             ss_error *err);
void ss_lowrank_svds_free(ss_lowrank_svds *s);

typedef struct {
    ss_model *m;
    const ss_compress_result *r; /* the plan (borrowed; NULL once it is freed:
                                  * ss_lowrank_apply_spec's applied plans) */
    double thre;
    const ss_tensor **orig;  /* [2 L]: each layer's wq, wk before */
    ss_tensor *repl;         /* [2 L]: replacements (data NULL: none) */
    int *rank;               /* [L H + L K]: kept rank of compressed matrices, 0 untouched */
    int compressed;          /* matrices replaced */
    ss_lowrank_svds *svds;   /* the heads' kept SVDs (borrowed; NULL: computed each time) */
} ss_lowrank_applied;

/* Replaces m's compressed W_Q / W_K for the pair (thre, rank_thre) of plan r
 * (whose shapes must be m's). Undo with ss_lowrank_restore before closing m. */
ss_code ss_lowrank_apply(ss_model *m, const ss_compress_result *r, double thre, int rank_thre,
                         ss_lowrank_applied *out, ss_error *err);

/* ss_lowrank_apply taking each head's SVD from svds (NULL: none kept). The
 * plans must be applied one at a time onto the original weights (restore
 * before the next); a layer whose weights are not those the kept SVDs are
 * of is an error. */
ss_code ss_lowrank_apply_svds(ss_model *m, const ss_compress_result *r, double thre,
                              int rank_thre, ss_lowrank_svds *svds, ss_lowrank_applied *out,
                              ss_error *err);
void ss_lowrank_restore(ss_lowrank_applied *a);

/* The pair's kept ranks (rank, compressed) without building or binding
 * anything (orig, repl NULL): what compress --write-model needs to write
 * the model one matrix at a time. ss_lowrank_restore frees it. */
ss_code ss_lowrank_plan(ss_model *m, const ss_compress_result *r, double thre, int rank_thre,
                        ss_lowrank_applied *out, ss_error *err);
/* Whether layer l's W_Q (key 0) / W_K has a compressed head. */
int ss_lowrank_replaced(const ss_lowrank_applied *a, int layer, int key);
/* That matrix under the plan, built from the source's weights: F32
 * [heads * d_head, d_model] in the checkpoint's row order, compressed heads
 * reconstructed, the others the source's rows; the caller frees *out. */
ss_code ss_lowrank_matrix(const ss_lowrank_applied *a, int layer, int key, float **out,
                          ss_error *err);

/* Kept rank of query head h / key head h of layer l (0: not compressed). */
int ss_lowrank_rank(const ss_lowrank_applied *a, int layer, int head, int key);

/* The shares of a compress result folder (energy_q.npy, energy_k.npy) as an
 * ss_compress_result, and its thre / rank_thre lists (plan.json), each at
 * most cap long. */
ss_code ss_compress_plan_read(const char *dir, ss_compress_result *r, double *thre, int *n_thre,
                              int *rank_thre, int *n_rank, int cap, ss_error *err);

#endif
