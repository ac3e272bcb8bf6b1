#include "report/scan_folder.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/merge.h"
#include "analysis/scan_acc.h"
#include "analysis/slash.h"
#include "common/mem.h"
#include "common/parse.h"
#include "io/atomic_file.h"
#include "io/json.h"
#include "io/npy.h"
#include "report/figure.h"
#include "report/heatmap.h"
#include "common/parse.h"
#include "report/scan_checkpoint.h"
#include "store/folder.h"
#include "store/manifest.h"

#define PATH_CAP 4096
#define MAX_JSON ((size_t)64 << 20)

ss_code ss_sdh_csv_write(const char *path, const double *slash, const double *sd,
                         const double *half, const int64_t *count, int n_layer, int n_head, int n,
                         const ss_sdh_regime *regimes, int n_regimes, ss_error *err)
{
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc)
        return rc;
    fprintf(f.fp, "regime,kappa,delta,layer,head,name,score,std,ci_low,ci_high,prompts\n");
    for (int g = 0; g < n_regimes && !rc; g++) {
        ss_sdh *list;
        int n_sdh;
        rc = ss_sdh_find(slash, n_layer, n_head, n, &regimes[g], &list, &n_sdh, err);
        for (int k = 0; k < n_sdh; k++) {
            char name[32];
            ss_head_name(list[k].layer, list[k].head, name, sizeof name);
            fprintf(f.fp, "%s,%.15g,%d,%d,%d,%s,%.17g", regimes[g].name, regimes[g].kappa,
                    list[k].delta, list[k].layer, list[k].head, name, list[k].score);
            size_t at = ((size_t)list[k].layer * n_head + list[k].head) * n + list[k].delta;
            if (sd && half)
                fprintf(f.fp, ",%.17g,%.17g,%.17g", sd[at], list[k].score - half[at],
                        list[k].score + half[at]);
            else
                fputs(",,,", f.fp);
            if (count)
                fprintf(f.fp, ",%lld\n", (long long)count[at]);
            else
                fputs(",\n", f.fp);
        }
        free(list);
    }
    if (rc) {
        ss_atomic_abort(&f);
        return rc;
    }
    return ss_atomic_commit(&f, err);
}

static void json_set(cJSON *obj, const char *key, cJSON *v)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
    else
        cJSON_AddItemToObject(obj, key, v);
}

/* The maps object of scan.json: size, bins, bin edges, head names. */
static cJSON *maps_json(const ss_scan_result *r, cJSON *old)
{
    cJSON *m = old ? cJSON_Duplicate(old, 1) : cJSON_CreateObject();
    json_set(m, "size", cJSON_CreateNumber(r->map_size));
    json_set(m, "bins", cJSON_CreateNumber(r->bins));
    int *edge = malloc(((size_t)r->bins + 1) * sizeof *edge);
    int bins = 0;
    if (edge && r->bins > 0) {
        ss_scan_map_edges(r->n, r->map_size, &bins, edge);
        json_set(m, "edges", cJSON_CreateIntArray(edge, bins + 1));
    } else {
        json_set(m, "edges", cJSON_CreateArray());
    }
    free(edge);
    cJSON *heads = cJSON_CreateArray();
    for (int k = 0; k < r->n_maps; k++) {
        char name[32];
        ss_head_name(r->map_heads[k] / r->n_head, r->map_heads[k] % r->n_head, name, sizeof name);
        cJSON_AddItemToArray(heads, cJSON_CreateString(name));
    }
    json_set(m, "heads", heads);
    return m;
}

