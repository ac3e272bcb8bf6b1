#include "analysis/scan.h"

#include <dirent.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis/scan_analysis.h"
#include "analysis/source.h"
#include "analysis/scan_result.h"
#include "analysis/sdh.h"
#include "common/mem.h"
#include "common/progress.h"
#include "io/atomic_file.h"
#include "io/json.h"
#include "io/npy.h"
#include "common/path.h"
#include "common/sha256.h"
#include "model/fingerprint.h"
#include "store/checkpoint.h"
#include "store/folder.h"
#include "store/provenance.h"

#define PATH_CAP 4096

static const char *scaling_name(ss_scaling_type t)
{
    switch (t) {
    case SS_SCALE_NONE: return "none";
    case SS_SCALE_LINEAR: return "linear";
    case SS_SCALE_LLAMA3: return "llama3";
    case SS_SCALE_FREQ_FACTORS: return "freq_factors";
    }
    return "?";
}

/* An absolute path when the file exists (so a resume from another working
 * directory matches), else the path as given. */
static cJSON *path_json(const char *path)
{
    if (!path)
        return cJSON_CreateNull();
    char *abs = realpath(path, NULL);
    cJSON *j = cJSON_CreateString(abs ? abs : path);
    free(abs);
    return j;
}

static cJSON *model_json(const ss_model *m, const char *path, const ss_weights_fingerprint *fp)
{
    const ss_config *c = &m->cfg;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "path", path_json(path));
    cJSON_AddStringToObject(j, "format", ss_format_name(m->format));
    cJSON_AddStringToObject(j, "architecture", ss_arch_name(c->arch));
    cJSON_AddNumberToObject(j, "n_layer", c->n_layer);
    cJSON_AddNumberToObject(j, "n_head", c->n_head);
    cJSON_AddNumberToObject(j, "n_kv_head", c->n_kv_head);
    cJSON_AddNumberToObject(j, "d_model", c->d_model);
    cJSON_AddNumberToObject(j, "d_head", c->d_head);
    cJSON_AddNumberToObject(j, "d_ff", c->d_ff);
    cJSON_AddNumberToObject(j, "vocab", c->vocab);
    cJSON_AddNumberToObject(j, "ctx_len", c->ctx_len);
    cJSON_AddNumberToObject(j, "attn_scale", c->attn_scale);
    cJSON_AddItemToObject(j, "weights", ss_weights_fingerprint_json(fp));
    return j;
}

cJSON *ss_scan_model_json(const ss_model *m, const char *path, ss_error *err)
{
    ss_weights_fingerprint fp;
    if (ss_model_fingerprint(m, &fp, err))
        return NULL;
    return model_json(m, path, &fp);
}

/* The RoPE schedule actually used: final angle per token of every
 * frequency l = 1..F (index 0 here is l = 1) and whether it is rotated. */
static cJSON *rope_json(const ss_rope *r, const ss_config *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "base", r->base);
    cJSON_AddStringToObject(j, "scaling", scaling_name(c->scaling.type));
    cJSON_AddItemToObject(j, "theta", cJSON_CreateDoubleArray(r->theta, r->n_freq));
    cJSON *act = cJSON_CreateArray();
    int all = 1;
    for (int f = 0; f < r->n_freq; f++) {
        cJSON_AddItemToArray(act, cJSON_CreateNumber(r->active[f] ? 1 : 0));
        all &= r->active[f] != 0;
    }
    cJSON_AddItemToObject(j, "active", act);
    cJSON_AddBoolToObject(j, "ablated", !all);
    return j;
}

/* The tokenizer text prompts went through: where it was read from, that
 * file's SHA-256 (a folder: its tokenizer.json), and a digest of its
 * vocabulary (every piece in id order, BOS, EOS, whether BOS is added), so
 * a resume or merge with another tokenizer is refused even when the file
 * moved. */
