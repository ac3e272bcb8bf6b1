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

static cJSON *model_json(const ss_model *m, const char *path)
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
    return j;
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
    }
    return j;
}

/* Everything a resumed scan must share with the one it continues. */
static cJSON *settings_json(const ss_scan_opts *o, const ss_rope *rope)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "model", model_json(o->model, o->model_path));
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

/* The first field where two settings objects differ, as "a.b". */
static void first_difference(const cJSON *a, const cJSON *b, char *buf, size_t cap)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
        if (y && cJSON_Compare(x, y, 1))
            continue;
        if (y && cJSON_IsObject(x) && cJSON_IsObject(y)) {
            char sub[256];
            first_difference(x, y, sub, sizeof sub);
            snprintf(buf, cap, "%s.%s", x->string, sub);
        } else {
            snprintf(buf, cap, "%s", x->string);
        }
        return;
    }
    snprintf(buf, cap, "(a field only the new run has)");
}

/* ---- checkpoints ---- */

typedef struct {
    char dir[PATH_CAP];
    int64_t generation;
} checkpoint;

static void ck_path(const checkpoint *c, char *buf, const char *name, int64_t gen)
{
    /* c->dir is checked short enough in ss_scan_run: these never truncate */
    int w = gen < 0 ? snprintf(buf, PATH_CAP, "%s/%s", c->dir, name)
                    : snprintf(buf, PATH_CAP, "%s/%s.%lld.npy", c->dir, name, (long long)gen);
    if (w >= PATH_CAP)
        buf[0] = '\0';
}

static void ck_remove_generation(const checkpoint *c, int64_t gen)
{
    char p[PATH_CAP];
    const char *names[4] = {"slash_sum", "slash_sumsq", "slash_count", "map_sum"};
    for (int k = 0; k < 4; k++) {
        ck_path(c, p, names[k], gen);
        unlink(p);
    }
}

static ss_code ck_save(checkpoint *c, const ss_scan_acc *acc, const cJSON *settings,
                       const ss_prompts *src, double wall, ss_error *err)
{
    ss_code rc = ss_mkdirs(c->dir, err);
    if (rc)
        return rc;
    int64_t gen = c->generation + 1;
    char p[PATH_CAP];
    int64_t shape[3] = {acc->n_layer, acc->n_head, acc->n};
    ck_path(c, p, "slash_sum", gen);
    if ((rc = ss_npy_write(p, SS_NPY_F64, 3, shape, acc->slash_sum, err)))
        return rc;
    ck_path(c, p, "slash_sumsq", gen);
    if ((rc = ss_npy_write(p, SS_NPY_F64, 3, shape, acc->slash_sumsq, err)))
        return rc;
    ck_path(c, p, "slash_count", gen);
    if ((rc = ss_npy_write(p, SS_NPY_I64, 3, shape, acc->slash_count, err)))
        return rc;
    if (acc->n_maps > 0) {
        int64_t ms[3] = {acc->n_maps, acc->bins, acc->bins};
        ck_path(c, p, "map_sum", gen);
        if ((rc = ss_npy_write(p, SS_NPY_F64, 3, ms, acc->map_sum, err)))
            return rc;
    }
    cJSON *st = cJSON_CreateObject();
    cJSON_AddItemToObject(st, "settings", cJSON_Duplicate(settings, 1));
    cJSON_AddNumberToObject(st, "generation", (double)gen);
    cJSON_AddNumberToObject(st, "prompts", (double)acc->prompts);
    cJSON_AddNumberToObject(st, "records", (double)ss_prompts_records(src));
    cJSON_AddNumberToObject(st, "skipped", (double)ss_prompts_skipped(src));
    cJSON_AddNumberToObject(st, "emitted", (double)ss_prompts_emitted(src));
    cJSON_AddNumberToObject(st, "wall_seconds", wall);
    char *text = cJSON_Print(st);
    cJSON_Delete(st);
    if (!text)
        return ss_fail(err, SS_ERR_NOMEM, "checkpoint: out of memory");
    ck_path(c, p, "state.json", -1);
    rc = ss_write_file_atomic(p, text, strlen(text), err); /* the commit point */
    free(text);
    if (rc)
        return rc;
    ck_remove_generation(c, c->generation);
    c->generation = gen;
    return SS_OK;
}

static ss_code ck_load_array(const checkpoint *c, const char *name, int64_t gen,
                             ss_npy_type type, const int64_t *shape, void *dst, size_t bytes,
                             ss_error *err)
{
    char p[PATH_CAP];
    ck_path(c, p, name, gen);
    ss_npy a;
    ss_code rc = ss_npy_read(p, &a, err);
    if (rc)
        return rc;
    int ok = a.type == type && a.ndim == 3 && a.shape[0] == shape[0] && a.shape[1] == shape[1] &&
             a.shape[2] == shape[2];
    if (ok)
        memcpy(dst, a.data, bytes);
    ss_npy_free(&a);
    return ok ? SS_OK : ss_fail(err, SS_ERR_SHAPE, "%s: wrong type or shape for this scan", p);
}

