/* cone's result folder (report/cone_out.h). */
#include "report/cone_out.h"

#include <math.h>
#include <stdio.h>

#include "analysis/scan_result.h"
#include "io/atomic_file.h"
#include "report/explain_table.h"

/* cone.csv's table: one row per layer-0 query head, the Q columns of its
 * W_Q, the K columns of its KV head's W_K, then rv_random. Built as every
 * per-head CSV is (report/explain_table.h), so its averages follow the same
 * rule for heads without a value. */
static ss_code cone_table(const ss_cone_report *r, const unsigned char *listed, ss_table *t,
                          ss_error *err)
{
    ss_code rc = ss_table_init(t, r->n_head, err);
    if (rc)
        return rc;
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < SS_CONE_N_SIDE; c++)
            ss_table_col(t, "%s_%s", SS_CONE_SIDE_COLS[c], s ? "K" : "Q");
    int crv = ss_table_col(t, "rv_random");
    if (crv != 2 * SS_CONE_N_SIDE) {
        ss_table_free(t);
        return ss_fail(err, SS_ERR_NOMEM, "cone: out of memory for the table");
    }
    for (int h = 0; h < r->n_head; h++) {
        int kv = h / (r->n_head / r->n_kv_head);
        t->layer[h] = 0;
        t->head[h] = h;
        t->kv_head[h] = kv;
        t->listed[h] = listed[h];
        ss_cone_side_values(&r->q[h], ss_table_at(t, h, 0));
        ss_cone_side_values(&r->k[kv], ss_table_at(t, h, SS_CONE_N_SIDE));
        *ss_table_at(t, h, crv) = r->rv_random;
    }
    return SS_OK;
}

static ss_code write_csv(const char *dir, const ss_cone_report *r, const ss_table *t,
                         ss_error *err)
{
    char path[4096];
    ss_atomic_file f;
    ss_code rc;
    if ((rc = ss_out_path(path, sizeof path, dir, "cone.csv", err)) ||
        (rc = ss_table_write_csv(t, path, err)))
        return rc;

    if ((rc = ss_out_path(path, sizeof path, dir, "alignment.csv", err)) ||
        (rc = ss_atomic_open(&f, path, err)))
        return rc;
    fprintf(f.fp, "layer,head,name,delta,pairs,ratio_mean,ratio_min,ratio_max,logit_mean,"
                  "bound_mean\n");
    for (int c = 0; c < r->n_cs; c++)
        for (int d = 0; d <= r->max_delta; d++) {
            size_t x = (size_t)c * (r->max_delta + 1) + d;
            fprintf(f.fp, "0,%d,L0H%d,%d,%lld", r->cs_heads[c], r->cs_heads[c], d,
                    (long long)r->cs_n[x]);
            const double v[5] = {r->cs_mean[x], r->cs_min[x], r->cs_max[x], r->cs_logit[x],
                                 r->cs_bound[x]};
            for (int i = 0; i < 5; i++) {
                fputc(',', f.fp);
                ss_csv_num(f.fp, v[i]);
            }
            fputc('\n', f.fp);
        }
    return ss_atomic_commit(&f, err);
}

static cJSON *side_json(const ss_cone_side *s)
{
    double v[SS_CONE_N_SIDE];
    ss_cone_side_values(s, v);
    cJSON *j = cJSON_CreateObject();
    for (int c = 0; c < SS_CONE_N_SIDE; c++)
        cJSON_AddItemToObject(j, SS_CONE_SIDE_COLS[c], ss_json_num_or_null(v[c]));
    return j;
}

/* The means of every Q and K column but the direction index (a mean index
 * means nothing) over one group of the table, as {"heads", "Q": {...},
 * "K": {...}, "undefined": {"<csv column>": heads without a value}}. */
static cJSON *average_json(const ss_table *t, int listed_only)
{
    double m[SS_TABLE_MAX_COLS];
    int undef[SS_TABLE_MAX_COLS];
    int rows = ss_table_means(t, listed_only, m, undef);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "heads", rows);
    for (int s = 0; s < 2; s++) {
        cJSON *o = cJSON_AddObjectToObject(j, s ? "K" : "Q");
        for (int c = 0; c < SS_CONE_N_SIDE; c++)
            if (c != 4)
                cJSON_AddItemToObject(o, SS_CONE_SIDE_COLS[c],
                                      ss_json_num_or_null(m[s * SS_CONE_N_SIDE + c]));
    }
    undef[4] = undef[SS_CONE_N_SIDE + 4] = 0; /* the index is not averaged */
    undef[t->n_cols - 1] = 0;                 /* rv_random is not averaged */
    cJSON_AddItemToObject(j, "undefined", ss_table_undefined_json(t, undef));
    return j;
}

