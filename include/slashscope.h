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
    SS_STOP             /* stopped early on request: not an error */
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

/* How to run a sequence: RoPE ablations and length policy. Zero-initialise
 * for the model as it is. */
typedef struct {
    const int *rope_remove; /* 1-based frequency indices left unrotated */
    int n_rope_remove;
    int use_p_rope;         /* non-zero: p-RoPE with p_rope */
    double p_rope;          /* keep the int(p F) highest frequencies (0 = NoPE) */
    int allow_long;         /* permit sequences longer than the model's context */
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
/* The average slash score into out [L, H, N] (NaN where nothing counted). */
SS_API ss_code ss_scan_slash(const ss_scan *s, double *out, ss_error *err);
/* scan.json as text (settings, model, prompt sources, counts); ss_free it. */
SS_API char *ss_scan_meta_json(const ss_scan *s, ss_error *err);

/* The program's scan folder, both ways (slash*.npy, scan.json, sdh.csv);
 * saving records the counts in the scan's scan.json. */
SS_API ss_code ss_scan_save(ss_scan *s, const char *dir, ss_error *err);
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

#ifdef __cplusplus
}
#endif

#endif
