/* Scans in the public API: a run through the library's scan
 * (analysis/scan.h, the program's own code path, so the numbers are the
 * program's), the result's arrays by pointer, the scan folder both ways,
 * merge, SDHs and compare over results in memory. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "analysis/merge.h"
#include "analysis/scan.h"
#include "analysis/sdh.h"
#include "analysis/slash.h"
#include "analysis/scan_acc.h"
#include "api/handles.h"
#include "report/scan_maps.h"
#include "common/mem.h"
#include "engine/forward.h"
#include "report/scan_folder.h"

ss_scan_params ss_scan_defaults(void)
{
    return (ss_scan_params){.skip = 4};
}

ss_code ss_api_scan_wrap(ss_scan_result *r, const char *name, ss_scan **out, ss_error *err)
{
    ss_scan *s = ss_calloc(1, sizeof *s, "scan", err);
    char *n = ss_strdup(name, err);
    if (!s || !n) {
        free(s);
        free(n);
        ss_scan_result_free(r);
        return SS_ERR_NOMEM;
    }
    s->r = *r;
    s->name = n;
    memset(r, 0, sizeof *r);
    *out = s;
    return SS_OK;
}

ss_code ss_run_scan(const ss_model *m, ss_source *src, const ss_scan_params *p, ss_scan **out,
                    ss_error *err)
{
    *out = NULL;
    if (!m || !src || !p)
        return ss_fail(err, SS_ERR_USAGE, "ss_run_scan: %s is NULL",
                       !m ? "model" : !src ? "source" : "params");
    if (p->block_rows < 0)
        return ss_fail(err, SS_ERR_USAGE, "block_rows must be 0 (default) or more, got %d",
                       p->block_rows);
    if (p->map_size < 0 || p->map_size > 8192)
        return ss_fail(err, SS_ERR_USAGE, "map_size must be from 1 to 8192 (0: 256), got %d",
                       p->map_size);
    ss_scan_opts o = {.model = m, .model_path = m->path, .prompts = src->prompts,
                      .source = &src->opts, .len = src->opts.len, .skip = p->skip,
                      .map_size = p->map_size ? p->map_size : 256, .block_rows = p->block_rows,
                      .allow_long = p->run.allow_long, .quiet = 1, .threads = p->threads,
                      .on_prompt = p->progress, .on_prompt_user = p->progress_user};
    unsigned char *flags = NULL;
    ss_code rc = ss_scan_maps_from_spec(p->maps, m, m->path, "maps", &o, &flags, err);
    ss_rope rope;
    ss_head_edits e = {0};
    if (!rc && !(rc = ss_api_edits(m, &p->run, &e, err))) {
        ss_forward_opts fo = {0};
        ss_head_edits_forward(&e, &fo);
        o.edit_heads = fo.edit_heads;
        o.edit_ctx = fo.edit_ctx;
        o.head_rope = fo.head_rope;
        rc = ss_api_pass_begin(m, src, &p->run, p->threads, &rope, err);
    }
    o.rope = &rope;
    /* recorded as the program records its flags: merge / compare refuse
     * to mix scans run under different interventions */
    cJSON *record = ss_api_interventions(m, &p->run);
    o.interventions = record;
    ss_scan_result r;
    if (!rc)
        rc = ss_scan_collect(&o, &r, err);
    cJSON_Delete(record);
    ss_head_edits_free(&e);
    free(flags);
    return rc ? rc : ss_api_scan_wrap(&r, "scan", out, err);
}

void ss_scan_free(ss_scan *s)
{
    if (!s)
        return;
    ss_scan_result_free(&s->r);
    free(s->name);
    free(s);
}

void ss_scan_get_dims(const ss_scan *s, ss_scan_dims *out)
{
    *out = (ss_scan_dims){.n_layers = s->r.n_layer, .n_heads = s->r.n_head, .len = s->r.n,
                          .skip = s->r.skip, .prompts = s->r.prompts};
}

const double *ss_scan_slash_sum(const ss_scan *s)
{
    return s->r.slash_sum;
}

const int64_t *ss_scan_slash_count(const ss_scan *s)
{
    return s->r.slash_count;
}

int ss_scan_n_maps(const ss_scan *s)
{
    return s->r.n_maps;
}

