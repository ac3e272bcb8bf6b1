#include "analysis/scan.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/scan_analysis.h"
#include "analysis/source.h"
#include "analysis/source_json.h"
#include "analysis/scan_result.h"
#include "analysis/sdh.h"
#include "common/mem.h"
#include "common/path.h"
#include "common/progress.h"
#include "common/sha256.h"
#include "common/timing.h"
#include "engine/blas.h"
#include "model/describe.h"
#include "model/fingerprint.h"
#include "store/provenance.h"

#define PATH_CAP 4096

/* The RoPE schedule actually used: final angle per token of every
 * frequency l = 1..F (index 0 here is l = 1) and whether it is rotated. */
static cJSON *rope_json(const ss_rope *r, const ss_config *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "base", r->base);
    cJSON_AddStringToObject(j, "scaling", ss_scaling_name(c->scaling.type));
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

cJSON *ss_scan_model_json(const ss_model *m, const char *path, ss_error *err)
{
    ss_weights_fingerprint fp;
    if (ss_model_fingerprint(m, &fp, err))
        return NULL;
    cJSON *j = ss_model_identity_json(m, ss_json_abs_path(path));
    cJSON_AddItemToObject(j, "weights", ss_weights_fingerprint_json(&fp));
    return j;
}

cJSON *ss_scan_settings_json(const ss_scan_opts *o)
{
    const ss_rope *rope = o->rope ? o->rope : &o->model->rope;
    ss_error ignore = {0};
    cJSON *model = ss_scan_model_json(o->model, o->model_path, &ignore);
    if (!model)
        return NULL;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "model", model);
    cJSON_AddItemToObject(j, "rope", rope_json(rope, &o->model->cfg));
    cJSON_AddItemToObject(j, "prompts", ss_prompt_source_json(o->source, ss_prompts_sha256(o->prompts)));
    cJSON_AddNumberToObject(j, "length", o->len);
    cJSON_AddNumberToObject(j, "skip", o->skip);
    cJSON *maps = cJSON_CreateObject();
    cJSON_AddStringToObject(maps, "selection", o->maps == SS_MAPS_NONE ? "none"
                                               : o->maps_spec ? o->maps_spec : "list");
    cJSON_AddNumberToObject(maps, "size", o->maps == SS_MAPS_NONE ? 0 : o->map_size);
    cJSON_AddItemToObject(j, "maps", maps);
    if (o->interventions)
        cJSON_AddItemToObject(j, "interventions", cJSON_Duplicate(o->interventions, 1));
    return j;
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
        ss_sdh_regime reg[2];
        ss_sdh_scan_regimes(o->kappa_small, o->kappa_large, reg);
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

/* The finished scan as a result struct: the accumulator's sums move into
 * *r (acc keeps no arrays afterwards), scan.json's fields into r->meta. */