/* Loads the checkpoint into acc and moves the source to where it was.
 * *found = 0 when there is none. */
static ss_code ck_load(checkpoint *c, ss_scan_acc *acc, const cJSON *settings, ss_prompts *src,
                       double *wall, int *found, ss_error *err)
{
    *found = 0;
    char p[PATH_CAP];
    ck_path(c, p, "state.json", -1);
    if (access(p, F_OK) != 0)
        return SS_OK;
    cJSON *st;
    ss_code rc = ss_json_load(p, (size_t)64 << 20, &st, err);
    if (rc)
        return rc;
    const cJSON *saved = cJSON_GetObjectItemCaseSensitive(st, "settings");
    long long gen = 0, prompts = 0, records = 0, skipped = 0, emitted = 0;
    double w = 0;
    if (!cJSON_IsObject(saved))
        rc = ss_fail(err, SS_ERR_FORMAT, "%s: no \"settings\" object", p);
    else if (!cJSON_Compare(saved, settings, 1)) {
        char field[300];
        first_difference(settings, saved, field, sizeof field);
        rc = ss_fail(err, SS_ERR_INCOMPATIBLE,
                     "%s: the checkpoint was made with other settings (%s differs); resume with "
                     "the same model, prompts, --len, --skip and --maps, or start afresh in "
                     "another folder", p, field);
    }
    if (!rc && !(rc = ss_json_int(st, p, "generation", 1, 1, LLONG_MAX, &gen, err)) &&
        !(rc = ss_json_int(st, p, "prompts", 1, 0, LLONG_MAX, &prompts, err)) &&
        !(rc = ss_json_int(st, p, "records", 1, 0, LLONG_MAX, &records, err)) &&
        !(rc = ss_json_int(st, p, "skipped", 1, 0, LLONG_MAX, &skipped, err)) &&
        !(rc = ss_json_int(st, p, "emitted", 1, 0, LLONG_MAX, &emitted, err)))
        rc = ss_json_num(st, p, "wall_seconds", 1, &w, err);
    cJSON_Delete(st);
    if (rc)
        return rc;
    int64_t shape[3] = {acc->n_layer, acc->n_head, acc->n};
    size_t n = (size_t)acc->n_layer * acc->n_head * acc->n;
    if ((rc = ck_load_array(c, "slash_sum", gen, SS_NPY_F64, shape, acc->slash_sum,
                            n * sizeof(double), err)) ||
        (rc = ck_load_array(c, "slash_sumsq", gen, SS_NPY_F64, shape, acc->slash_sumsq,
                            n * sizeof(double), err)) ||
        (rc = ck_load_array(c, "slash_count", gen, SS_NPY_I64, shape, acc->slash_count,
                            n * sizeof(int64_t), err)))
        return rc;
    if (acc->n_maps > 0) {
        int64_t ms[3] = {acc->n_maps, acc->bins, acc->bins};
        size_t mb = (size_t)acc->n_maps * acc->bins * acc->bins * sizeof(double);
        if ((rc = ck_load_array(c, "map_sum", gen, SS_NPY_F64, ms, acc->map_sum, mb, err)))
            return rc;
    }
    if ((rc = ss_prompts_seek(src, records, skipped, emitted, err)))
        return rc;
    acc->prompts = prompts;
    c->generation = gen;
    *wall = w;
    *found = 1;
    return SS_OK;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* After the results are written: the state first (so a kill half-way
 * leaves no checkpoint pointing at removed arrays), then every array and
 * temporary file of ours, including those a killed run left behind (a kill
 * between a commit and the removal of the previous generation). */
static void ck_remove(const checkpoint *c)
{
    char p[PATH_CAP];
    ck_path(c, p, "state.json", -1);
    unlink(p);
    DIR *d = opendir(c->dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (starts_with(e->d_name, "slash_sum.") || starts_with(e->d_name, "slash_sumsq.") ||
            starts_with(e->d_name, "slash_count.") ||
            starts_with(e->d_name, "map_sum.") || starts_with(e->d_name, "state.json")) {
            ck_path(c, p, e->d_name, -1);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(c->dir);
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

/* The finished scan as a result struct (copies of the sums, the maps to
 * keep, scan.json's fields in meta); *r is the caller's to free. */
static ss_code build_result(const ss_scan_opts *o, const ss_scan_acc *acc, const cJSON *settings,
                            double wall, double run_seconds, int64_t run_tokens,
                            ss_scan_result *out, ss_error *err)
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
        cJSON_AddNumberToObject(r.meta, "block_rows", o->block_rows > 0 ? o->block_rows : 64);
        cJSON_AddNumberToObject(r.meta, "wall_seconds", wall);
        cJSON_AddNumberToObject(r.meta, "tokens", (double)acc->prompts * acc->n);
        cJSON_AddNumberToObject(r.meta, "tokens_per_second",
                                run_seconds > 0 ? (double)run_tokens / run_seconds : 0);
        char when[32];
        utc_now(when, sizeof when);
        cJSON_AddStringToObject(r.meta, "created", when);
    }
    size_t cells = (size_t)r.n_layer * r.n_head * r.n;
    r.slash_sum = r.slash_sumsq = NULL;
    r.slash_count = NULL;
    if (!rc) {
        r.slash_sum = ss_memdup(acc->slash_sum, cells * sizeof(double), "slash sums", err);
        r.slash_sumsq = ss_memdup(acc->slash_sumsq, cells * sizeof(double),
                                  "slash sums of squares", err);
        r.slash_count = ss_memdup(acc->slash_count, cells * sizeof(int64_t), "slash counts", err);
        if (!r.slash_sum || !r.slash_sumsq || !r.slash_count)
            rc = SS_ERR_NOMEM;
    }
    if (rc)
        ss_scan_result_free(&r);
    *out = r;
    return rc;
}

/* ---- the loop ---- */

static ss_code check_opts(const ss_scan_opts *o, ss_error *err)
{
    const ss_config *c = &o->model->cfg;
    if (o->len < 1)
        return ss_fail(err, SS_ERR_USAGE, "len must be at least 1");
    if (o->len > c->ctx_len && !o->allow_long)
        return ss_fail(err, SS_ERR_VALUE, "len %d is longer than the model's context of %d "
                       "tokens (set allow_long to run past it anyway)", o->len, c->ctx_len);
    if (o->skip < 0 || o->skip >= o->len)
        return ss_fail(err, SS_ERR_USAGE, "skip %d must be from 0 to len - 1 = %d", o->skip,
                       o->len - 1);
    if (o->maps != SS_MAPS_NONE && o->map_size < 1)
        return ss_fail(err, SS_ERR_USAGE, "map_size must be at least 1");
    if (o->resume && !o->out_dir)
        return ss_fail(err, SS_ERR_USAGE, "resume needs the output folder holding the checkpoint");
    if (o->out_dir && strlen(o->out_dir) > PATH_CAP - 100)
        return ss_fail(err, SS_ERR_USAGE, "output folder: path longer than %d bytes",
                       PATH_CAP - 100);
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

/* Between prompts: a checkpoint every `every` prompts or `every_s` seconds. */
typedef struct {
    checkpoint ck;
    const ss_scan_acc *acc;
    const cJSON *settings;
    const ss_prompts *prompts;
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
    ss_code rc = ck_save(&s->ck, s->acc, s->settings, s->prompts, s->wall_before + now - s->start,
                         err);
    s->last = ss_now_seconds();
    return rc;
}

/* Opens the checkpoint of a resumed scan, or refuses to overwrite one. */
static ss_code ck_start(const ss_scan_opts *o, ck_schedule *s, ss_scan_acc *acc, ss_error *err)
{
    if (!o->resume) {
        char p[PATH_CAP];
        ck_path(&s->ck, p, "state.json", -1);
        if (access(p, F_OK) == 0)
            return ss_fail(err, SS_ERR_USAGE, "%s holds the checkpoint of an unfinished scan: "
                           "resume it, or delete %s to start afresh",
                           o->out_dir, s->ck.dir);
        return SS_OK;
    }
    int found = 0;
    ss_code rc = ck_load(&s->ck, acc, s->settings, o->prompts, &s->wall_before, &found, err);
    if (!rc && !found && !o->quiet)
        fprintf(stderr, "slashscope scan: no checkpoint in %s: starting from the beginning\n",
                o->out_dir);
    if (!rc && found && !o->quiet)
        fprintf(stderr, "slashscope scan: resuming after %lld prompts\n", (long long)acc->prompts);
    return rc;
}

/* Between prompts: the caller's callback, then (writing a folder) the
 * checkpoint schedule. */
typedef struct {
    const ss_scan_opts *o;
    ck_schedule *sch; /* NULL: no checkpoints */
    int64_t total;
    int stopped;      /* the callback asked to stop */
} between;

static ss_code between_prompts(void *ctx, int64_t done, ss_error *err)
{
    between *b = ctx;
    if (b->o->on_prompt &&
        b->o->on_prompt(b->o->on_prompt_user, b->sch ? b->sch->acc->prompts : done, b->total)) {
        b->stopped = 1;
        return SS_STOP;
    }
    return b->sch ? ck_between(b->sch, done, err) : SS_OK;
}

/* The scan's pass over its source into *out; with sch, resuming from and
 * writing checkpoints. */
static ss_code scan_pass(const ss_scan_opts *o, ck_schedule *sch, ss_scan_result *out,
                         ss_error *err)
{
    memset(out, 0, sizeof *out);
    ss_code rc = check_opts(o, err);
    if (rc)
        return rc;
    const ss_rope *rope = o->rope ? o->rope : &o->model->rope;
    ss_analysis an;
    if ((rc = new_scan(o, &an, err)))
        return rc;
    ss_scan_acc *acc = ss_scan_analysis_acc(&an);
    cJSON *settings = settings_json(o, rope);
    between bw = {.o = o, .sch = sch};
    bw.total = o->source->count > 0 ? o->source->count : ss_prompts_total_records(o->prompts);
    double wall_before = 0;
    ss_prompt_source src = {0};
    if (!settings)
        rc = ss_fail(err, SS_ERR_NOMEM, "scan settings: out of memory");
    if (sch && !rc) {
        sch->acc = acc;
        sch->prompts = o->prompts;
        sch->settings = settings;
        rc = ck_start(o, sch, acc, err);
        wall_before = sch->wall_before;
    }
    if (!rc)
        rc = ss_prompt_source_prompts(&src, o->prompts, o->len, bw.total, err);
    double start = ss_now_seconds();
    int64_t run_prompts = 0;
    if (!rc) {
        ss_progress pg;
        ss_progress_start(&pg, o->quiet, "scan", bw.total, "prompts");
        if (sch)
            sch->start = sch->last = start;
        ss_analysis *list[1] = {&an};
        ss_interrupt_clear();
        ss_analysis_opts ro = {.rope = rope, .block_rows = o->block_rows,
                               .allow_long = o->allow_long, .interrupted = ss_interrupted,
                               .between_prompts = between_prompts, .between_ctx = &bw,
                               .progress_base = acc->prompts};
        rc = ss_analysis_run(o->model, &src, list, 1, &pg, &ro, &run_prompts, err);
        ss_progress_end(&pg);
        if (!rc && bw.stopped)
            rc = ss_fail(err, SS_STOP, "stopped on request after %lld prompts",
                         (long long)acc->prompts);
    }
    if (!rc && acc->prompts == 0)
        rc = ss_fail(err, SS_ERR_VALUE, "no prompt of %d tokens in the source (%lld records "
                     "read, %lld too short%s)", o->len,
                     (long long)ss_prompts_records(o->prompts),
                     (long long)ss_prompts_skipped(o->prompts),
                     o->source->chunk ? "" : "; chunk joins short ones");
    if (!rc) {
        double run = ss_now_seconds() - start;
        rc = build_result(o, acc, settings, wall_before + run, run, run_prompts * o->len, out,
                          err);
    }
    ss_prompt_source_free(&src);
    cJSON_Delete(settings);
    ss_analysis_free(&an);
    return rc;
}

ss_code ss_scan_collect(const ss_scan_opts *o, ss_scan_result *out, ss_error *err)
{
    if (o->out_dir || o->resume)
        return ss_fail(err, SS_ERR_USAGE, "ss_scan_collect keeps no checkpoints: use ss_scan_run "
                       "to write or resume a scan folder");
    return scan_pass(o, NULL, out, err);
}

ss_code ss_scan_run(const ss_scan_opts *o, ss_error *err)
{
    if (!o->out_dir || !*o->out_dir)
        return ss_fail(err, SS_ERR_USAGE, "the scan needs an output folder");
    ck_schedule sch = {.every = o->checkpoint_every > 0 ? o->checkpoint_every : 8,
                       .every_s = o->checkpoint_seconds > 0 ? o->checkpoint_seconds : 300};
    if (strlen(o->out_dir) > PATH_CAP - 100)
        return ss_fail(err, SS_ERR_USAGE, "output folder: path longer than %d bytes",
                       PATH_CAP - 100);
    snprintf(sch.ck.dir, sizeof sch.ck.dir, "%s/checkpoint", o->out_dir);
    ss_scan_result r;
    ss_code rc = scan_pass(o, &sch, &r, err);
    if (rc)
        return rc;
    rc = ss_scan_result_write(o->out_dir, &r, err);
    ss_scan_result_free(&r);
    if (!rc)
        ck_remove(&sch.ck);
    return rc;
}