static ss_code write_maps(const char *dir, const ss_scan_result *r, ss_error *err)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/maps", dir);
    ss_code rc = ss_mkdirs(path, err);
    if (rc)
        return rc;
    size_t bb = (size_t)r->bins * r->bins;
    double *mean = ss_calloc(bb, sizeof *mean, "map", err);
    float *mean32 = ss_calloc(bb, sizeof *mean32, "map", err);
    int *edge = ss_calloc((size_t)r->bins + 1, sizeof *edge, "map bins", err);
    if (!mean || !mean32 || !edge)
        rc = SS_ERR_NOMEM;
    int bins = 0;
    if (!rc)
        ss_scan_map_edges(r->n, r->map_size, &bins, edge);
    for (int k = 0; k < r->n_maps && !rc; k++) {
        ss_scan_result_map_mean(r, k, edge, mean);
        for (size_t x = 0; x < bb; x++)
            mean32[x] = (float)mean[x];
        char name[32];
        ss_head_name(r->map_heads[k] / r->n_head, r->map_heads[k] % r->n_head, name, sizeof name);
        int64_t shape[2] = {r->bins, r->bins};
        snprintf(path, sizeof path, "%s/maps/%s.npy", dir, name);
        rc = ss_npy_write(path, SS_NPY_F32, 2, shape, mean32, err);
        if (rc)
            break;
        snprintf(path, sizeof path, "%s/maps/%s.png", dir, name);
        ss_heatmap_opts ho = {.log_scale = 1, .upper_blank = 1};
        rc = ss_heatmap_png(path, mean, r->bins, r->bins, &ho, err);
        /* the same with axes in token positions (bins are near-equal) */
        char title[64];
        snprintf(title, sizeof title, "Mean attention of %s", name);
        ss_fig_heatmap_opts fo = {title, {"key position j", NULL, 0, r->n},
                                  {"query position i", NULL, 0, r->n},
                                  "mean attention (log scale)", ho};
        snprintf(path, sizeof path, "%s/maps/%s.svg", dir, name);
        if (!rc)
            rc = ss_fig_heatmap_write(path, mean, r->bins, r->bins, &fo, err);
    }
    free(mean);
    free(mean32);
    free(edge);
    if (rc)
        return rc;
    int64_t shape[3] = {r->n_maps, r->bins, r->bins};
    snprintf(path, sizeof path, "%s/maps/sums.npy", dir);
    return ss_npy_write(path, SS_NPY_F64, 3, shape, r->map_sum, err);
}

ss_code ss_scan_result_write(const char *dir, ss_scan_result *r, ss_error *err)
{
    ss_code rc = ss_mkdirs(dir, err);
    if (rc)
        return rc;
    char path[PATH_CAP];
    int64_t shape[3] = {r->n_layer, r->n_head, r->n};
    double *avg = ss_scan_result_average(r, err);
    if (!avg)
        return SS_ERR_NOMEM;
    snprintf(path, sizeof path, "%s/slash.npy", dir);
    rc = ss_npy_write(path, SS_NPY_F64, 3, shape, avg, err);
    if (!rc) {
        snprintf(path, sizeof path, "%s/slash_sum.npy", dir);
        rc = ss_npy_write(path, SS_NPY_F64, 3, shape, r->slash_sum, err);
    }
    if (!rc && r->slash_sumsq) {
        snprintf(path, sizeof path, "%s/slash_sumsq.npy", dir);
        rc = ss_npy_write(path, SS_NPY_F64, 3, shape, r->slash_sumsq, err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/slash_count.npy", dir);
        rc = ss_npy_write(path, SS_NPY_I64, 3, shape, r->slash_count, err);
    }
    double *sd = NULL, *half = NULL;
    if (!rc)
        rc = ss_scan_result_spread(r, &sd, &half, err);
    if (!rc) {
        ss_sdh_regime regimes[2]; /* those scan.json records */
        ss_sdh_regimes_from_json(cJSON_GetObjectItemCaseSensitive(r->meta, "sdh_regimes"),
                                 regimes);
        snprintf(path, sizeof path, "%s/sdh.csv", dir);
        rc = ss_sdh_csv_write(path, avg, sd, half, r->slash_count, r->n_layer, r->n_head, r->n,
                              regimes, 2, err);
    }
    free(sd);
    free(half);
    free(avg);
    if (!rc && r->n_maps > 0)
        rc = write_maps(dir, r, err);
    if (rc)
        return rc;

    /* scan.json: the caller's metadata with the counts made consistent */
    if (!r->meta)
        r->meta = cJSON_CreateObject();
    cJSON *model = cJSON_GetObjectItemCaseSensitive(r->meta, "model");
    if (!cJSON_IsObject(model)) {
        model = cJSON_CreateObject();
        json_set(r->meta, "model", model);
    }
    json_set(model, "n_layer", cJSON_CreateNumber(r->n_layer));
    json_set(model, "n_head", cJSON_CreateNumber(r->n_head));
    json_set(r->meta, "length", cJSON_CreateNumber(r->n));
    json_set(r->meta, "skip", cJSON_CreateNumber(r->skip));
    json_set(r->meta, "prompt_count", cJSON_CreateNumber((double)r->prompts));
    json_set(r->meta, "maps",
             maps_json(r, cJSON_GetObjectItemCaseSensitive(r->meta, "maps")));
    char *text = cJSON_Print(r->meta);
    if (!text)
        return ss_fail(err, SS_ERR_NOMEM, "scan.json: out of memory");
    snprintf(path, sizeof path, "%s/scan.json", dir);
    size_t len = strlen(text);
    text[len] = '\n'; /* end the file with a line break (replaces the NUL we do not write) */
    rc = ss_write_file_atomic(path, text, len + 1, err);
    free(text);
    return rc;
}

/* Reads an .npy and checks its type and shape. */
static ss_code read_array(const char *dir, const char *name, ss_npy_type type, int ndim,
                          const int64_t *shape, void **data, ss_error *err)
{
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ss_npy a;
    ss_code rc = ss_npy_read(path, &a, err);
    if (rc)
        return rc;
    int ok = a.type == type && a.ndim == ndim;
    for (int k = 0; ok && k < ndim; k++)
        ok = a.shape[k] == shape[k];
    if (!ok) {
        ss_npy_free(&a);
        return ss_fail(err, SS_ERR_SHAPE, "%s: expected %s of shape [%lld, %lld, %lld] as "
                       "scan.json says", path, type == SS_NPY_F64 ? "float64" : "int64",
                       (long long)shape[0], (long long)(ndim > 1 ? shape[1] : 0),
                       (long long)(ndim > 2 ? shape[2] : 0));
    }
    *data = a.data;
    return SS_OK;
}

/* The map head list from scan.json's "maps"."heads". */
static ss_code read_map_heads(const char *file, const cJSON *maps, ss_scan_result *r,
                              ss_error *err)
{
    const cJSON *heads = cJSON_GetObjectItemCaseSensitive(maps, "heads");
    if (!heads)
        return SS_OK;
    if (!cJSON_IsArray(heads))
        return ss_fail(err, SS_ERR_FORMAT, "%s: \"maps\".\"heads\" must be an array", file);
    r->n_maps = cJSON_GetArraySize(heads);
    if (r->n_maps == 0)
        return SS_OK;
    r->map_heads = ss_calloc((size_t)r->n_maps, sizeof *r->map_heads, "map heads", err);
    if (!r->map_heads)
        return SS_ERR_NOMEM;
    int k = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, heads)
    {
        int l, hd;
        const char *after; /* overflow-checked: "L4294967296H0" is not L0H0 */
        if (!cJSON_IsString(h) || !ss_parse_head_name(h->valuestring, &after, &l, &hd) ||
            *after || l >= r->n_layer || hd >= r->n_head)
            return ss_fail(err, SS_ERR_FORMAT, "%s: \"maps\".\"heads\"[%d] is not a head "
                           "LxHy of this model", file, k);
        r->map_heads[k++] = l * r->n_head + hd;
    }
    return SS_OK;
}