static cJSON *tokenizer_json(const ss_prompt_opts *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "path", path_json(s->tok_path));
    char hex[65], file[4200];
    ss_error ignore = {0};
    const char *f = s->tok_path;
    if (f && ss_is_dir(f)) {
        snprintf(file, sizeof file, "%s/tokenizer.json", f);
        f = file;
    }
    if (f && ss_is_file(f) && ss_sha256_file(f, hex, &ignore) == SS_OK)
        cJSON_AddStringToObject(j, "sha256", hex);
    else
        cJSON_AddNullToObject(j, "sha256");
    ss_sha256 h;
    ss_sha256_init(&h);
    int v = ss_tokenizer_vocab_size(s->tok);
    int32_t head[4] = {v, ss_tokenizer_bos(s->tok), ss_tokenizer_eos(s->tok),
                       ss_tokenizer_adds_bos(s->tok)};
    ss_sha256_update_i32le(&h, head, 4);
    for (int id = 0; id < v; id++) {
        const char *piece = ss_tokenizer_piece(s->tok, id);
        ss_sha256_update(&h, piece ? piece : "", piece ? strlen(piece) + 1 : 1);
    }
    ss_sha256_hex(&h, hex);
    cJSON_AddStringToObject(j, "vocab_sha256", hex);
    return j;
}

static cJSON *source_json(const ss_prompt_opts *s, const char *sha)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "source", ss_source_kind_name(s->kind));
    int synthetic = s->kind == SS_SRC_OOD || s->kind == SS_SRC_REPEAT;
    cJSON_AddItemToObject(j, "path", synthetic ? cJSON_CreateNull() : path_json(s->path));
    cJSON_AddStringToObject(j, "sha256", sha);
    if (s->kind == SS_SRC_JSONL)
        cJSON_AddItemToObject(j, "field", s->field ? cJSON_CreateString(s->field)
                                                   : cJSON_CreateString("context|text"));
    if (!synthetic) {
        cJSON_AddBoolToObject(j, "chunk", s->chunk);
        cJSON_AddNumberToObject(j, "count_limit", (double)s->count);
    }
    if (s->kind == SS_SRC_LINES || s->kind == SS_SRC_JSONL || s->kind == SS_SRC_TXT_DIR)
        cJSON_AddBoolToObject(j, "add_bos", s->add_bos);
    if (synthetic) {
        cJSON_AddNumberToObject(j, "count", (double)s->count);
        /* a 64-bit seed does not fit a JSON number exactly: a string */
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
        cJSON_AddStringToObject(j, "seed", seed);
        cJSON_AddStringToObject(j, "rng", "splitmix64, per-prompt streams (analysis/ood.h)");
        cJSON_AddNumberToObject(j, "vocab", s->vocab);
        cJSON_AddNumberToObject(j, "bos", s->bos);
        if (s->kind == SS_SRC_REPEAT)
            cJSON_AddNumberToObject(j, "segment", s->segment);
        /* the prompts' identity: indices first .. first + count - 1 of this seed */
        cJSON_AddNumberToObject(j, "first", (double)s->first);
    }
    if (s->tok)
        cJSON_AddItemToObject(j, "tokenizer", tokenizer_json(s));
    return j;
}

/* Everything a resumed scan must share with the one it continues. */
static cJSON *settings_json(const ss_scan_opts *o, const ss_rope *rope,
                            const ss_weights_fingerprint *fp)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "model", model_json(o->model, o->model_path, fp));
    cJSON_AddItemToObject(j, "rope", rope_json(rope, &o->model->cfg));
    cJSON_AddItemToObject(j, "prompts", source_json(o->source, ss_prompts_sha256(o->prompts)));
    cJSON_AddNumberToObject(j, "length", o->len);
    cJSON_AddNumberToObject(j, "skip", o->skip);
    cJSON *maps = cJSON_CreateObject();
    cJSON_AddStringToObject(maps, "selection", o->maps == SS_MAPS_NONE ? "none"
                                               : o->maps_spec ? o->maps_spec : "list");
    cJSON_AddNumberToObject(maps, "size", o->maps == SS_MAPS_NONE ? 0 : o->map_size);
    cJSON_AddItemToObject(j, "maps", maps);
    return j;
}

/* ---- checkpoints (store/checkpoint.h) ---- */