int ss_scan_map_bins(const ss_scan *s)
{
    return s->r.n_maps ? s->r.bins : 0;
}

void ss_scan_map_head(const ss_scan *s, int k, int *layer, int *head)
{
    int ok = k >= 0 && k < s->r.n_maps;
    *layer = ok ? s->r.map_heads[k] / s->r.n_head : -1;
    *head = ok ? s->r.map_heads[k] % s->r.n_head : -1;
}

ss_code ss_scan_map_mean(const ss_scan *s, int k, double *out, ss_error *err)
{
    if (k < 0 || k >= s->r.n_maps)
        return ss_fail(err, SS_ERR_USAGE, "map %d: %s keeps %d maps", k, s->name, s->r.n_maps);
    int *edge = ss_calloc((size_t)s->r.bins + 1, sizeof *edge, "map bins", err);
    if (!edge)
        return SS_ERR_NOMEM;
    int bins;
    ss_scan_map_edges(s->r.n, s->r.map_size, &bins, edge);
    ss_scan_result_map_mean(&s->r, k, edge, out);
    free(edge);
    return SS_OK;
}

const double *ss_scan_map_sums(const ss_scan *s)
{
    return s->r.n_maps ? s->r.map_sum : NULL;
}

const double *ss_scan_slash_sumsq(const ss_scan *s)
{
    return s->r.slash_sumsq;
}

ss_code ss_scan_spread(const ss_scan *s, double *sd, double *half, ss_error *err)
{
    if (!s->r.slash_sumsq)
        return ss_fail(err, SS_ERR_MISSING, "%s has no sums of squares (slash_sumsq.npy): it was "
                       "written by an older slashscope; rerun the scan for its spread", s->name);
    size_t n = (size_t)s->r.n_layer * s->r.n_head * s->r.n;
    double *tmp = sd ? NULL : ss_calloc(n, sizeof *tmp, "standard deviations", err);
    if (!sd && !tmp)
        return SS_ERR_NOMEM;
    ss_slash_spread(s->r.slash_sum, s->r.slash_sumsq, s->r.slash_count, (int64_t)n,
                    sd ? sd : tmp, half);
    free(tmp);
    return SS_OK;
}

ss_code ss_scan_slash(const ss_scan *s, double *out, ss_error *err)
{
    double *avg = ss_scan_result_average(&s->r, err);
    if (!avg)
        return err->code ? err->code : SS_ERR_NOMEM;
    memcpy(out, avg, (size_t)s->r.n_layer * s->r.n_head * s->r.n * sizeof *avg);
    free(avg);
    return SS_OK;
}

char *ss_scan_meta_json(const ss_scan *s, ss_error *err)
{
    char *text = s->r.meta ? cJSON_PrintUnformatted(s->r.meta) : NULL;
    if (!text)
        ss_fail(err, SS_ERR_NOMEM, "scan.json: out of memory");
    return text;
}

static ss_code save(ss_scan *s, const char *dir, int force, const char *fn, ss_error *err)
{
    if (!dir || !*dir)
        return ss_fail(err, SS_ERR_USAGE, "%s: no folder given", fn);
    return ss_scan_result_save(dir, &s->r, force, err);
}

ss_code ss_scan_save(ss_scan *s, const char *dir, ss_error *err)
{
    return save(s, dir, 0, "ss_scan_save", err);
}

ss_code ss_scan_save_replace(ss_scan *s, const char *dir, ss_error *err)
{
    return save(s, dir, 1, "ss_scan_save_replace", err);
}

ss_code ss_scan_load(const char *dir, ss_scan **out, ss_error *err)
{
    *out = NULL;
    ss_scan_result r;
    ss_code rc = ss_scan_result_read(dir, &r, err);
    return rc ? rc : ss_api_scan_wrap(&r, dir, out, err);
}

