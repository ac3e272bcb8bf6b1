/* slashscope: find and explain slash-dominant attention heads (SDHs) in RoPE
 * language models. The public C API of libslashscope (shared and static).
 *
 * Conventions
 *  - Every fallible call returns an ss_code and fills the caller's ss_error
 *    (code + one line naming the file, field or parameter and what was
 *    expected). There is no global error state, so any thread may call; the
 *    first, most specific message wins, so clear an ss_error (or start from
 *    {0}) before reusing it. SS_STOP is not an error: a run stopped early on
 *    request (ss_interrupt, or a progress callback returning non-zero).
 *  - Handles (ss_model, ss_tokenizer, ss_source, ss_scan) are opaque; each
 *    has one function that frees it. Arrays returned by accessors belong to
 *    their handle and live as long as it does; buffers returned through a
 *    pointer-to-pointer (ids, JSON text, tables) are freed with ss_free.
 *  - Layers, heads, positions and offsets are 0-based; RoPE frequency indices
 *    l are 1-based (l = 1 the highest frequency), as in SPEC.md.
 *  - Arrays are C order: a scan's [L, H, N] array has entry (l, h, d) at
 *    (l * H + h) * N + d.
 *
 * The numbers are those of the `slashscope` program for the same settings,
 * bit for bit (it calls the same library); results saved with ss_scan_save
 * are scan folders in the program's format (docs/scan.md). */
#ifndef SLASHSCOPE_H
#define SLASHSCOPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SS_API __attribute__((visibility("default")))
#else
#define SS_API
#endif

/* ---- errors ---- */

typedef enum {
    SS_OK = 0,
    SS_ERR_IO,          /* cannot open, read, map or write a file */
    SS_ERR_FORMAT,      /* a file is malformed: bad magic, truncated, bad JSON */
    SS_ERR_UNSUPPORTED, /* valid but not supported: architecture, dtype, version */
    SS_ERR_MISSING,     /* a required tensor, field or file is absent */
    SS_ERR_SHAPE,       /* a tensor or array has the wrong shape or dtype */
    SS_ERR_VALUE,       /* a value is out of range: NaN weight, token id, length */
    SS_ERR_USAGE,       /* bad command-line or API arguments */
    SS_ERR_NOMEM,       /* allocation failed */
    SS_ERR_INCOMPATIBLE,/* results that cannot be combined (merge, compare) */
    SS_STOP             /* not an error: an observer, an analysis or the caller's interrupt
                         * ended the work early (like SQLite's SQLITE_ABORT) */
} ss_code;

typedef struct {
    ss_code code;
    char msg[1024];
} ss_error;

SS_API const char *ss_version(void);           /* "MAJOR.MINOR.PATCH" */
SS_API const char *ss_code_name(ss_code code); /* "io", "format", ..., "stop" */
SS_API void ss_error_clear(ss_error *err);
SS_API void ss_free(void *p);

/* Threads for OpenMP and OpenBLAS (n <= 0: leave as is). Process-wide. */
SS_API void ss_set_threads(int n);

/* The slashscope program's start-up choice of BLAS kernels (OpenBLAS reads
 * OPENBLAS_CORETYPE only when it loads; docs/benchmarks.md): the best core
 * the CPU supports (cpuid) unless SLASHSCOPE_BLAS_CORE says otherwise, kept
 * only if it passes a self-check. For a program that can run itself again:
 * call it first thing, before any thread starts; 1 means it has set the
 * environment and the caller must re-execute itself with execv (the same
 * process id carries the decision), 0 means run on. Results record the
 * outcome (the "blas" object's "selection"). The Python package runs it in
 * a child process before it loads this library. */
SS_API int ss_blas_select_core(void);

/* Asks every running ss_run_scan to stop at the next layer boundary; it
 * returns SS_STOP. Async-signal-safe (a C program may call it from its
 * SIGINT handler). Runs clear the request when they start. */
SS_API void ss_interrupt(void);
SS_API int ss_interrupted(void);
SS_API void ss_interrupt_clear(void);

/* ---- models ---- */

typedef struct ss_model ss_model;

/* path: a Hugging Face folder (config.json + safetensors), a .gguf file or a
 * llama2.c checkpoint. */