/* The prompts done so far: their digests (text and id files; synthetic
 * prompts are named by seed and index instead) and the source position. */
typedef struct {
    cJSON *digests; /* array of hex strings, or NULL for synthetic sources */
} prompt_log;

static void log_prompt(prompt_log *g, const int32_t *ids, int n)
{
    if (!g->digests)
        return;
    ss_sha256 h;
    char hex[65];
    ss_sha256_init(&h);
    ss_sha256_update_i32le(&h, ids, (size_t)n);
    ss_sha256_hex(&h, hex);
    cJSON_AddItemToArray(g->digests, cJSON_CreateString(hex));
}

static int ck_arrays(ss_scan_acc *acc, ss_ck_array a[4])
{
    a[0] = (ss_ck_array){"slash_sum", SS_NPY_F64, 3, {acc->n_layer, acc->n_head, acc->n},
                         acc->slash_sum};
    a[1] = (ss_ck_array){"slash_sumsq", SS_NPY_F64, 3, {acc->n_layer, acc->n_head, acc->n},
                         acc->slash_sumsq};
    a[2] = (ss_ck_array){"slash_count", SS_NPY_I64, 3, {acc->n_layer, acc->n_head, acc->n},
                         acc->slash_count};
    a[3] = (ss_ck_array){"map_sum", SS_NPY_F64, 3, {acc->n_maps, acc->bins, acc->bins},
                         acc->map_sum};
    return acc->n_maps > 0 ? 4 : 3;
}

static ss_code ck_save(ss_checkpoint *c, ss_scan_acc *acc, const cJSON *settings,
                       const ss_prompts *src, const prompt_log *g, double wall, ss_error *err)
{
    ss_ck_array a[4];
    int n = ck_arrays(acc, a);
    cJSON *st = cJSON_CreateObject();
    cJSON_AddItemToObject(st, "settings", cJSON_Duplicate(settings, 1));
    cJSON_AddNumberToObject(st, "prompts", (double)acc->prompts);
    cJSON_AddNumberToObject(st, "records", (double)ss_prompts_records(src));
    cJSON_AddNumberToObject(st, "skipped", (double)ss_prompts_skipped(src));
    cJSON_AddNumberToObject(st, "emitted", (double)ss_prompts_emitted(src));
    cJSON_AddNumberToObject(st, "wall_seconds", wall);
    if (g->digests)
        cJSON_AddItemToObject(st, "prompt_sha256", cJSON_Duplicate(g->digests, 1));
    ss_code rc = ss_checkpoint_save(c, a, n, st, err);
    cJSON_Delete(st);
    return rc;
}

/* What the saved state must satisfy beyond its checksums: the same
 * settings, counts that agree with each other and with the arrays. */
static ss_code ck_check_state(const cJSON *st, const cJSON *settings, const char *file,
                              const ss_scan_acc *acc, const prompt_log *g, long long *v,
                              double *wall, ss_error *err)
{
    const cJSON *saved = cJSON_GetObjectItemCaseSensitive(st, "settings");
    char field[512];
    if (!cJSON_IsObject(saved))
        return ss_fail(err, SS_ERR_FORMAT, "%s: no \"settings\" object", file);
    if (ss_json_first_difference(settings, saved, NULL, field, sizeof field)) {
        char now[80], then[80];
        ss_json_brief(ss_json_at(settings, field), now, sizeof now);
        ss_json_brief(ss_json_at(saved, field), then, sizeof then);
        return ss_fail(err, SS_ERR_INCOMPATIBLE,
                       "%s: the checkpoint was made with other settings (%s: %s then, %s now); "
                       "resume with the same model, tokenizer, prompts, --len, --skip and "
                       "--maps, or start afresh with --force", file, field, then, now);
    }
    const char *keys[4] = {"prompts", "records", "skipped", "emitted"};
    ss_code rc = SS_OK;
    for (int k = 0; k < 4 && !rc; k++)
        rc = ss_json_int(st, file, keys[k], 1, 0, LLONG_MAX, &v[k], err);
    if (!rc)
        rc = ss_json_num(st, file, "wall_seconds", 1, wall, err);
    if (rc)
        return rc;
    if (v[3] != v[0] || v[2] > v[1])
        return ss_fail(err, SS_ERR_FORMAT, "%s: %lld prompts done but %lld emitted, %lld of %lld "
                       "records skipped: the records disagree", file, v[0], v[3], v[2], v[1]);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(st, "prompt_sha256");
    if (g->digests && (!cJSON_IsArray(d) || cJSON_GetArraySize(d) != v[0]))
        return ss_fail(err, SS_ERR_FORMAT, "%s: \"prompt_sha256\" must list the %lld prompts done",
                       file, v[0]);
    return ss_scan_arrays_check(file, acc->slash_sum, acc->slash_sumsq, acc->slash_count,
                                acc->n_layer, acc->n_head, acc->n, acc->skip, v[0], err);
}