ss_code ss_scan_merge_all(const ss_scan *const *in, int n, ss_scan **out, ss_error *err)
{
    *out = NULL;
    if (n < 2)
        return ss_fail(err, SS_ERR_USAGE, "merge needs at least two scans, got %d", n);
    ss_scan_result *rs = ss_calloc((size_t)n, sizeof *rs, "scans", err);
    const char **names = ss_calloc((size_t)n, sizeof *names, "scan names", err);
    ss_code rc = rs && names ? SS_OK : SS_ERR_NOMEM;
    for (int a = 0; a < n && !rc; a++) {
        if (!in[a])
            rc = ss_fail(err, SS_ERR_USAGE, "merge: scan %d is NULL", a);
        else {
            rs[a] = in[a]->r; /* shallow: merge only reads */
            names[a] = in[a]->name;
        }
    }
    ss_scan_result r;
    if (!rc && !(rc = ss_scan_merge_results(rs, names, n, &r, NULL, err)))
        rc = ss_api_scan_wrap(&r, "merged scan", out, err);
    free(rs);
    free(names);
    return rc;
}

static ss_code regime(const ss_scan *s, double kappa, int d_min, int d_max, ss_sdh_regime *g,
                      ss_error *err)
{
    if (!(kappa >= 0) || !isfinite(kappa))
        return ss_fail(err, SS_ERR_USAGE, "kappa must be a finite number >= 0, got %g", kappa);
    if (d_min < 0 || d_max < d_min)
        return ss_fail(err, SS_ERR_USAGE, "delta range %d..%d: want 0 <= d_min <= d_max", d_min,
                       d_max);
    (void)s;
    *g = (ss_sdh_regime){.kappa = kappa, .d_min = d_min, .d_max = d_max, .name = "custom"};
    return SS_OK;
}

ss_code ss_scan_sdh(const ss_scan *s, double kappa, int d_min, int d_max, ss_sdh_entry **out,
                    int *n_out, ss_error *err)
{
    *out = NULL;
    *n_out = 0;
    ss_sdh_regime g;
    ss_code rc = regime(s, kappa, d_min, d_max, &g, err);
    double *avg = rc ? NULL : ss_scan_result_average(&s->r, err);
    if (!rc && !avg)
        rc = err->code ? err->code : SS_ERR_NOMEM;
    ss_sdh *list = NULL;
    int n = 0;
    if (!rc)
        rc = ss_sdh_find(avg, s->r.n_layer, s->r.n_head, s->r.n, &g, &list, &n, err);
    free(avg);
    if (!rc && n > 0) {
        *out = ss_calloc((size_t)n, sizeof **out, "SDH list", err);
        if (!*out)
            rc = SS_ERR_NOMEM;
        for (int k = 0; k < n && !rc; k++)
            (*out)[k] = (ss_sdh_entry){list[k].layer, list[k].head, list[k].delta,
                                       list[k].score};
        *n_out = rc ? 0 : n;
    }
    free(list);
    return rc;
}

ss_code ss_scan_compare(const ss_scan *id, const ss_scan *ood, double kappa, int d_min,
                        int d_max, ss_compare_entry **rows, int *n_rows,
                        ss_five_numbers *summary, ss_error *err)
{
    *rows = NULL;
    *n_rows = 0;
    ss_sdh_regime g;
    ss_code rc = regime(id, kappa, d_min, d_max, &g, err);
    ss_compare_row *cr = NULL;
    int n = 0;
    if (!rc)
        rc = ss_compare_scans(&id->r, id->name, &ood->r, ood->name, &g, 1, &cr, &n, err);
    double *ratios = NULL;
    if (!rc && n > 0) {
        *rows = ss_calloc((size_t)n, sizeof **rows, "compare rows", err);
        ratios = ss_calloc((size_t)n, sizeof *ratios, "ratios", err);
        if (!*rows || !ratios)
            rc = SS_ERR_NOMEM;
    }
    for (int k = 0; k < n && !rc; k++) {
        (*rows)[k] = (ss_compare_entry){cr[k].layer, cr[k].head, cr[k].delta, cr[k].score_id,
                                        cr[k].score_ood, cr[k].ratio};
        ratios[k] = cr[k].ratio;
    }
    if (!rc) {
        ss_five_number f;
        ss_five_number_summary(ratios, n, &f); /* NaN ratios are left out there */
        *summary = (ss_five_numbers){f.n, f.min, f.q1, f.median, f.q3, f.max};
        *n_rows = n;
    } else {
        free(*rows);
        *rows = NULL;
    }
    free(ratios);
    free(cr);
    return rc;
}