SS_API ss_code ss_model_open(const char *path, ss_model **out, ss_error *err);
SS_API void ss_model_close(ss_model *m);
/* A NEW model: m with a compress plan's low-rank W_Q / W_K, as the
 * program's --lowrank (docs/compress.md). plan is "PLAN[@THRE,RANK_THRE]": a
 * `slashscope compress` result folder and the pair to apply (a plan of one
 * pair needs none). The new model shares every other tensor with m, so m
 * must stay open until it is closed; ss_model_close on it frees only its own
 * replaced matrices. Its numbers are the program's under --lowrank bit for
 * bit, and its scans and results record the plan as the program does
 * ("lowrank", "lowrank_plan" in the interventions of scan.json and of the
 * results' JSON). A model that carries a plan itself is refused. */
SS_API ss_code ss_model_with_lowrank(const ss_model *m, const char *plan, ss_model **out,
                                     ss_error *err);

typedef struct {
    int n_layers, n_heads, n_kv_heads, head_dim, d_model, d_ff, vocab;
    int context; /* the model's context length in tokens */
    int n_freq;  /* RoPE frequencies: head_dim / 2 */
    int bos_id, eos_id; /* -1 when the model does not say */
} ss_model_dims;

SS_API void ss_model_get_dims(const ss_model *m, ss_model_dims *out);
/* The model's description as JSON text (what `slashscope info --json`
 * prints; docs/cli.md); ss_free it. */
SS_API char *ss_model_config_json(const ss_model *m, ss_error *err);
/* The RoPE angle of every frequency, radians per token, l = 1 first
 * ([n_freq], owned by the model). */
SS_API const double *ss_model_theta(const ss_model *m, int *n_freq);

/* How to run a sequence: RoPE ablations, head interventions and length
 * policy. Zero-initialise for the model as it is. */
typedef struct {
    const int *rope_remove; /* 1-based frequency indices left unrotated */
    int n_rope_remove;
    int use_p_rope;         /* non-zero: p-RoPE with p_rope */
    double p_rope;          /* keep the int(p F) highest frequencies (0 = NoPE) */
    int allow_long;         /* permit sequences longer than the model's context */
    /* The program's --ablate (docs/compress.md): these heads' outputs before
     * W_O replaced by zero or by their mean over the prompt,
     * "L1H3,L2H0[:zero|:mean]"; NULL: none. */
    const char *ablate;
    /* The program's --head-rope-remove, one spec per head: "L1H3:1,2,5-8"
     * leaves those 1-based frequencies unrotated for that query head only. */
    const char *const *head_rope_remove;
    int n_head_rope_remove;
} ss_run_opts;

/* Logits of ids[0..n): out is [n, vocab] (row p predicts token p + 1). */
SS_API ss_code ss_logits(const ss_model *m, const int32_t *ids, int n, const ss_run_opts *o,
                         float *out, ss_error *err);
/* Post-softmax attention of one query head: out is [n, n] (query, key),
 * zero above the diagonal. The model runs only up to that layer. */
SS_API ss_code ss_attention(const ss_model *m, const int32_t *ids, int n, int layer, int head,
                            const ss_run_opts *o, float *out, ss_error *err);

/* ---- tokenizers ---- */

typedef struct ss_tokenizer ss_tokenizer;

/* path: a tokenizer.json, a folder holding one, a GGUF (its vocabulary), a
 * llama2.c tokenizer.bin, or a llama2.c checkpoint (tokenizer.bin or the
 * single tok*.bin beside it). */
SS_API ss_code ss_tokenizer_open(const char *path, ss_tokenizer **out, ss_error *err);
SS_API void ss_tokenizer_free(ss_tokenizer *t);
/* UTF-8 text -> ids (*ids: ss_free it). add_bos puts the BOS id first. */
SS_API ss_code ss_tokenizer_encode(const ss_tokenizer *t, const char *text, size_t len,
                                   int add_bos, int32_t **ids, size_t *n_ids, ss_error *err);
/* Ids -> the text they stand for (the inverse of encode where the tokenizer
 * is lossless; special tokens as their text). *text is NUL-terminated
 * (ss_free it) and may be invalid UTF-8 when the ids cut a character; an
 * id outside the vocabulary is an SS_ERR_VALUE. */