/* Loads the checkpoint into acc and moves the source to where it was.
 * *found = 0 when there is none. */
static ss_code ck_load(ss_checkpoint *c, ss_scan_acc *acc, const cJSON *settings,
                       ss_prompts *src, prompt_log *g, double *wall, int *found, ss_error *err)
{
    ss_ck_array a[4];
    int n = ck_arrays(acc, a);
    cJSON *st = NULL;
    ss_code rc = ss_checkpoint_load(c, a, n, &st, found, err);
    if (rc || !*found)
        return rc;
    char file[4200];
    snprintf(file, sizeof file, "%s/state.json", c->dir);
    long long v[4];
    rc = ck_check_state(st, settings, file, acc, g, v, wall, err);
    if (!rc && g->digests) {
        cJSON_Delete(g->digests);
        g->digests = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(st, "prompt_sha256"), 1);
    }
    cJSON_Delete(st);
    if (!rc)
        rc = ss_prompts_seek(src, v[1], v[2], v[3], err);
    if (!rc)
        acc->prompts = v[0];
    return rc;
}

/* ---- the result ---- */

/* Map slots to write: all of them, or in SDH mode the heads that are SDHs
 * of this scan under either default regime. */
static ss_code choose_maps(const ss_scan_opts *o, const ss_scan_acc *acc, ss_scan_result *r,
                           ss_error *err)
{
    size_t lh = (size_t)acc->n_layer * acc->n_head;
    unsigned char *keep = ss_calloc(lh, 1, "map selection", err);
    if (!keep)
        return SS_ERR_NOMEM;
    ss_code rc = SS_OK;
    if (o->maps == SS_MAPS_SDH) {
        double *avg = ss_scan_result_average(r, err);
        const ss_sdh_regime reg[2] = {SS_SDH_SMALL, SS_SDH_LARGE};
        for (int g = 0; g < 2 && avg && !rc; g++) {
            ss_sdh *list;
            int cnt;
            rc = ss_sdh_find(avg, acc->n_layer, acc->n_head, acc->n, &reg[g], &list, &cnt, err);
            for (int k = 0; k < cnt; k++)
                keep[(size_t)list[k].layer * acc->n_head + list[k].head] = 1;
            free(list);
        }
        if (!avg)
            rc = SS_ERR_NOMEM;
        free(avg);
    } else {
        for (size_t x = 0; x < lh; x++)
            keep[x] = acc->map_slot[x] >= 0;
    }
    int k = 0;
    for (size_t x = 0; x < lh; x++)
        k += keep[x] && acc->map_slot[x] >= 0;
    size_t bb = (size_t)acc->bins * acc->bins;
    if (!rc && k > 0) {
        r->map_heads = ss_calloc((size_t)k, sizeof *r->map_heads, "map heads", err);
        r->map_sum = ss_calloc((size_t)k * bb, sizeof *r->map_sum, "maps", err);
        if (!r->map_heads || !r->map_sum)
            rc = SS_ERR_NOMEM;
    }
    for (size_t x = 0; x < lh && !rc; x++)
        if (keep[x] && acc->map_slot[x] >= 0) {
            r->map_heads[r->n_maps] = (int)x;
            memcpy(r->map_sum + (size_t)r->n_maps * bb,
                   acc->map_sum + (size_t)acc->map_slot[x] * bb, bb * sizeof(double));
            r->n_maps++;
        }
    free(keep);
    return rc;
}