ss_code ss_scan_result_read(const char *dir, ss_scan_result *r, ss_error *err)
{
    memset(r, 0, sizeof *r);
    char file[PATH_CAP];
    snprintf(file, sizeof file, "%s/scan.json", dir);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ss_fail(err, SS_ERR_IO, "%s: not a scan folder (no such folder)", dir);
    int manifest;
    ss_code rc = ss_manifest_verify(dir, &manifest, err);
    if (!rc)
        rc = ss_json_load(file, MAX_JSON, &r->meta, err);
    if (rc)
        return rc;
    long long L = 0, H = 0, n = 0, skip = 0, prompts = 0, msize = 0, bins = 0;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(r->meta, "model");
    const cJSON *maps = cJSON_GetObjectItemCaseSensitive(r->meta, "maps");
    if (!cJSON_IsObject(model))
        rc = ss_fail(err, SS_ERR_MISSING, "%s: field \"model\" missing (not a slashscope scan?)",
                     file);
    if (!rc && !(rc = ss_json_int(model, file, "n_layer", 1, 1, 1 << 20, &L, err)) &&
        !(rc = ss_json_int(model, file, "n_head", 1, 1, 1 << 20, &H, err)) &&
        !(rc = ss_json_int(r->meta, file, "length", 1, 1, 1 << 30, &n, err)) &&
        !(rc = ss_json_int(r->meta, file, "skip", 1, 0, 1 << 30, &skip, err)) &&
        !(rc = ss_json_int(r->meta, file, "prompt_count", 1, 0, INT64_MAX, &prompts, err)) &&
        cJSON_IsObject(maps) && !(rc = ss_json_int(maps, file, "size", 0, 0, 1 << 20, &msize, err)))
        rc = ss_json_int(maps, file, "bins", 0, 0, 1 << 20, &bins, err);
    if (rc) {
        ss_scan_result_free(r);
        return rc;
    }
    r->n_layer = (int)L;
    r->n_head = (int)H;
    r->n = (int)n;
    r->skip = (int)skip;
    r->prompts = prompts;
    r->map_size = (int)msize;
    r->bins = (int)bins;
    int64_t shape[3] = {L, H, n};
    void *sum = NULL, *count = NULL;
    if ((rc = read_array(dir, "slash_sum.npy", SS_NPY_F64, 3, shape, &sum, err)) ||
        (rc = read_array(dir, "slash_count.npy", SS_NPY_I64, 3, shape, &count, err))) {
        free(sum);
        ss_scan_result_free(r);
        return rc;
    }
    r->slash_sum = sum;
    r->slash_count = count;
    /* optional: folders written before sums of squares were kept have none */
    char sq[PATH_CAP];
    snprintf(sq, sizeof sq, "%s/slash_sumsq.npy", dir);
    void *sumsq = NULL;
    if (access(sq, F_OK) == 0 &&
        (rc = read_array(dir, "slash_sumsq.npy", SS_NPY_F64, 3, shape, &sumsq, err))) {
        ss_scan_result_free(r);
        return rc;
    }
    r->slash_sumsq = sumsq;
    snprintf(file, sizeof file, "%s/slash_count.npy", dir);
    rc = ss_scan_arrays_check(file, r->slash_sum, r->slash_sumsq, r->slash_count, r->n_layer,
                              r->n_head, r->n, r->skip, r->prompts, err);
    snprintf(file, sizeof file, "%s/scan.json", dir);
    if (!rc && cJSON_IsObject(maps))
        rc = read_map_heads(file, maps, r, err);
    if (!rc && r->n_maps > 0) {
        int want_bins = (r->map_size < r->n ? r->map_size : r->n);
        if (r->map_size < 1 || r->bins != want_bins)
            rc = ss_fail(err, SS_ERR_FORMAT, "%s: \"maps\": bins %d do not follow from size %d "
                         "and length %d", file, r->bins, r->map_size, r->n);
        int64_t mshape[3] = {r->n_maps, r->bins, r->bins};
        void *ms = NULL;
        if (!rc && !(rc = read_array(dir, "maps/sums.npy", SS_NPY_F64, 3, mshape, &ms, err)))
            r->map_sum = ms;
    }
    if (rc) {
        ss_scan_result_free(r);
        return rc;
    }
    return SS_OK;
}