SS_API ss_code ss_tokenizer_decode(const ss_tokenizer *t, const int32_t *ids, size_t n,
                                   char **text, size_t *len, ss_error *err);
/* Whether the model's tokenizer adds BOS by default. */
SS_API int ss_tokenizer_adds_bos(const ss_tokenizer *t);
SS_API int ss_tokenizer_vocab_size(const ss_tokenizer *t);
/* The stored piece of a token, for display (NULL out of range). */
SS_API const char *ss_tokenizer_piece(const ss_tokenizer *t, int id);

/* ---- prompt sources ---- */

typedef enum {
    SS_PROMPTS_TEXT,   /* path: one prompt per line, JSONL (.jsonl/.json or a field), or a
                        * folder of .txt files; tokenized, cut to len */
    SS_PROMPTS_IDS,    /* path: one sequence of token ids per line */
    SS_PROMPTS_OOD,    /* count prompts of i.i.d. uniform ids (seed) */
    SS_PROMPTS_REPEAT  /* a random segment of `segment` ids repeated to len (count, seed) */
} ss_prompt_kind;

/* Meanings as the program's flags of the same names (slashscope scan --help). */
typedef struct {
    ss_prompt_kind kind;
    const char *path;
    const char *field;      /* JSONL: the text field (NULL: "context", else "text") */
    const char *tokenizer;  /* TEXT: another tokenizer (NULL: the model's) */
    int len;                /* tokens per prompt */
    int chunk;              /* TEXT/IDS: join short records into windows of len */
    int64_t count;          /* OOD/REPEAT: prompts; TEXT/IDS: at most this many (0: all) */
    uint64_t seed;          /* OOD/REPEAT */
    int segment;            /* REPEAT: segment length */
    int vocab;              /* OOD/REPEAT: ids from [0, vocab) (0: the model's vocabulary) */
    int bos;                /* OOD/REPEAT: the model's BOS id first */
    int allow_long;         /* permit len beyond the model's context */
} ss_prompt_spec;

typedef struct ss_source ss_source;

/* Opens and hashes the source (errors name the file and what is wrong).
 * The model must outlive the source. */
SS_API ss_code ss_source_open(const ss_model *m, const ss_prompt_spec *spec, ss_source **out,
                              ss_error *err);
SS_API void ss_source_close(ss_source *s);
/* Records (lines, files, prompts) in the source, and its SHA-256 (hex). */
SS_API int64_t ss_source_records(const ss_source *s);
SS_API const char *ss_source_sha256(const ss_source *s);

/* ---- scans (SPEC.md section 2) ---- */

typedef struct ss_scan ss_scan;

/* Called after every prompt with prompts done and expected (0: unknown);
 * a non-zero return stops the scan (SS_STOP). */
typedef int (*ss_progress_fn)(void *user, int64_t done, int64_t total);

typedef struct {
    int skip;               /* leave out key positions < skip (default 4) */
    int block_rows;         /* query rows per attention block (0: 64) */
    int threads;            /* recorded in scan.json; 0: the current OpenMP count */
    ss_run_opts run;        /* RoPE ablation, allow_long */
    ss_progress_fn progress;
    void *progress_user;
    const char *maps;       /* pooled mean attention maps of these heads, as `scan --maps`:
                             * "L0H1,L3H2", "all", "sdh" (this scan's own SDHs) or "sdh:DIR"
                             * (the SDHs of the scan folder DIR, same model); NULL: none */
    int map_size;           /* bins per side of a map (0: 256; B = min(map_size, len)) */
} ss_scan_params;

SS_API ss_scan_params ss_scan_defaults(void);

/* Every prompt of src (read to its end) through the model; the average
 * slash score of every layer, head and offset. */
SS_API ss_code ss_run_scan(const ss_model *m, ss_source *src, const ss_scan_params *p,
                           ss_scan **out, ss_error *err);
SS_API void ss_scan_free(ss_scan *s);

typedef struct {
    int n_layers, n_heads, len, skip;
    int64_t prompts;
} ss_scan_dims;