static void utc_now(char *buf, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static ss_code write_result(const ss_scan_opts *o, const char *dir, ss_scan_acc *acc,
                            const cJSON *settings, const prompt_log *g,
                            const ss_weights_fingerprint *fp, double wall, double run_seconds,
                            int64_t run_tokens, ss_error *err)
{
    ss_scan_result r = {0};
    r.n_layer = acc->n_layer;
    r.n_head = acc->n_head;
    r.n = acc->n;
    r.skip = acc->skip;
    r.prompts = acc->prompts;
    r.slash_sum = acc->slash_sum; /* borrowed: cleared before freeing r */
    r.slash_sumsq = acc->slash_sumsq;
    r.slash_count = acc->slash_count;
    r.map_size = acc->n_maps > 0 ? o->map_size : 0;
    r.bins = acc->bins;
    ss_code rc = acc->n_maps > 0 ? choose_maps(o, acc, &r, err) : SS_OK;
    if (!rc) {
        r.meta = cJSON_CreateObject();
        cJSON_AddStringToObject(r.meta, "format", "slashscope-scan");
        cJSON_AddNumberToObject(r.meta, "format_version", 1);
        cJSON_AddStringToObject(r.meta, "tool_version", SS_VERSION);
        const cJSON *x;
        cJSON_ArrayForEach(x, settings)
            cJSON_AddItemToObject(r.meta, x->string, cJSON_Duplicate(x, 1));
        cJSON *pr = cJSON_GetObjectItemCaseSensitive(r.meta, "prompts");
        const cJSON *seed = cJSON_GetObjectItemCaseSensitive(pr, "seed");
        cJSON_AddItemToObject(r.meta, "seed", seed ? cJSON_Duplicate(seed, 1) : cJSON_CreateNull());
        cJSON_AddNumberToObject(pr, "records_read", (double)ss_prompts_records(o->prompts));
        cJSON_AddNumberToObject(pr, "skipped_short", (double)ss_prompts_skipped(o->prompts));
        cJSON_AddNumberToObject(pr, "used", (double)acc->prompts);
        if (g->digests)
            cJSON_AddItemToObject(pr, "prompt_sha256", cJSON_Duplicate(g->digests, 1));
        cJSON_AddItemToObject(r.meta, "sources", cJSON_CreateArray());
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(r.meta, "sources"),
                             cJSON_Duplicate(pr, 1));
        const ss_sdh_regime reg[2] = {SS_SDH_SMALL, SS_SDH_LARGE};
        cJSON *regs = cJSON_CreateArray();
        for (int g = 0; g < 2; g++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", reg[g].name);
            cJSON_AddNumberToObject(e, "kappa", reg[g].kappa);
            int d[2] = {reg[g].d_min, reg[g].d_max};
            cJSON_AddItemToObject(e, "delta", cJSON_CreateIntArray(d, 2));
            cJSON_AddItemToArray(regs, e);
        }
        cJSON_AddItemToObject(r.meta, "sdh_regimes", regs);
        cJSON_AddNumberToObject(r.meta, "threads",
                                o->threads > 0 ? o->threads : omp_get_max_threads());
        cJSON_AddItemToObject(r.meta, "environment", ss_prov_environment(o->threads));
        cJSON_AddNumberToObject(r.meta, "fingerprint_seconds", fp->seconds);
        cJSON_AddNumberToObject(r.meta, "block_rows", o->block_rows > 0 ? o->block_rows : 64);
        cJSON_AddNumberToObject(r.meta, "wall_seconds", wall);
        cJSON_AddNumberToObject(r.meta, "tokens", (double)acc->prompts * acc->n);
        cJSON_AddNumberToObject(r.meta, "tokens_per_second",
                                run_seconds > 0 ? (double)run_tokens / run_seconds : 0);
        char when[32];
        utc_now(when, sizeof when);
        cJSON_AddStringToObject(r.meta, "created", when);
        rc = ss_scan_result_write(dir, &r, err);
    }
    r.slash_sum = NULL;
    r.slash_sumsq = NULL;
    r.slash_count = NULL;
    ss_scan_result_free(&r);
    return rc;
}