ss_code ss_scan_result_save(const char *out_dir, ss_scan_result *r, int force, ss_error *err)
{
    ss_folder folder;
    ss_folder_opts fo = {.force = force, .marker = "scan.json"};
    ss_code rc = ss_folder_begin(&folder, out_dir, &fo, err);
    if (rc)
        return rc;
    if (!(rc = ss_scan_result_write(folder.work, r, err)))
        rc = ss_folder_commit(&folder, err);
    if (rc)
        ss_folder_abort(&folder);
    return rc;
}

ss_code ss_scan_merge(const char *const *dirs, int n, const char *out_dir, int force,
                      int *maps_dropped, ss_error *err)
{
    if (n < 2)
        return ss_fail(err, SS_ERR_USAGE, "merge needs at least two scan folders");
    ss_scan_result *in = ss_calloc((size_t)n, sizeof *in, "scans", err);
    if (!in)
        return SS_ERR_NOMEM;
    ss_code rc = SS_OK;
    for (int a = 0; a < n && !rc; a++)
        rc = ss_scan_result_read(dirs[a], &in[a], err);
    ss_scan_result out = {0};
    if (!rc)
        rc = ss_scan_merge_results(in, dirs, n, &out, maps_dropped, err);
    if (!rc)
        rc = ss_scan_result_save(out_dir, &out, force, err);
    ss_scan_result_free(&out);
    for (int a = 0; a < n; a++)
        ss_scan_result_free(&in[a]);
    free(in);
    return rc;
}

ss_code ss_scan_run(const ss_scan_opts *o, ss_scan_result *kept, ss_error *err)
{
    ss_folder folder;
    ss_folder_opts fo = {.force = o->force, .resume = o->resume, .marker = "scan.json"};
    ss_code rc = ss_folder_begin(&folder, o->out_dir, &fo, err);
    if (rc)
        return rc;
    ss_scan_checkpoint ck;
    ss_scan_result r = {0};
    ss_scan_opts with_store = *o;
    with_store.store = &ck.store;
    if (!(rc = ss_scan_checkpoint_init(&ck, o, &folder, err)) &&
        !(rc = ss_scan_collect(&with_store, &r, err)) &&
        !(rc = ss_scan_result_write(folder.work, &r, err)))
        rc = ss_folder_commit(&folder, err); /* the checkpoint goes with it */
    if (rc)
        ss_folder_abort(&folder);
    if (kept && !rc)
        *kept = r; /* the caller's now */
    else
        ss_scan_result_free(&r);
    return rc;
}