SS_API void ss_scan_get_dims(const ss_scan *s, ss_scan_dims *out);
/* [L, H, N]: per-prompt means summed over prompts, and prompts counted. */
SS_API const double *ss_scan_slash_sum(const ss_scan *s);
SS_API const int64_t *ss_scan_slash_count(const ss_scan *s);
/* [L, H, N]: squares of the per-prompt means summed (NULL for a folder
 * written before slashscope kept them). */
SS_API const double *ss_scan_slash_sumsq(const ss_scan *s);
/* The pooled maps a scan kept (ss_scan_params.maps; docs/scan.md): how
 * many, their bins per side B, map k's layer and head (ascending), its
 * block means [B, B] (the values of the program's maps/LxHy.npy before
 * their rounding to float32; NaN without prompts) and the block sums
 * [n_maps, B, B] (maps/sums.npy, what merge adds). */
SS_API int ss_scan_n_maps(const ss_scan *s);
SS_API int ss_scan_map_bins(const ss_scan *s);
SS_API void ss_scan_map_head(const ss_scan *s, int k, int *layer, int *head);
SS_API ss_code ss_scan_map_mean(const ss_scan *s, int k, double *out, ss_error *err);
SS_API const double *ss_scan_map_sums(const ss_scan *s);
/* The average slash score into out [L, H, N] (NaN where nothing counted). */
SS_API ss_code ss_scan_slash(const ss_scan *s, double *out, ss_error *err);
/* Spread over prompts into sd and half [L, H, N] (either may be NULL): the
 * sample standard deviation of the per-prompt scores and the half-width of
 * the 95% Student-t interval of their mean; NaN where fewer than 2 prompts
 * were counted (SPEC.md section 2). SS_ERR_MISSING without sums of squares. */
SS_API ss_code ss_scan_spread(const ss_scan *s, double *sd, double *half, ss_error *err);
/* scan.json as text (settings, model, prompt sources, counts); ss_free it. */
SS_API char *ss_scan_meta_json(const ss_scan *s, ss_error *err);

/* The program's scan folder, both ways (slash*.npy, scan.json, sdh.csv);
 * saving records the counts in the scan's scan.json. A save is one
 * transaction, as the program's (docs/results.md): written into dir.partial
 * under the lock dir.lock and renamed into place with SHA256SUMS; a
 * finished result in dir is refused (SS_ERR_USAGE), and so is a folder
 * holding other files. ss_scan_save_replace replaces a finished result
 * whole (the program's --force). */
SS_API ss_code ss_scan_save(ss_scan *s, const char *dir, ss_error *err);
SS_API ss_code ss_scan_save_replace(ss_scan *s, const char *dir, ss_error *err);
SS_API ss_code ss_scan_load(const char *dir, ss_scan **out, ss_error *err);

/* Exact merge of scans of one model and settings over disjoint prompt sets
 * (sums and counts add); refuses, naming the field, what cannot merge. */
SS_API ss_code ss_scan_merge_all(const ss_scan *const *in, int n, ss_scan **out, ss_error *err);

typedef struct {
    int layer, head, delta;
    double score;
} ss_sdh_entry;

/* Heads with average slash score >= kappa at some delta in [d_min, d_max],
 * ordered by delta, then score descending (*out: ss_free it). */
SS_API ss_code ss_scan_sdh(const ss_scan *s, double kappa, int d_min, int d_max,
                           ss_sdh_entry **out, int *n_out, ss_error *err);

typedef struct {
    int layer, head, delta;
    double score_id, score_ood, ratio; /* NaN when the OOD scan has no data at delta */
} ss_compare_entry;

typedef struct {
    int n; /* finite values counted (the rest NaN when 0) */
    double min, q1, median, q3, max;
} ss_five_numbers;

/* For every SDH of scan id (kappa, [d_min, d_max]): its score on scan ood
 * and the ratio, with the five-number summary of the ratios (numpy's
 * default quantiles). Same model and skip; lengths may differ. */
SS_API ss_code ss_scan_compare(const ss_scan *id, const ss_scan *ood, double kappa, int d_min,
                               int d_max, ss_compare_entry **rows, int *n_rows,
                               ss_five_numbers *summary, ss_error *err);

/* ---- explaining analyses: rank (SPEC.md section 3), ... ----
 * Their results are ss_result handles: named arrays (C order, owned by the
 * result) and a JSON record of the settings and scalars. */

