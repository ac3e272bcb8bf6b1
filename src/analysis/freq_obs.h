/* RoPE frequencies of chosen heads (SPEC.md section 5; paper section 4.4,
 * Figures 15-17, Table 5; Barbero et al. Figures 3-4 and appendix E.1) as an
 * observer of the forward pass, over prompts of one length n.
 *
 * In on_layer (pre-RoPE q and k of the layer in hand) for every chosen head:
 *  - InP(i, j, l) for the query row i = `row`, every key j <= i (first prompt
 *    only: Figure 15 is one prompt);
 *  - sum of |InP(i, j, l)| over `inp_rows` query rows spread evenly over
 *    [skip, n-1] and their keys j in [skip, i]: the mean |InP| that picks the
 *    active frequencies (keys before `skip` are left out as in the slash
 *    score, so the attention-sink token does not decide);
 *  - the Cauchy-Schwarz ratio logit / (s ||q_i|| ||k_j||) at offsets
 *    0..max_delta over i with j = i - delta >= skip;
 *  - each band ablation: the head's probabilities recomputed from the same
 *    q and k under the ablated schedule (ss_head_probs; the model is not
 *    rerun) and added to per-diagonal sums, as the unablated probabilities
 *    are from on_probs.
 * For every head (cheap): the mean 2-norm of each frequency's chunk of q and
 * of k (frequency usage, Barbero Fig. 3-4), over every token.
 *
 * Slash sums follow analysis/slash.h exactly (skip, per-prompt means, counts),
 * so score_ablated / score is the paper's Figure 16 / Table 5 ratio. */
#ifndef SS_ANALYSIS_FREQ_OBS_H
#define SS_ANALYSIS_FREQ_OBS_H

#include <stdint.h>

#include "analysis/analysis.h"
#include "common/error.h"
#include "engine/attention.h"
#include "engine/observer.h"
#include "model/model.h"
#include "analysis/inp.h"

typedef struct {
    char name[32];              /* "high", "medium", "low", "custom", ... */
    int n_removed;
    int removed[SS_ROPE_MAX_FREQ]; /* 1-based l, ascending */
    ss_rope rope;               /* the run's schedule with those left unrotated */
    ss_rope rope_local;         /* the same removal on the local layers' angles (Gemma 3) */
} ss_ablation;

/* Adds an ablation removing l[0..n) (1-based) from base; name is copied. */
ss_code ss_ablation_make(ss_ablation *ab, const char *name, const ss_rope *base, const int *l,
                         int n, ss_error *err);

typedef struct {
    int layer, head;
} ss_head_ref;

typedef struct {
    int row;          /* InP query row (0-based, < n) */
    int inp_rows;     /* query rows for the mean |InP| (>= 1) */
    int skip;         /* slash-score skip k (SPEC.md section 2) */
    int max_delta;    /* Cauchy-Schwarz offsets 0..max_delta */
    int block_rows;   /* for ss_head_probs (0: 64) */
    double active_frac; /* active frequencies: mean |InP| above this share of the
                         * head's largest (the paper: 0.1; analysis/freq_result.h) */
} ss_freq_opts;

