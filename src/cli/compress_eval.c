#include "cli/compress_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compress_apply.h"
#include "analysis/sdh.h"
#include "analysis/source_json.h"
#include "cli/eval_pass.h"
#include "report/explain_out.h"
#include "cli/headsel.h"
#include "common/mem.h"
#include "io/atomic_file.h"
#include "io/json.h"

typedef struct {
    int original;   /* the unchanged model */
    ss_compress_summary s;
    ss_eval_out out;
} eval_row;

/* The SDH rows to follow: --sdh DIR's, else the original pass's (small regime). */
static ss_code choose_sdh(const ss_args *a, const ss_model *m, const ss_eval_out *orig, int len,
                          ss_sdh **list, int *n, ss_error *err)
{
    *list = NULL;
    *n = 0;
    if (ss_args_get(a, "--sdh")) {
        ss_headsel hs = {0};
        ss_code rc = ss_headsel_from_args(a, m, &hs, err);
        if (!rc && hs.n_sdh) {
            *list = ss_memdup(hs.sdh, (size_t)hs.n_sdh * sizeof **list, "SDH list", err);
            *n = *list ? hs.n_sdh : 0;
            rc = *list ? SS_OK : SS_ERR_NOMEM;
        }
        ss_headsel_free(&hs);
        return rc;
    }
    return ss_sdh_find(orig->slash, m->cfg.n_layer, m->cfg.n_head, len, &SS_SDH_SMALL, list, n,
                       err);
}

static void plan_label(const eval_row *e, char *buf, size_t cap)
{
    if (e->original)
        snprintf(buf, cap, "original");
    else
        snprintf(buf, cap, "%g/%d", e->s.thre, e->s.rank_thre);
}

static ss_code write_csvs(const char *dir, const eval_row *rows, int n_rows, const ss_sdh *sdh,
                          int n_sdh, const ss_config *c, int len, ss_error *err)
{
    char path[4096], label[64];
    ss_atomic_file f;
    ss_code rc = ss_out_path(path, sizeof path, dir, "eval.csv", err);
    if (rc || (rc = ss_atomic_open(&f, path, err)))
        return rc;
    fprintf(f.fp, "plan,thre,rank_thre,saved_share,compressed_q,compressed_k,tokens,loss,"
                  "perplexity,loss_change\n");
    for (int i = 0; i < n_rows; i++) {
        const eval_row *e = &rows[i];
        plan_label(e, label, sizeof label);
        if (e->original)
            fprintf(f.fp, "%s,,,0,0,0,", label);
        else
            fprintf(f.fp, "%s,%g,%d,%.17g,%d,%d,", label, e->s.thre, e->s.rank_thre,
                    e->s.saved_share, e->s.compressed_q, e->s.compressed_k);
        fprintf(f.fp, "%lld,%.17g,%.17g,%.17g\n", (long long)e->out.tokens, e->out.loss,
                e->out.perplexity, e->out.loss - rows[0].out.loss);
    }
    if ((rc = ss_atomic_commit(&f, err)) || (rc = ss_out_path(path, sizeof path, dir,
                                                              "eval_sdh.csv", err)) ||
        (rc = ss_atomic_open(&f, path, err)))
        return rc;
    fprintf(f.fp, "plan,layer,head,delta,score_original,score\n");
    for (int i = 1; i < n_rows; i++) {
        plan_label(&rows[i], label, sizeof label);
        for (int k = 0; k < n_sdh; k++)
            fprintf(f.fp, "%s,%d,%d,%d,%.17g,%.17g\n", label, sdh[k].layer, sdh[k].head,
                    sdh[k].delta,
                    ss_eval_slash(&rows[0].out, c, len, sdh[k].layer, sdh[k].head, sdh[k].delta),
                    ss_eval_slash(&rows[i].out, c, len, sdh[k].layer, sdh[k].head, sdh[k].delta));
    }
    return ss_atomic_commit(&f, err);
}

