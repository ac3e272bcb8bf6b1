/* cone's result folder (report/cone_out.h). */
#include "report/cone_out.h"

#include <math.h>
#include <stdio.h>

#include "analysis/scan_result.h"
#include "io/atomic_file.h"

static ss_code write_csv(const char *dir, const ss_cone_report *r, const unsigned char *listed,
                         ss_error *err)
{
    char path[4096];
    ss_atomic_file f;
    ss_code rc;
    if ((rc = ss_out_path(path, sizeof path, dir, "cone.csv", err)) ||
        (rc = ss_atomic_open(&f, path, err)))
        return rc;
    fprintf(f.fp, "layer,head,name,kv_head,listed");
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < SS_CONE_N_SIDE; c++)
            fprintf(f.fp, ",%s_%s", SS_CONE_SIDE_COLS[c], s ? "K" : "Q");
    fprintf(f.fp, ",rv_random\n");
    for (int h = 0; h < r->n_head; h++) {
        int kv = h / (r->n_head / r->n_kv_head);
        double v[2][SS_CONE_N_SIDE];
        ss_cone_side_values(&r->q[h], v[0]);
        ss_cone_side_values(&r->k[kv], v[1]);
        fprintf(f.fp, "0,%d,L0H%d,%d,%d", h, h, kv, listed[h]);
        for (int s = 0; s < 2; s++)
            for (int c = 0; c < SS_CONE_N_SIDE; c++) {
                fputc(',', f.fp);
                ss_csv_num(f.fp, v[s][c]);
            }
        fputc(',', f.fp);
        ss_csv_num(f.fp, r->rv_random);
        fputc('\n', f.fp);
    }
    if ((rc = ss_atomic_commit(&f, err)))
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

/* Means of every Q and K column over the query heads with want[h] set. */
static cJSON *average_json(const ss_cone_report *r, const unsigned char *want)
{
    double sum[2][SS_CONE_N_SIDE] = {{0}};
    int n = 0;
    for (int h = 0; h < r->n_head; h++) {
        if (want && !want[h])
            continue;
        double v[2][SS_CONE_N_SIDE];
        ss_cone_side_values(&r->q[h], v[0]);
        ss_cone_side_values(&r->k[h / (r->n_head / r->n_kv_head)], v[1]);
        for (int s = 0; s < 2; s++)
            for (int c = 0; c < SS_CONE_N_SIDE; c++)
                sum[s][c] += v[s][c];
        n++;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "heads", n);
    for (int s = 0; s < 2; s++) {
        cJSON *o = cJSON_AddObjectToObject(j, s ? "K" : "Q");
        for (int c = 0; c < SS_CONE_N_SIDE; c++)
            if (c != 4) /* a mean direction index means nothing */
                cJSON_AddItemToObject(o, SS_CONE_SIDE_COLS[c],
                                      ss_json_num_or_null(n ? sum[s][c] / n : NAN));
    }
    return j;
}

static ss_code write_json(const char *dir, const ss_cone_opts *o, const ss_cone_report *r,
                          const unsigned char *listed, cJSON *ignored, ss_explain_record *rec,
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
        cJSON_AddBoolToObject(e, "listed", listed[h]);
        cJSON_AddItemToObject(e, "Q", side_json(&r->q[h]));
        cJSON_AddItemToObject(e, "K", side_json(&r->k[h / (r->n_head / r->n_kv_head)]));
        cJSON_AddItemToArray(heads, e);
    }
    cJSON *avg = cJSON_AddObjectToObject(root, "averages");
    cJSON_AddItemToObject(avg, "listed", average_json(r, listed));
    cJSON_AddItemToObject(avg, "all", average_json(r, NULL));
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
    ss_code rc = ss_mkdirs(dir, err);
    if (!rc && !(rc = write_csv(dir, r, listed, err)))
        rc = write_json(dir, o, r, listed, ss_explain_take(&ignored), rec, err);
    cJSON_Delete(ignored);
    ss_explain_record_free(rec);
    return rc;
}
