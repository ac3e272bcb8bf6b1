/* slashscope cone MODEL --out DIR: layer-0 analysis over the whole
 * vocabulary (analysis/cone_vocab.h; SPEC.md section 4). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cone_vocab.h"
#include "analysis/scan_result.h"
#include "cli/commands.h"
#include "cli/explain_out.h"
#include "cli/out_folder.h"
#include "cli/summary.h"
#include "cli/headsel.h"
#include "common/mem.h"
#include "engine/forward.h"
#include "io/atomic_file.h"
#include "model/describe.h"

static const char usage[] =
    "usage: slashscope cone MODEL --out DIR [--heads L0H1,... | --sdh SCAN_DIR [--regime R]]\n"
    "                       [--tau 0.95] [--max-delta 4] [--seed 0] [--chunk 2048]\n\n"
    "Layer-0 analysis over the whole vocabulary (token t at position t, h = the layer-0\n"
    "attention input RMSN(x)), for every layer-0 head (paper section 4.3):\n"
    "  r~_1, R~_tau of W_Q and W_K (Table 2, Figure 11) next to r_1, R_tau of Q and K;\n"
    "  the dominant singular direction of W_Q / W_K, its energy share and relative\n"
    "  variation RV against a seeded Gaussian direction (Table 11, Figure 12);\n"
    "  the mean ||W^T h|| against the bias norm ||b|| (Table 12, Figure 13);\n"
    "and, for the named layer-0 heads (default: all of them), the Cauchy-Schwarz\n"
    "alignment logit / (s ||q_t|| ||k_{t-delta}||) at offsets 0..max-delta (Barbero et al.).\n"
    "Named heads in other layers are listed as ignored (this is a layer-0 analysis).\n\n"
    "Writes DIR/cone.csv (one row per layer-0 query head, K columns from its KV head),\n"
    "DIR/alignment.csv (head, delta, ratio statistics) and DIR/cone.json (settings, the\n"
    "same numbers, averages over the named heads and over all layer-0 heads).\n"
    "See docs/explain.md for every column.\n";

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

static ss_code write_json(const char *dir, const ss_model *m, const ss_cone_opts *o,
                          const ss_cone_report *r, const ss_headsel *sel,
                          const unsigned char *listed, cJSON *ignored, ss_error *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "command", "cone");
    cJSON_AddStringToObject(root, "version", SS_VERSION);
    cJSON_AddItemToObject(root, "model", ss_model_describe(m, NULL));
    cJSON *prov = ss_out_provenance(m, 0, err);
    cJSON_AddItemToObject(root, "provenance", prov);
    cJSON *set = cJSON_AddObjectToObject(root, "settings");
    cJSON_AddNumberToObject(set, "tau", o->tau);
    cJSON_AddNumberToObject(set, "max_delta", o->max_delta);
    cJSON_AddNumberToObject(set, "seed", (double)o->seed);
    cJSON_AddNumberToObject(set, "vocab", r->vocab);
    cJSON_AddItemToObject(root, "selection", ss_headsel_json(sel));
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

int cmd_cone(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_HEADSEL_FLAGS, SS_OUT_FOLDER_FLAGS, {"--tau", 1},
                                    {"--max-delta", 1}, {"--seed", 1}, {"--chunk", 1},
                                    {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "cone", usage, flags, argc, argv, &err))
        return ss_cli_fail("cone", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    const char *out;
    double tau;
    long long max_delta, seed, chunk;
    if (a.n_positional != 1)
        ss_fail(&err, SS_ERR_USAGE, "expected one MODEL argument (see --help)");
    if (err.code || ss_args_out(&a, 1, &out, &err) ||
        ss_args_double(&a, "--tau", 0.95, 0, 1, &tau, &err) ||
        ss_args_int(&a, "--max-delta", 4, 0, 1 << 20, &max_delta, &err) ||
        ss_args_int(&a, "--seed", 0, 0, INT64_MAX, &seed, &err) ||
        ss_args_int(&a, "--chunk", 2048, 1, 1 << 20, &chunk, &err))
        return ss_cli_fail("cone", &err);
    ss_set_threads(a.threads);
    ss_model *m = NULL;
    if (ss_model_open(a.positional[0], &m, &err))
        return ss_cli_fail("cone", &err);
    ss_folder folder;
    if (ss_out_folder_begin(&folder, &a, "cone.json", &out, &err)) {
        ss_model_close(m);
        return ss_cli_fail("cone", &err);
    }
    const ss_config *c = &m->cfg;
    ss_headsel sel = {0};
    ss_cone_report rep = {0};
    unsigned char *listed = NULL;
    int *cs = NULL, n_cs = 0;
    cJSON *ignored = cJSON_CreateArray();
    if (ss_headsel_from_args(&a, m, &sel, &err))
        goto done;
    listed = ss_calloc((size_t)c->n_head, 1, "head flags", &err);
    cs = ss_calloc((size_t)c->n_head, sizeof *cs, "head list", &err);
    if (!listed || !cs)
        goto done;
    for (int l = 0; l < c->n_layer; l++)
        for (int h = 0; h < c->n_head; h++) {
            if (!sel.flags[l * c->n_head + h])
                continue;
            if (l == 0) {
                listed[h] = 1;
                cs[n_cs++] = h;
            } else if (strcmp(sel.source, "all") != 0) {
                char name[32];
                ss_head_name(l, h, name, sizeof name);
                cJSON_AddItemToArray(ignored, cJSON_CreateString(name));
            }
        }
    if (cJSON_GetArraySize(ignored) > 0 && !a.quiet)
        fprintf(stderr, "slashscope cone: %d named heads are outside layer 0 and are ignored "
                "(listed in cone.json)\n", cJSON_GetArraySize(ignored));
    ss_cone_opts o = {.tau = tau, .max_delta = (int)max_delta, .seed = (uint64_t)seed,
                      .chunk = (int)chunk, .cs_heads = cs, .n_cs = n_cs};
    if (ss_cone_vocab(m, &o, &rep, &err) || ss_mkdirs(out, &err) ||
        write_csv(out, &rep, listed, &err))
        goto done;
    write_json(out, m, &o, &rep, &sel, listed, ignored, &err);
    ignored = NULL; /* owned by the JSON tree, freed with it */
done:
    if (!ss_out_folder_end(&folder, &err))
        ss_summary_cone(stdout, ss_args_get(&a, "--out"));
    cJSON_Delete(ignored);
    ss_cone_report_free(&rep);
    ss_headsel_free(&sel);
    free(listed);
    free(cs);
    ss_model_close(m);
    return err.code ? ss_cli_fail("cone", &err) : 0;
}