typedef struct ss_result ss_result;

typedef enum { SS_ARRAY_F64, SS_ARRAY_I64 } ss_array_type;

typedef struct {
    const char *name;
    ss_array_type type;
    int ndim;
    int64_t shape[4];
    const void *data;
} ss_array;

SS_API const char *ss_result_kind(const ss_result *r); /* "rank", ... */
SS_API int ss_result_n_arrays(const ss_result *r);
/* Array i (0 <= i < ss_result_n_arrays); NULL out of range. */
SS_API const ss_array *ss_result_array(const ss_result *r, int i);
/* The array called name, or NULL. */
SS_API const ss_array *ss_result_find(const ss_result *r, const char *name);
/* Settings and scalars as JSON text (ss_free it). */
SS_API char *ss_result_json(const ss_result *r, ss_error *err);
SS_API void ss_result_free(ss_result *r);

/* How a prompt pass runs (rank, freq): RoPE ablation, progress/stop. */
typedef struct {
    ss_run_opts run;
    int threads;            /* > 0: ss_set_threads(threads) first */
    ss_progress_fn progress;
    void *progress_user;
} ss_pass_params;

/* Low rank of pre-PE queries, keys, hidden states and weights over every
 * prompt of src: r_l spectra and R_tau for tau[0..n_tau) (at most 8; the
 * program's `rank` uses 0.95 first). Arrays: q_r [L,H,d_head], q_R
 * [L,H,n_tau], k_r/k_R per KV head, h_r [L,d_model], h_R [L,n_tau],
 * wq_r/wq_R, wk_r/wk_R (weights), q_norm_mean/q_norm_rv [L,H],
 * k_norm_mean/k_norm_rv [L,H_kv] (Figure 14). */
SS_API ss_code ss_run_rank(const ss_model *m, ss_source *src, const double *tau, int n_tau,
                           const ss_pass_params *p, ss_result **out, ss_error *err);

/* Perplexity (the program's `ppl`): the negative log-likelihood of every
 * token given the ones before it (the first of each prompt is not scored),
 * under p's run options (interventions included). Arrays: prompt_nll [P]
 * (mean NLL of each prompt, nats/token, source order), prompt_tokens [P]
 * (i64), loss_by_pos [len] (mean NLL of token p over the prompts; entry 0
 * NaN). The JSON: loss, perplexity, tokens_scored, prompts. */
SS_API ss_code ss_run_ppl(const ss_model *m, ss_source *src, const ss_pass_params *p,
                          ss_result **out, ss_error *err);

/* RoPE frequencies of chosen heads (SPEC.md section 5: InP, band
 * ablations, active frequencies, the frequency condition, alignment,
 * frequency usage). Zero-initialised fields mean the program's defaults
 * after ss_freq_defaults(). */
typedef struct {
    const int *heads;    /* [2 * n_heads]: layer, head pairs; NULL: every head */
    int n_heads;
    int row;             /* InP query row; -1: min(100, len - 1) */
    int skip;            /* slash-score skip (4) */
    int inp_rows;        /* query rows behind the mean |InP| (64) */
    int max_delta;       /* alignment offsets 0..max_delta (4) */
    double active_frac;  /* active: mean |InP| above this share of the largest (0.1) */
    int bands;           /* non-zero: the high / medium / low band ablations (1) */
    const int *remove;   /* a custom ablation: 1-based frequencies, or NULL */
    int n_remove;
} ss_freq_params;

SS_API ss_freq_params ss_freq_defaults(void);

/* Arrays (S chosen heads, V = 1 + ablations, F frequencies, n the prompt
 * length): heads [S,2] (i64); scores [S,V,n] (variant 0 unablated);
 * inp [S,row+1,F]; inp_mean_abs, inp_share [S,F]; active [S,F] (i64 0/1);
 * n_active [S] (i64); cond_ok [S] (i64) and cond_C1, cond_C2, cond_eps_fn,
 * cond_L_min, cond_peak_gap [S], cond_peak_x [S] (i64); curve [S,n+1];
 * cs_pairs [S,D] (i64), cs_mean, cs_min, cs_max, cs_logit_mean,
 * cs_bound_mean [S,D]; usage_q [L,H,F], usage_k [L,H_kv,F], usage_layer_q,
 * usage_layer_k [L,F]. The JSON names the variants and their removed l. */