static ss_code write_json(const char *dir, const ss_cone_opts *o, const ss_cone_report *r,
                          const ss_table *t, cJSON *ignored, ss_explain_record *rec,
                          ss_error *err)
{
    int prov;
    cJSON *root = ss_explain_root(rec, "cone", 0, &prov);
    cJSON *set = cJSON_AddObjectToObject(root, "settings");
    cJSON_AddNumberToObject(set, "tau", o->tau);
    cJSON_AddNumberToObject(set, "max_delta", o->max_delta);
    cJSON_AddNumberToObject(set, "seed", (double)o->seed);
    cJSON_AddNumberToObject(set, "vocab", r->vocab);
    cJSON_AddItemToObject(root, "selection", ss_explain_take(&rec->selection));
    cJSON_AddItemToObject(root, "ignored_heads", ignored);
    cJSON_AddItemToObject(root, "rv_random", ss_json_num_or_null(r->rv_random));
    cJSON *heads = cJSON_AddArrayToObject(root, "heads");
    for (int h = 0; h < r->n_head; h++) {
        cJSON *e = cJSON_CreateObject();
        char name[32];
        ss_head_name(0, h, name, sizeof name);
        cJSON_AddStringToObject(e, "name", name);
        cJSON_AddNumberToObject(e, "kv_head", h / (r->n_head / r->n_kv_head));
        cJSON_AddBoolToObject(e, "listed", t->listed[h]);
        cJSON_AddItemToObject(e, "Q", side_json(&r->q[h]));
        cJSON_AddItemToObject(e, "K", side_json(&r->k[h / (r->n_head / r->n_kv_head)]));
        cJSON_AddItemToArray(heads, e);
    }
    cJSON *avg = cJSON_AddObjectToObject(root, "averages");
    cJSON_AddItemToObject(avg, "listed", average_json(t, 1));
    cJSON_AddItemToObject(avg, "all", average_json(t, 0));
    cJSON *al = cJSON_AddArrayToObject(root, "alignment");
    for (int c = 0; c < r->n_cs; c++)
        for (int d = 0; d <= r->max_delta; d++) {
            size_t x = (size_t)c * (r->max_delta + 1) + d;
            cJSON *e = cJSON_CreateObject();
            char name[32];
            ss_head_name(0, r->cs_heads[c], name, sizeof name);
            cJSON_AddStringToObject(e, "name", name);
            cJSON_AddNumberToObject(e, "delta", d);
            cJSON_AddNumberToObject(e, "pairs", (double)r->cs_n[x]);
            cJSON_AddItemToObject(e, "ratio_mean", ss_json_num_or_null(r->cs_mean[x]));
            cJSON_AddItemToObject(e, "ratio_min", ss_json_num_or_null(r->cs_min[x]));
            cJSON_AddItemToObject(e, "ratio_max", ss_json_num_or_null(r->cs_max[x]));
            cJSON_AddItemToObject(e, "logit_mean", ss_json_num_or_null(r->cs_logit[x]));
            cJSON_AddItemToObject(e, "bound_mean", ss_json_num_or_null(r->cs_bound[x]));
            cJSON_AddItemToArray(al, e);
        }
    char path[4096];
    ss_code rc = prov ? ss_out_path(path, sizeof path, dir, "cone.json", err) : err->code;
    if (!rc)
        rc = ss_json_write_file(path, root, err);
    cJSON_Delete(root);
    return rc;
}

ss_code ss_cone_write(const char *dir, const ss_cone_opts *o, const ss_cone_report *r,
                      const unsigned char *listed, cJSON *ignored, ss_explain_record *rec,
                      ss_error *err)
{
    ss_table t = {0};
    ss_code rc = ss_mkdirs(dir, err);
    if (!rc && !(rc = cone_table(r, listed, &t, err)) && !(rc = write_csv(dir, r, &t, err)))
        rc = write_json(dir, o, r, &t, ss_explain_take(&ignored), rec, err);
    ss_table_free(&t);
    cJSON_Delete(ignored);
    ss_explain_record_free(rec);
    return rc;
}