static cJSON *eval_json(const eval_row *rows, int n_rows, const ss_sdh *sdh, int n_sdh,
                        const ss_config *c, const ss_eval_src *es, const char *sdh_from)
{
    int len = es->popts.len;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "eval_prompts", ss_prompt_source_json(&es->popts, es->sha));
    cJSON_AddNumberToObject(j, "eval_len", len);
    cJSON_AddNumberToObject(j, "prompts", (double)rows[0].out.prompts);
    cJSON_AddStringToObject(j, "sdh_from", sdh_from);
    cJSON *arr = cJSON_AddArrayToObject(j, "plans");
    char label[64];
    for (int i = 0; i < n_rows; i++) {
        const eval_row *e = &rows[i];
        cJSON *o = cJSON_CreateObject();
        plan_label(e, label, sizeof label);
        cJSON_AddStringToObject(o, "plan", label);
        if (!e->original) {
            cJSON_AddNumberToObject(o, "thre", e->s.thre);
            cJSON_AddNumberToObject(o, "rank_thre", e->s.rank_thre);
        }
        cJSON_AddNumberToObject(o, "saved_share", e->original ? 0 : e->s.saved_share);
        cJSON_AddNumberToObject(o, "tokens", (double)e->out.tokens);
        cJSON_AddNumberToObject(o, "loss", e->out.loss);
        cJSON_AddNumberToObject(o, "perplexity", e->out.perplexity);
        cJSON_AddNumberToObject(o, "loss_change", e->out.loss - rows[0].out.loss);
        cJSON *sd = cJSON_AddArrayToObject(o, "sdh");
        for (int k = 0; k < n_sdh; k++) {
            cJSON *h = cJSON_CreateObject();
            char name[32];
            snprintf(name, sizeof name, "L%dH%d", sdh[k].layer, sdh[k].head);
            cJSON_AddStringToObject(h, "head", name);
            cJSON_AddNumberToObject(h, "delta", sdh[k].delta);
            double v = ss_eval_slash(&e->out, c, len, sdh[k].layer, sdh[k].head, sdh[k].delta);
            cJSON_AddItemToObject(h, "score", isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
            cJSON_AddItemToArray(sd, h);
        }
        cJSON_AddItemToArray(arr, o);
    }
    return j;
}

ss_code ss_compress_eval(const ss_args *a, ss_explain_src *src, const ss_eval_src *es,
                         const ss_compress_result *r, const double *thre, int nt,
                         const double *rank_thre, int nr, const char *dir, ss_error *err)
{
    ss_model *m = src->run.model;
    int len = es->popts.len, n_rows = 1 + nt * nr;
    eval_row *rows = ss_calloc((size_t)n_rows, sizeof *rows, "eval rows", err);
    ss_analysis_opts ao = {.rope = &src->run.rope, .allow_long = src->run.allow_long};
    ss_forward_opts fo = {0};
    ss_model_run_edits(&src->run, &fo);
    ao.edit_heads = fo.edit_heads;
    ao.edit_ctx = fo.edit_ctx;
    ao.head_rope = fo.head_rope;
    ss_code rc = rows ? SS_OK : SS_ERR_NOMEM;
    /* each head's SVD once for all the plans: at most 1 GiB of them kept, and
     * at most a quarter of the memory still available (the rest is the
     * passes'); past the budget an SVD is computed again for each plan */
    ss_lowrank_svds svds = {0};
    uint64_t budget = (uint64_t)1 << 30, avail = ss_mem_available();
    if (avail && avail / 4 < budget)
        budget = avail / 4;
    if (!rc)
        rc = ss_lowrank_svds_init(&svds, m, (size_t)budget, err);
    ss_progress pr;
    ss_progress_start(&pr, a->quiet, "compress --eval-prompts", n_rows, "passes");
    if (!rc) {
        rows[0].original = 1;
        rc = ss_eval_pass(m, es, &ao, 1, &rows[0].out, err);
        ss_progress_update(&pr, 1, NULL);
    }
    for (int t = 0, i = 1; !rc && t < nt; t++)
        for (int k = 0; !rc && k < nr; k++, i++) {
            rows[i].s = ss_compress_summarize(r, thre[t], (int)rank_thre[k]);
            ss_lowrank_applied la;
            if ((rc = ss_lowrank_apply_svds(m, r, thre[t], (int)rank_thre[k], &svds, &la, err)))
                break;
            rc = ss_eval_pass(m, es, &ao, 1, &rows[i].out, err);
            ss_lowrank_restore(&la);
            ss_progress_update(&pr, i + 1, NULL);
        }
    ss_progress_end(&pr);
    ss_lowrank_svds_free(&svds);
    ss_sdh *sdh = NULL;
    int n_sdh = 0;
    if (!rc)
        rc = choose_sdh(a, m, &rows[0].out, len, &sdh, &n_sdh, err);
    if (!rc)
        rc = write_csvs(dir, rows, n_rows, sdh, n_sdh, &m->cfg, len, err);
    if (!rc) {
        cJSON *j = eval_json(rows, n_rows, sdh, n_sdh, &m->cfg, es,
                             ss_args_get(a, "--sdh") ? ss_args_get(a, "--sdh") : "eval prompts");
        char path[4096];
        if (!(rc = ss_out_path(path, sizeof path, dir, "eval.json", err)))
            rc = ss_json_write_file(path, j, err);
        cJSON_Delete(j);
    }
    if (!rc && !a->quiet) {
        printf("%-12s %12s %10s %12s\n", "plan", "saved", "loss", "perplexity");
        char label[64];
        for (int i = 0; i < n_rows; i++) {
            plan_label(&rows[i], label, sizeof label);
            printf("%-12s %11.2f%% %10.5f %12.4f\n", label,
                   rows[i].original ? 0.0 : 100 * rows[i].s.saved_share, rows[i].out.loss,
                   rows[i].out.perplexity);
        }
    }
    free(sdh);
    for (int i = 0; rows && i < n_rows; i++)
        ss_eval_out_free(&rows[i].out);
    free(rows);
    return rc;
}