/* ---- the loop ---- */

static ss_code check_opts(const ss_scan_opts *o, ss_error *err)
{
    const ss_config *c = &o->model->cfg;
    if (o->len < 1)
        return ss_fail(err, SS_ERR_USAGE, "--len must be at least 1");
    if (o->len > c->ctx_len && !o->allow_long)
        return ss_fail(err, SS_ERR_VALUE, "--len %d is longer than the model's context of %d "
                       "tokens (add --allow-long to run past it anyway)", o->len, c->ctx_len);
    if (o->skip < 0 || o->skip >= o->len)
        return ss_fail(err, SS_ERR_USAGE, "--skip %d must be from 0 to --len - 1 = %d", o->skip,
                       o->len - 1);
    if (o->maps != SS_MAPS_NONE && o->map_size < 1)
        return ss_fail(err, SS_ERR_USAGE, "--map-size must be at least 1");
    return SS_OK;
}

static ss_code new_scan(const ss_scan_opts *o, ss_analysis *an, ss_error *err)
{
    const ss_config *c = &o->model->cfg;
    size_t lh = (size_t)c->n_layer * c->n_head;
    unsigned char *all = NULL;
    const unsigned char *flags = NULL;
    if (o->maps == SS_MAPS_LIST)
        flags = o->map_heads;
    if (o->maps == SS_MAPS_SDH) {
        all = ss_calloc(lh, 1, "map selection", err);
        if (!all)
            return SS_ERR_NOMEM;
        memset(all, 1, lh);
        flags = all;
    }
    ss_code rc = ss_scan_analysis_new(an, c->n_layer, c->n_head, o->len, o->skip, o->map_size,
                                      flags, err);
    free(all);
    return rc;
}

/* The prompts as the driver reads them, each one's digest logged (text
 * and id sources) as it goes by. */
typedef struct {
    ss_prompt_source inner;
    prompt_log *log;
} logged_source;

static ss_code logged_next(void *ctx, const int32_t **ids, int *n, ss_error *err)
{
    logged_source *s = ctx;
    ss_code rc = s->inner.next(s->inner.ctx, ids, n, err);
    if (!rc && *n > 0)
        log_prompt(s->log, *ids, *n);
    return rc;
}

/* Between prompts: a checkpoint every `every` prompts or `every_s` seconds. */
typedef struct {
    ss_checkpoint ck;
    ss_scan_acc *acc;
    const cJSON *settings;
    const ss_prompts *prompts;
    const prompt_log *log;
    int every;
    double every_s, wall_before, start, last;
    int64_t last_done;
} ck_schedule;

static ss_code ck_between(void *ctx, int64_t done, ss_error *err)
{
    ck_schedule *s = ctx;
    double now = ss_now_seconds();
    if (done - s->last_done < s->every && now - s->last < s->every_s)
        return SS_OK;
    s->last_done = done;
    ss_code rc = ck_save(&s->ck, s->acc, s->settings, s->prompts, s->log,
                         s->wall_before + now - s->start, err);
    s->last = ss_now_seconds();
    return rc;
}

/* Continues the checkpoint of a resumed scan (the folder kept it). */
static ss_code ck_start(const ss_scan_opts *o, const ss_folder *f, ck_schedule *s,
                        prompt_log *g, ss_error *err)
{
    int found = 0;
    ss_code rc = SS_OK;
    if (f->resumed)
        rc = ck_load(&s->ck, s->acc, s->settings, o->prompts, g, &s->wall_before, &found, err);
    if (!rc && o->resume && !o->quiet) {
        if (found)
            fprintf(stderr, "slashscope scan: resuming after %lld prompts (%s)\n",
                    (long long)s->acc->prompts, f->work);
        else
            fprintf(stderr, "slashscope scan: no checkpoint for %s: starting from the "
                    "beginning\n", o->out_dir);
    }
    return rc;
}