static ss_code build_result(const ss_scan_opts *o, ss_scan_acc *acc, const cJSON *settings,
                            const cJSON *digests, double wall, double run_seconds,
                            int64_t run_tokens, ss_scan_result *r, ss_error *err)
{
    memset(r, 0, sizeof *r);
    r->n_layer = acc->n_layer;
    r->n_head = acc->n_head;
    r->n = acc->n;
    r->skip = acc->skip;
    r->prompts = acc->prompts;
    r->slash_sum = acc->slash_sum;
    r->slash_sumsq = acc->slash_sumsq;
    r->slash_count = acc->slash_count;
    acc->slash_sum = NULL;
    acc->slash_sumsq = NULL;
    acc->slash_count = NULL;
    r->map_size = acc->n_maps > 0 ? o->map_size : 0;
    r->bins = acc->bins;
    ss_code rc = acc->n_maps > 0 ? choose_maps(o, acc, r, err) : SS_OK;
    if (rc)
        return rc;
    r->meta = cJSON_CreateObject();
    cJSON_AddStringToObject(r->meta, "format", "slashscope-scan");
    cJSON_AddNumberToObject(r->meta, "format_version", 1);
    cJSON_AddStringToObject(r->meta, "tool_version", SS_VERSION);
    const cJSON *x;
    cJSON_ArrayForEach(x, settings)
        cJSON_AddItemToObject(r->meta, x->string, cJSON_Duplicate(x, 1));
    cJSON *pr = cJSON_GetObjectItemCaseSensitive(r->meta, "prompts");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(pr, "seed");
    cJSON_AddItemToObject(r->meta, "seed", seed ? cJSON_Duplicate(seed, 1) : cJSON_CreateNull());
    cJSON_AddNumberToObject(pr, "records_read", (double)ss_prompts_records(o->prompts));
    cJSON_AddNumberToObject(pr, "skipped_short", (double)ss_prompts_skipped(o->prompts));
    cJSON_AddNumberToObject(pr, "used", (double)r->prompts);
    if (digests)
        cJSON_AddItemToObject(pr, "prompt_sha256", cJSON_Duplicate(digests, 1));
    cJSON_AddItemToObject(r->meta, "sources", cJSON_CreateArray());
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(r->meta, "sources"),
                         cJSON_Duplicate(pr, 1));
    ss_sdh_regime reg[2];
    ss_sdh_scan_regimes(o->kappa_small, o->kappa_large, reg);
    cJSON_AddItemToObject(r->meta, "sdh_regimes", ss_sdh_regimes_json(reg));
    cJSON_AddNumberToObject(r->meta, "threads",
                            o->threads > 0 ? o->threads : omp_get_max_threads());
    cJSON_AddNumberToObject(r->meta, "block_rows", o->block_rows > 0 ? o->block_rows : 64);
    cJSON_AddItemToObject(r->meta, "blas", ss_blas_info_json());
    cJSON_AddItemToObject(r->meta, "environment", ss_prov_environment(o->threads));
    cJSON_AddNumberToObject(r->meta, "wall_seconds", wall);
    cJSON_AddNumberToObject(r->meta, "tokens", (double)r->prompts * r->n);
    cJSON_AddNumberToObject(r->meta, "tokens_per_second",
                            run_seconds > 0 ? (double)run_tokens / run_seconds : 0);
    char when[32];
    ss_prov_utc_now(when, sizeof when);
    cJSON_AddStringToObject(r->meta, "created", when);
    return SS_OK;
}

/* ---- the loop ---- */