SS_API ss_code ss_run_freq(const ss_model *m, ss_source *src, const ss_freq_params *f,
                           const ss_pass_params *p, ss_result **out, ss_error *err);

/* Analyses as handles, to run several over one pass of a source (one
 * forward pass per prompt observed by all): make each, ss_run_analyzers,
 * then take each one's result (the arrays of ss_run_rank / ss_run_freq).
 * An analyzer runs once. */
typedef struct ss_analyzer ss_analyzer;

SS_API ss_code ss_analyzer_rank(const ss_model *m, const double *tau, int n_tau,
                                ss_analyzer **out, ss_error *err);
SS_API ss_code ss_analyzer_ppl(const ss_model *m, ss_analyzer **out, ss_error *err);
/* freq is made for one prompt length and RoPE schedule: the pass must use
 * the same (run NULL: the model's own schedule). */
SS_API ss_code ss_analyzer_freq(const ss_model *m, int len, const ss_freq_params *f,
                                const ss_run_opts *run, ss_analyzer **out, ss_error *err);
SS_API ss_code ss_run_analyzers(const ss_model *m, ss_source *src, ss_analyzer *const *a,
                                int n, const ss_pass_params *p, ss_error *err);
SS_API ss_code ss_analyzer_result(ss_analyzer *a, ss_result **out, ss_error *err);
SS_API void ss_analyzer_free(ss_analyzer *a);

/* Layer 0 over the whole vocabulary (SPEC.md section 4; token t at
 * position t), the cone analysis. */
typedef struct {
    double tau;            /* R~_tau and R_tau (0.95) */
    int max_delta;         /* alignment offsets 0..max_delta (4) */
    uint64_t seed;         /* the random baseline direction (0) */
    int chunk;             /* tokens per forward chunk (0: 2048) */
    const int *heads;      /* layer-0 query heads for the alignment; NULL: all */
    int n_heads;
} ss_cone_params;

SS_API ss_cone_params ss_cone_defaults(void);

/* Arrays: q [H, 12] per layer-0 query head and k [H_kv, 12] per KV head,
 * columns r1_tilde, R_tilde, r1, R, dominant_l (1-based), dominant_share,
 * rv_dominant, proj_norm_mean, bias_norm, sigma1, norm_rv_proj, norm_rv
 * (the JSON's "columns");
 * heads [n] (i64), cs_pairs [n, D] (i64), cs_mean, cs_min, cs_max,
 * cs_logit_mean, cs_bound_mean [n, D]; the JSON has rv_random. */
SS_API ss_code ss_run_cone(const ss_model *m, const ss_cone_params *c, ss_result **out,
                           ss_error *err);

/* The theory lab (the paper's section 5, Algorithm 1): meanings and
 * defaults as `slashscope theory` (ss_theory_defaults). */
typedef struct {
    int n_in, features, d_x, d_c, delta; /* d_x 0: features rounded up to even */
    const char *freqs;     /* "high", "low", "standard" or a file (one frequency per line) */
    double base, p_rope;   /* standard's base; p-RoPE fraction (1: plain RoPE) */
    double eta1, eta2;
    int tau1, tau2, batch;
    uint64_t seed;
    double kappa;          /* slash-dominant when mean S1[i][i-delta] >= kappa */
    double L;              /* judge Assumption 5.1 against this L (<= 0: no verdict) */
    int eval_prompts;
} ss_theory_params;

SS_API ss_theory_params ss_theory_defaults(void);

/* Arrays: theta [F_c + F_s]; trajectory [tau1 + tau2 + 1, 6] (step, stage,
 * loss, s1_mean, s1_min, s2_match); S1 [N, N] (final layer-1 attention);
 * ood [6, 5] (loss, mse, sq_target, rel_mse, s2_match per case, names in
 * the JSON). The JSON: slash_step, slash_dominant, loss_converged, the
 * frequency condition and verdicts. */
SS_API ss_code ss_run_theory(const ss_theory_params *p, ss_result **out, ss_error *err);

#ifdef __cplusplus
}
#endif

#endif