/* The driver over the logged source, with checkpoints between prompts. */
static ss_code run_prompts(const ss_scan_opts *o, const ss_rope *rope, ss_analysis *an,
                           ck_schedule *sch, prompt_log *g, int64_t *run_prompts_done,
                           ss_error *err)
{
    int64_t total = o->source->count > 0 ? o->source->count
                                         : ss_prompts_total_records(o->prompts);
    logged_source ls = {.log = g};
    ss_code rc = ss_prompt_source_prompts(&ls.inner, o->prompts, o->len, total, err);
    if (rc)
        return rc;
    ss_prompt_source src = {.ctx = &ls, .next = logged_next, .total = ls.inner.total};
    ss_progress pg;
    ss_progress_start(&pg, o->quiet, "scan", total, "prompts");
    sch->start = sch->last = ss_now_seconds();
    ss_analysis *list[1] = {an};
    ss_analysis_opts ro = {.rope = rope, .block_rows = o->block_rows, .allow_long = o->allow_long,
                           .between_prompts = ck_between, .between_ctx = sch,
                           .progress_base = sch->acc->prompts};
    rc = ss_analysis_run(o->model, &src, list, 1, &pg, &ro, run_prompts_done, err);
    ss_progress_end(&pg);
    ss_prompt_source_free(&ls.inner);
    return rc;
}

ss_code ss_scan_run(const ss_scan_opts *o, ss_error *err)
{
    ss_code rc = check_opts(o, err);
    if (rc)
        return rc;
    ss_folder folder;
    ss_folder_opts fo = {.force = o->force, .resume = o->resume, .marker = "scan.json"};
    if ((rc = ss_folder_begin(&folder, o->out_dir, &fo, err)))
        return rc;
    const ss_rope *rope = o->rope ? o->rope : &o->model->rope;
    ss_weights_fingerprint fp;
    ss_analysis an;
    if ((rc = ss_model_fingerprint(o->model, &fp, err)) || (rc = new_scan(o, &an, err))) {
        ss_folder_abort(&folder);
        return rc;
    }
    char work[PATH_CAP];
    ss_folder_file(&folder, NULL, work, sizeof work);
    cJSON *settings = settings_json(o, rope, &fp);
    int synthetic = o->source->kind == SS_SRC_OOD || o->source->kind == SS_SRC_REPEAT;
    prompt_log g = {.digests = synthetic ? NULL : cJSON_CreateArray()};
    ck_schedule sch = {.acc = ss_scan_analysis_acc(&an), .settings = settings,
                       .prompts = o->prompts, .log = &g,
                       .every = o->checkpoint_every > 0 ? o->checkpoint_every : 8,
                       .every_s = o->checkpoint_seconds > 0 ? o->checkpoint_seconds : 300};
    ss_scan_acc *acc = sch.acc;
    if (!settings || (!synthetic && !g.digests))
        rc = ss_fail(err, SS_ERR_NOMEM, "scan settings: out of memory");
    if (!rc)
        rc = ss_checkpoint_init(&sch.ck, work, err);
    if (!rc)
        rc = ck_start(o, &folder, &sch, &g, err);
    double start = ss_now_seconds();
    int64_t done = 0;
    if (!rc)
        rc = run_prompts(o, rope, &an, &sch, &g, &done, err);
    if (!rc && acc->prompts == 0)
        rc = ss_fail(err, SS_ERR_VALUE, "no prompt of %d tokens in the source (%lld records "
                     "read, %lld too short%s)", o->len,
                     (long long)ss_prompts_records(o->prompts),
                     (long long)ss_prompts_skipped(o->prompts),
                     o->source->chunk ? "" : "; --chunk joins short ones");
    if (!rc) {
        double run = ss_now_seconds() - start;
        rc = write_result(o, work, acc, settings, &g, &fp, sch.wall_before + run, run,
                          done * o->len, err);
    }
    if (!rc)
        rc = ss_folder_commit(&folder, err);
    if (rc)
        ss_folder_abort(&folder);
    cJSON_Delete(g.digests);
    cJSON_Delete(settings);
    ss_analysis_free(&an);
    return rc;
}
