#include "report/scan_checkpoint.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/scan_result.h"
#include "common/progress.h"
#include "common/terminate.h"
#include "io/json.h"
#include "store/provenance.h"

static int ck_arrays(ss_scan_acc *acc, ss_ck_array a[4])
{
    int64_t lhn[3] = {acc->n_layer, acc->n_head, acc->n};
    a[0] = (ss_ck_array){"slash_sum", SS_NPY_F64, 3, {lhn[0], lhn[1], lhn[2]}, acc->slash_sum};
    a[1] = (ss_ck_array){"slash_sumsq", SS_NPY_F64, 3, {lhn[0], lhn[1], lhn[2]},
                         acc->slash_sumsq};
    a[2] = (ss_ck_array){"slash_count", SS_NPY_I64, 3, {lhn[0], lhn[1], lhn[2]},
                         acc->slash_count};
    a[3] = (ss_ck_array){"map_sum", SS_NPY_F64, 3, {acc->n_maps, acc->bins, acc->bins},
                         acc->map_sum};
    return acc->n_maps > 0 ? 4 : 3;
}

static ss_code ck_save(ss_scan_checkpoint *c, const ss_scan_state *s, const cJSON *settings,
                       double wall, ss_error *err)
{
    ss_ck_array a[4];
    int n = ck_arrays(s->acc, a);
    const ss_prompts *src = c->o->prompts;
    cJSON *st = cJSON_CreateObject();
    /* the tool's version beside the settings, not in them: scan.json's
     * settings (which merge and compare match) stay what they were */
    cJSON_AddStringToObject(st, "version", SS_VERSION);
    cJSON_AddItemToObject(st, "settings", cJSON_Duplicate(settings, 1));
    cJSON_AddNumberToObject(st, "prompts", (double)s->acc->prompts);
    cJSON_AddNumberToObject(st, "records", (double)ss_prompts_records(src));
    cJSON_AddNumberToObject(st, "skipped", (double)ss_prompts_skipped(src));
    cJSON_AddNumberToObject(st, "emitted", (double)ss_prompts_emitted(src));
    cJSON_AddNumberToObject(st, "wall_seconds", wall);
    if (s->digests)
        cJSON_AddItemToObject(st, "prompt_sha256", cJSON_Duplicate(s->digests, 1));
    ss_code rc = ss_checkpoint_save(&c->ck, a, n, st, err);
    cJSON_Delete(st);
    return rc;
}

/* Another slashscope may keep other sums or settings: a checkpoint resumes
 * only with the version that made it (as rank's and freq's do). */
static ss_code ck_check_version(const cJSON *st, const char *file, ss_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, "version");
    if (!v)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "%s: made by an earlier slashscope, which did "
                       "not record its version (this is %s): start afresh with --force", file,
                       SS_VERSION);
    if (!cJSON_IsString(v))
        return ss_fail(err, SS_ERR_FORMAT, "%s: \"version\" must be a string", file);
    if (strcmp(v->valuestring, SS_VERSION))
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "%s: made by slashscope %.80s, this is %s: "
                       "resume it with slashscope %.80s, or start afresh with --force", file,
                       v->valuestring, SS_VERSION, v->valuestring);
    return SS_OK;
}

/* What the saved state must satisfy beyond its checksums: this version,
 * the same settings, counts that agree with each other and with the arrays. */
static ss_code ck_check_state(const cJSON *st, const cJSON *settings, const char *file,
                              const ss_scan_state *s, long long *v, double *wall, ss_error *err)
{
    const cJSON *saved = cJSON_GetObjectItemCaseSensitive(st, "settings");
    char field[512];
    ss_code vrc = ck_check_version(st, file, err);
    if (vrc)
        return vrc;
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
    if (s->digests && (!cJSON_IsArray(d) || cJSON_GetArraySize(d) != v[0]))
        return ss_fail(err, SS_ERR_FORMAT, "%s: \"prompt_sha256\" must list the %lld prompts done",
                       file, v[0]);
    const ss_scan_acc *acc = s->acc;
    return ss_scan_arrays_check(file, acc->slash_sum, acc->slash_sumsq, acc->slash_count,
                                acc->n_layer, acc->n_head, acc->n, acc->skip, v[0], err);
}

/* Loads the checkpoint into *s and moves the source to where it was.
 * *found = 0 when there is none. */
static ss_code ck_load(ss_scan_checkpoint *c, ss_scan_state *s, const cJSON *settings,
                       double *wall, int *found, ss_error *err)
{
    ss_ck_array a[4];
    int n = ck_arrays(s->acc, a);
    cJSON *st = NULL;
    ss_code rc = ss_checkpoint_load(&c->ck, a, n, &st, found, err);
    if (rc || !*found)
        return rc;
    char file[4200];
    snprintf(file, sizeof file, "%s/state.json", c->ck.dir);
    long long v[4];
    rc = ck_check_state(st, settings, file, s, v, wall, err);
    if (!rc && s->digests) {
        cJSON_Delete(s->digests);
        s->digests = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(st, "prompt_sha256"), 1);
    }
    cJSON_Delete(st);
    if (!rc)
        rc = ss_prompts_seek(c->o->prompts, v[1], v[2], v[3], err);
    if (!rc)
        s->acc->prompts = v[0];
    return rc;
}

/* The store hooks (analysis/scan.h). */
static ss_code on_start(void *ctx, ss_scan_state *s, const cJSON *settings, double *wall_before,
                        ss_error *err)
{
    ss_scan_checkpoint *c = ctx;
    const ss_scan_opts *o = c->o;
    c->last = ss_now_seconds();
    int found = 0;
    ss_code rc = SS_OK;
    if (c->folder->resumed)
        rc = ck_load(c, s, settings, wall_before, &found, err);
    if (!rc && o->resume && !o->quiet) {
        if (found)
            fprintf(stderr, "slashscope scan: resuming after %lld prompts (%s)\n",
                    (long long)s->acc->prompts, c->folder->work);
        else
            fprintf(stderr, "slashscope scan: no checkpoint for %s: starting from the "
                    "beginning\n", o->out_dir);
    }
    return rc;
}

static ss_code on_prompt_done(void *ctx, const ss_scan_state *s, const cJSON *settings,
                              int64_t done, double wall, ss_error *err)
{
    ss_scan_checkpoint *c = ctx;
    /* SIGTERM (common/terminate.h): save everything finished, then stop
     * before the next prompt (the driver polls ss_interrupted) */
    int term = ss_terminate_requested();
    if (!term && done - c->last_done < c->every && ss_now_seconds() - c->last < c->every_s)
        return SS_OK;
    c->last_done = done;
    ss_code rc = ck_save(c, s, settings, wall, err);
    c->last = ss_now_seconds();
    if (!rc && term)
        ss_interrupt();
    return rc;
}

ss_code ss_scan_checkpoint_init(ss_scan_checkpoint *c, const ss_scan_opts *o, const ss_folder *f,
                                ss_error *err)
{
    memset(c, 0, sizeof *c);
    ss_code rc = ss_checkpoint_init(&c->ck, f->work, err);
    if (rc)
        return rc;
    c->o = o;
    c->folder = f;
    c->every = o->checkpoint_every > 0 ? o->checkpoint_every : 8;
    c->every_s = o->checkpoint_seconds > 0 ? o->checkpoint_seconds : 300;
    c->store = (ss_scan_store){c, on_start, on_prompt_done};
    return SS_OK;
}