static ss_code check_opts(const ss_scan_opts *o, ss_error *err)
{
    const ss_config *c = &o->model->cfg;
    if (o->len < 1)
        return ss_fail(err, SS_ERR_USAGE, "len must be at least 1");
    if (o->resume && !o->out_dir)
        return ss_fail(err, SS_ERR_USAGE, "resume needs the output folder holding the checkpoint");
    if (o->len > c->ctx_len && !o->allow_long)
        return ss_fail(err, SS_ERR_VALUE, "len %d is longer than the model's context of %d "
                       "tokens (set allow_long to run past it anyway)", o->len, c->ctx_len);
    if (o->skip < 0 || o->skip >= o->len)
        return ss_fail(err, SS_ERR_USAGE, "skip %d must be from 0 to len - 1 = %d", o->skip,
                       o->len - 1);
    if (o->maps != SS_MAPS_NONE && o->map_size < 1)
        return ss_fail(err, SS_ERR_USAGE, "map_size must be at least 1");
    if (o->out_dir && strlen(o->out_dir) > PATH_CAP - 100)
        return ss_fail(err, SS_ERR_USAGE, "output folder: path longer than %d bytes", PATH_CAP - 100);
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

/* Between prompts: the caller's on_prompt, then the store's checkpoint. */
typedef struct {
    const ss_scan_opts *o;
    int64_t total;
    int stopped;                /* on_prompt asked to stop */
    const ss_scan_acc *acc;
    const ss_scan_state *state;
    const cJSON *settings;
    double wall_before, start;
} between_ctx;

static ss_code between(void *ctx, int64_t done, ss_error *err)
{
    between_ctx *b = ctx;
    const ss_scan_opts *o = b->o;
    ss_timing_mark("scan: end of prompt");
    if (o->on_prompt && o->on_prompt(o->on_prompt_user, b->acc->prompts, b->total)) {
        b->stopped = 1;
        return SS_STOP;
    }
    if (!o->store || !o->store->after_prompt)
        return SS_OK;
    ss_code rc = o->store->after_prompt(o->store->ctx, b->state, b->settings, done,
                                        b->wall_before + ss_now_seconds() - b->start, err);
    ss_timing_mark("scan: checkpoint");
    return rc;
}

/* The prompts as the driver reads them, each one's digest logged (text
 * and id sources) as it goes by. */
typedef struct {
    ss_prompt_source inner;
    ss_scan_state *state;
} logged_source;

static ss_code logged_next(void *ctx, const int32_t **ids, int *n, ss_error *err)
{
    logged_source *s = ctx;
    ss_code rc = s->inner.next(s->inner.ctx, ids, n, err);
    if (!rc && *n > 0 && s->state->digests) {
        ss_sha256 h;
        char hex[65];
        ss_sha256_init(&h);
        ss_sha256_update_i32le(&h, *ids, (size_t)*n);
        ss_sha256_hex(&h, hex);
        cJSON_AddItemToArray(s->state->digests, cJSON_CreateString(hex));
    }
    return rc;
}

static ss_code stopped(ss_error *err)
{
    ss_error_clear(err);
    return ss_fail(err, SS_STOP, "scan stopped on request");
}

ss_code ss_scan_collect(const ss_scan_opts *o, ss_scan_result *out, ss_error *err)
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
    int64_t total = o->source->count > 0 ? o->source->count
                                         : ss_prompts_total_records(o->prompts);
    int synthetic = o->source->kind == SS_SRC_OOD || o->source->kind == SS_SRC_REPEAT;
    ss_scan_state state = {.acc = acc, .digests = synthetic ? NULL : cJSON_CreateArray()};
    between_ctx sch = {.o = o, .total = total, .acc = acc, .state = &state};
    cJSON *settings = ss_scan_settings_json(o);
    sch.settings = settings;
    logged_source ls = {.state = &state};
    ss_prompt_source src = {.ctx = &ls, .next = logged_next};
    if (!settings || (!synthetic && !state.digests))
        rc = ss_fail(err, SS_ERR_NOMEM, "scan settings: out of memory");
    if (!rc && o->store && o->store->start)
        rc = o->store->start(o->store->ctx, &state, settings, &sch.wall_before, err);
    if (!rc)
        rc = ss_prompt_source_prompts(&ls.inner, o->prompts, o->len, total, err);
    src.total = ls.inner.total;
    double start = ss_now_seconds();
    int64_t run_prompts = 0;
    if (!rc) {
        ss_progress pg;
        ss_progress_start(&pg, o->quiet, "scan", total, "prompts");
        sch.start = start;
        ss_analysis *list[1] = {&an};
        ss_analysis_opts ro = {.rope = rope, .block_rows = o->block_rows,
                               .allow_long = o->allow_long, .interrupted = ss_interrupted,
                               .between_prompts = between, .between_ctx = &sch,
                               .progress_base = acc->prompts, .share = o->share,
                               .edit_heads = o->edit_heads, .edit_ctx = o->edit_ctx,
                               .head_rope = o->head_rope};
        ss_interrupt_clear();
        rc = ss_analysis_run(o->model, &src, list, 1, &pg, &ro, &run_prompts, err);
        ss_progress_end(&pg);
    }
    if (rc == SS_STOP || (!rc && sch.stopped))
        rc = stopped(err);
    if (!rc && o->share && o->share->finish)
        rc = o->share->finish(o->share->ctx, (ss_analysis *[]){&an}, 1, err);
    if (!rc && acc->prompts == 0)
        rc = ss_fail(err, SS_ERR_VALUE, "no prompt of %d tokens in the source (%lld records "
                     "read, %lld too short%s)", o->len,
                     (long long)ss_prompts_records(o->prompts),
                     (long long)ss_prompts_skipped(o->prompts),
                     o->source->chunk ? "" : "; chunk joins short ones");
    if (!rc) {
        double run = ss_now_seconds() - start;
        rc = build_result(o, acc, settings, state.digests, sch.wall_before + run, run,
                          run_prompts * o->len, out, err);
        if (rc)
            ss_scan_result_free(out);
    }
    ss_prompt_source_free(&ls.inner);
    cJSON_Delete(state.digests);
    cJSON_Delete(settings);
    ss_analysis_free(&an);
    ss_timing_mark("scan: result");
    return rc;
}