typedef struct {
    int n_layer, n_head, n_kv_head, d_head, n_freq, n;
    double scale;
    ss_freq_opts o;
    ss_rope rope;                /* the schedule the forward runs */
    const ss_model *model;       /* ss_freq_analysis_new's (for fresh), or NULL */
    int n_sel;
    ss_head_ref *sel;
    int *slot_of;                /* [L * H] -> selection slot or -1 */
    int n_abl;
    ss_ablation *abl;            /* borrowed */
    ss_rope_table *abl_table;    /* [n_abl]: each ablation's cos/sin, built once */
    int n_var;                   /* n_abl + 1: variant 0 is the unablated run */
    ss_inp_table table;
    int *rows;                   /* the mean-|InP| query rows */
    int n_rows;
    /* per prompt */
    double *diag;                /* [n_head, n_var, n]: the layer under way's heads */
    /* over prompts */
    int64_t prompts;
    double *score_sum;           /* [n_sel, n_var, n] */
    int64_t *score_cnt;          /* [n]: prompts counted at each offset, the same for every
                                  * head and variant (each sees every prompt) */
    double *inp;                 /* [n_sel, (row + 1) * F] from the first prompt */
    int inp_filled;
    double *inp_abs;             /* [n_sel, F] sums of |InP| */
    int64_t *inp_abs_n;          /* [n_sel] pairs summed */
    double *cs_sum, *cs_min, *cs_max, *cs_logit, *cs_bound; /* [n_sel, max_delta + 1] */
    int64_t *cs_n;
    double *use_q, *use_k;       /* [L, H, F], [L, H_kv, F] sums of chunk norms */
    int64_t use_rows;            /* tokens summed per head */
    unsigned char *layer_done;   /* [L] in the prompt under way */
    int *layer_slots;            /* [H] scratch: the slots of one layer */
    /* per layer: the attention it computes (scale, softcap, window), and
     * whether it runs the local schedule (Gemma 3; ss_freq_acc_set_local) */
    ss_attn_layer *attn;         /* [L] */
    unsigned char *local;        /* [L] */
    int has_local;
    ss_rope rope_local;
    ss_inp_table table_local;
    ss_rope_table *abl_table_local; /* [n_abl] */
    /* partial rotary: sums of |s q_nope . k_nope| over the mean-|InP| pairs */
    double *nope_abs;            /* [n_sel] */
    float *work;                 /* [work_threads][work_floats()]: re-scoring buffers (what the single and shared kernels need) */
    int64_t work_per;            /* floats of work per thread (work_floats(), fixed by the run) */
    int work_threads;
    double *key_norms;           /* [norm_threads][n]: a thread's squared key norms (cs_work) */
    int norm_threads;
} ss_freq_acc;

/* sel: the chosen heads (copied); abl: ablations (borrowed, alive until
 * free); rope: the schedule of the forward pass (the ablations' base). */
ss_code ss_freq_acc_init(ss_freq_acc *a, const ss_config *c, const ss_rope *rope, int n,
                         const ss_head_ref *sel, int n_sel, ss_ablation *abl, int n_abl,
                         const ss_freq_opts *o, ss_error *err);
/* The angles of the model's local layers (Gemma 3), with the run's active
 * flags (ss_layer_rope_override); required before the pass when any layer
 * of the config is local. The InP, ablations and frequency condition of a
 * head use its own layer's schedule. */
ss_code ss_freq_acc_set_local(ss_freq_acc *a, const ss_rope *local, ss_error *err);
/* The schedule layer l runs. */
const ss_rope *ss_freq_acc_layer_rope(const ss_freq_acc *a, int layer);
/* Mean |s q_nope . k_nope| of a slot (0 without partial rotary). */
double ss_freq_acc_nope_mean_abs(const ss_freq_acc *a, int slot);
void ss_freq_acc_free(ss_freq_acc *a);
/* freq as an analysis (analysis/analysis.h): arguments as ss_freq_acc_init
 * but the model in place of its config, so that the local layers' schedule
 * (Gemma 3) is set from it; the state allocated here and released by
 * ss_analysis_free; finish fills an ss_freq_result (analysis/freq_result.h). */
ss_code ss_freq_analysis_new(ss_analysis *an, const ss_model *m, const ss_rope *rope, int n,
                             const ss_head_ref *sel, int n_sel, ss_ablation *abl, int n_abl,
                             const ss_freq_opts *o, ss_error *err);
ss_freq_acc *ss_freq_analysis_acc(const ss_analysis *an);
ss_code ss_freq_acc_on_layer(void *ctx, int layer, int n, const float *h, const float *q,
                             const float *k, ss_error *err);
ss_code ss_freq_acc_on_probs(void *ctx, int layer, int head, int row0, int nrows, const float *p,
                             int64_t ld);
ss_code ss_freq_acc_on_layer_done(void *ctx, int layer, ss_error *err);
ss_code ss_freq_acc_end_prompt(ss_freq_acc *a, ss_error *err);
/* Adds b's sums and counts into a (same heads, ablations, length and
 * settings, else SS_ERR_INCOMPATIBLE); the InP row stays a's first prompt's
 * unless a had none. */
ss_code ss_freq_acc_merge(ss_freq_acc *a, const ss_freq_acc *b, ss_error *err);

/* Average slash score [n] of a slot under variant v (0: unablated, 1 + a:
 * ablation a); NaN where no prompt counted. */
void ss_freq_acc_scores(const ss_freq_acc *a, int slot, int v, double *out);
/* Mean |InP| per frequency [F] of a slot. */
void ss_freq_acc_inp_mean_abs(const ss_freq_acc *a, int slot, double *out);

#endif
