#include "report/scan_checkpoint.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/progress.h"
#include "io/atomic_file.h"
#include "io/json.h"
#include "io/npy.h"

#define PATH_CAP SS_SCAN_PATH_CAP

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

static void ck_path(const ss_scan_checkpoint *c, char *buf, const char *name, int64_t gen)
{
    /* c->dir is checked short enough in ss_scan_checkpoint_init: these never truncate */
    int w = gen < 0 ? snprintf(buf, PATH_CAP, "%s/%s", c->dir, name)
                    : snprintf(buf, PATH_CAP, "%s/%s.%lld.npy", c->dir, name, (long long)gen);
    if (w >= PATH_CAP)
        buf[0] = '\0';
}

static void ck_remove_generation(const ss_scan_checkpoint *c, int64_t gen)
{
    char p[PATH_CAP];
    const char *names[4] = {"slash_sum", "slash_sumsq", "slash_count", "map_sum"};
    for (int k = 0; k < 4; k++) {
        ck_path(c, p, names[k], gen);
        unlink(p);
    }
}

static ss_code ck_save(ss_scan_checkpoint *c, const ss_scan_acc *acc, const cJSON *settings,
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

static ss_code ck_load_array(const ss_scan_checkpoint *c, const char *name, int64_t gen,
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
static ss_code ck_load(ss_scan_checkpoint *c, ss_scan_acc *acc, const cJSON *settings, ss_prompts *src,
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

/* After the results are written (a kill between a commit and the removal
 * of the previous generation leaves both: both go). */
void ss_scan_checkpoint_remove(const ss_scan_checkpoint *c)
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

/* The store hooks (analysis/scan.h). */
static ss_code on_start(void *ctx, ss_scan_acc *acc, const cJSON *settings, double *wall_before,
                        ss_error *err)
{
    ss_scan_checkpoint *c = ctx;
    const ss_scan_opts *o = c->o;
    c->last = ss_now_seconds();
    if (!o->resume) {
        char p[PATH_CAP];
        ck_path(c, p, "state.json", -1);
        if (access(p, F_OK) == 0)
            return ss_fail(err, SS_ERR_USAGE, "%s holds the checkpoint of an unfinished scan: "
                           "resume it, or delete %s to start afresh", o->out_dir, c->dir);
        return SS_OK;
    }
    int found = 0;
    /* files a killed run was writing when it died */
    ss_code rc = ss_atomic_clean_stale(o->out_dir, NULL, err);
    if (!rc)
        rc = ck_load(c, acc, settings, o->prompts, wall_before, &found, err);
    if (!rc && !found && !o->quiet)
        fprintf(stderr, "slashscope scan: no checkpoint in %s: starting from the beginning\n",
                o->out_dir);
    if (!rc && found && !o->quiet)
        fprintf(stderr, "slashscope scan: resuming after %lld prompts\n", (long long)acc->prompts);
    return rc;
}

static ss_code on_prompt_done(void *ctx, const ss_scan_acc *acc, const cJSON *settings,
                              int64_t done, double wall, ss_error *err)
{
    ss_scan_checkpoint *c = ctx;
    if (done - c->last_done < c->every && ss_now_seconds() - c->last < c->every_s)
        return SS_OK;
    c->last_done = done;
    ss_code rc = ck_save(c, acc, settings, c->o->prompts, wall, err);
    c->last = ss_now_seconds();
    return rc;
}

ss_code ss_scan_checkpoint_init(ss_scan_checkpoint *c, const ss_scan_opts *o, ss_error *err)
{
    memset(c, 0, sizeof *c);
    if (!o->out_dir || !*o->out_dir)
        return ss_fail(err, SS_ERR_USAGE, "checkpoints need the scan's output folder");
    if (strlen(o->out_dir) > PATH_CAP - 100)
        return ss_fail(err, SS_ERR_USAGE, "output folder: path longer than %d bytes",
                       PATH_CAP - 100);
    snprintf(c->dir, sizeof c->dir, "%s/checkpoint", o->out_dir);
    c->o = o;
    c->every = o->checkpoint_every > 0 ? o->checkpoint_every : 8;
    c->every_s = o->checkpoint_seconds > 0 ? o->checkpoint_seconds : 300;
    c->store = (ss_scan_store){c, on_start, on_prompt_done};
    return SS_OK;
}
