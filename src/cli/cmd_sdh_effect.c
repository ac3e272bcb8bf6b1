/* slashscope sdh-effect MODEL --sdh DIR (prompts) --out DIR: does the model
 * need its slash heads? Per SDH the loss change when it is ablated (zero,
 * mean) and when its high RoPE band is removed, beside its slash score; the
 * same for seeded random non-SDH heads of the same layers as the control. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/bands.h"
#include "analysis/source_json.h"
#include "cli/commands.h"
#include "cli/eval_pass.h"
#include "report/explain_out.h"
#include "cli/headsel.h"
#include "cli/model_run.h"
#include "cli/out_folder.h"
#include "cli/prompt_flags.h"
#include "common/mem.h"
#include "common/random.h"
#include "io/atomic_file.h"
#include "io/json.h"
#include "model/describe.h"
#include "report/figure.h"
#include "report/scan_folder.h"

static const char usage[] =
    "usage: slashscope sdh-effect MODEL --sdh SCAN_DIR (prompts) --len N --out DIR\n"
    "                             [--regime small|large|all] [--kappa K] [--top K]\n"
    "                             [--control-seed S]\n\n"
    "For every SDH of SCAN_DIR/sdh.csv (one row per head: the offset where it scores highest),\n"
    "the change of the mean loss (nats/token, as `slashscope ppl`) over the prompts when the\n"
    "head's output is replaced by zero, by its mean over the positions (--ablate), and when\n"
    "its high RoPE band [1, floor(F/3)] is left unrotated for it alone (--head-rope-remove);\n"
    "the same for as many control heads: random heads of the same layers that are not SDHs\n"
    "(seeded by --control-seed, default 0; fewer when a layer has too few), scored at their\n"
    "SDH's offset. --kappa K counts only rows scoring >= K as SDHs (the rest may be\n"
    "controls); --top K keeps the K strongest SDHs (the others are not controls).\n\n"
    "prompts: as for `scan` (--prompts F | --ids-file F | --ood N | --repeat SEG, --len N,\n"
    "--count P, ...). --allow-long, --rope-remove and --p-rope apply to every pass.\n\n"
    "Writes DIR/effect.csv (rank, head, kind sdh|control, delta, slash_score, loss_zero,\n"
    "loss_mean, loss_high, change_zero, change_mean, change_high; ranked by change_zero),\n"
    "DIR/sdh_effect.json (settings, the base loss, the same rows) and DIR/scatter.svg\n"
    "(change_zero against slash score).\n";

typedef struct {
    int layer, head, delta, control;
    double score;            /* slash score at delta (the scan's) */
    double loss[3];          /* zero, mean, high band */
} effect_row;

static const char *const variant_name[3] = {"zero", "mean", "high"};

/* One row per SDH head (its best offset), strongest first, at most top;
 * rows below kappa are not SDHs here. is_sdh [L * H] marks every SDH head
 * (chosen or not: none of them is a control). */
static int sdh_rows(const ss_headsel *hs, double kappa, int top, effect_row *rows,
                    unsigned char *is_sdh)
{
    int n = 0;
    for (int i = 0; i < hs->n_sdh; i++) {
        const ss_sdh *s = &hs->sdh[i];
        if (s->score < kappa)
            continue;
        is_sdh[(size_t)s->layer * hs->n_head + s->head] = 1;
        int k = 0;
        while (k < n && (rows[k].layer != s->layer || rows[k].head != s->head))
            k++;
        if (k == n)
            rows[n++] = (effect_row){s->layer, s->head, s->delta, 0, s->score, {0}};
        else if (s->score > rows[k].score) {
            rows[k].delta = s->delta;
            rows[k].score = s->score;
        }
    }
    for (int i = 1; i < n; i++) /* insertion sort by score, descending (stable) */
        for (int j = i; j > 0 && rows[j].score > rows[j - 1].score; j--) {
            effect_row t = rows[j];
            rows[j] = rows[j - 1];
            rows[j - 1] = t;
        }
    return top > 0 && top < n ? top : n;
}

/* For SDH i a random non-SDH head of its layer not yet taken (none left:
 * no control for it). slash: the scan's averages [L, H, len]. */
static int control_rows(const unsigned char *is_sdh, const ss_config *c, const double *slash,
                        int len, uint64_t seed, effect_row *rows, int n_sdh)
{
    unsigned char *taken = calloc((size_t)c->n_layer * c->n_head, 1);
    if (!taken)
        return -1;
    int n = n_sdh;
    uint64_t st = seed;
    for (int i = 0; i < n_sdh; i++) {
        int l = rows[i].layer, free_heads[1024], nf = 0;
        for (int h = 0; h < c->n_head && nf < 1024; h++) {
            size_t x = (size_t)l * c->n_head + h;
            if (!is_sdh[x] && !taken[x])
                free_heads[nf++] = h;
        }
        if (!nf)
            continue;
        int h = free_heads[ss_splitmix64_next(&st) % (uint64_t)nf];
        taken[(size_t)l * c->n_head + h] = 1;
        int d = rows[i].delta;
        rows[n++] = (effect_row){l, h, d, 1, slash[((size_t)l * c->n_head + h) * len + d], {0}};
    }
    free(taken);
    return n;
}

typedef struct {
    ss_model_run run;
    ss_eval_src es;
    ss_headsel hs;
    int hi_list[SS_ROPE_MAX_FREQ], n_hi;
    double base;
    int64_t tokens, prompts;
} effect_run;

/* The loss of one pass with head (l, h) changed by variant v. */
static ss_code variant_loss(effect_run *e, const effect_row *r, int v, double *loss, ss_error *err)
{
    ss_model *m = e->run.model;
    ss_head_ablation abl;
    ss_head_rope hr = {0};
    ss_analysis_opts o = {.rope = &e->run.rope, .allow_long = e->run.allow_long};
    ss_code rc = ss_head_ablation_init(&abl, &m->cfg, err);
    if (!rc && v < 2) {
        abl.mode[(size_t)r->layer * m->cfg.n_head + r->head] = v == 0 ? SS_ABLATE_ZERO
                                                                      : SS_ABLATE_MEAN;
        abl.n = 1;
        o.edit_heads = ss_head_ablation_edit;
        o.edit_ctx = &abl;
    } else if (!rc) {
        rc = ss_head_rope_add(&hr, r->layer, r->head, e->hi_list, e->n_hi, e->run.rope.n_freq, err);
        o.head_rope = &hr;
    }
    ss_eval_out out = {0};
    if (!rc && !(rc = ss_eval_pass(m, &e->es, &o, 0, &out, err)))
        *loss = out.loss;
    ss_eval_out_free(&out);
    ss_head_ablation_free(&abl);
    ss_head_rope_free(&hr);
    return rc;
}

static int by_change(const void *pa, const void *pb)
{
    const effect_row *a = pa, *b = pb;
    double x = a->loss[0], y = b->loss[0];
    return x < y ? 1 : x > y ? -1 : a->control - b->control;
}

static ss_code write_csv(const char *dir, const effect_row *rows, int n, double base,
                         ss_error *err)
{
    char path[4096];
    ss_atomic_file f;
    ss_code rc = ss_out_path(path, sizeof path, dir, "effect.csv", err);
    if (rc || (rc = ss_atomic_open(&f, path, err)))
        return rc;
    fprintf(f.fp, "rank,head,kind,delta,slash_score,loss_zero,loss_mean,loss_high,change_zero,"
                  "change_mean,change_high\n");
    for (int i = 0; i < n; i++) {
        const effect_row *r = &rows[i];
        fprintf(f.fp, "%d,L%dH%d,%s,%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", i + 1,
                r->layer, r->head, r->control ? "control" : "sdh", r->delta, r->score,
                r->loss[0], r->loss[1], r->loss[2], r->loss[0] - base, r->loss[1] - base,
                r->loss[2] - base);
    }
    return ss_atomic_commit(&f, err);
}

static ss_code write_scatter(const char *dir, const effect_row *rows, int n, double base,
                             const char *model, ss_error *err)
{
    double *x = ss_calloc((size_t)2 * n + 1, sizeof *x, "scatter", err);
    double *y = ss_calloc((size_t)2 * n + 1, sizeof *y, "scatter", err);
    const char **lab = ss_calloc((size_t)2 * n + 1, sizeof *lab, "scatter", err);
    char *names = ss_calloc((size_t)n + 1, 16, "scatter", err);
    if (!x || !y || !lab || !names) {
        free(x); free(y); free(lab); free(names);
        return SS_ERR_NOMEM;
    }
    int ns = 0, nc = 0;
    for (int i = 0; i < n; i++) /* SDHs in [0, n), controls from n on */
        snprintf(names + 16 * i, 16, "L%dH%d", rows[i].layer, rows[i].head);
    for (int i = 0; i < n; i++) {
        int k = rows[i].control ? n + nc++ : ns++;
        x[k] = rows[i].score;
        y[k] = rows[i].loss[0] - base;
        lab[k] = names + 16 * i;
    }
    char title[512];
    snprintf(title, sizeof title, "%s: loss change when a head is zeroed", model);
    ss_fig_points p[2] = {{"SDH", x, y, lab, ns}, {"control", x + n, y + n, lab + n, nc}};
    ss_fig_scatter_opts o = {title, "slash score at the SDH's offset",
                             "loss change (nats/token)", 0.0};
    ss_text t = {0};
    char path[4096];
    ss_code rc = ss_fig_scatter(&t, p, nc ? 2 : 1, &o, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "scatter.svg", err)))
        rc = ss_text_write(&t, path, err);
    ss_text_free(&t);
    free(x); free(y); free(lab); free(names);
    return rc;
}

static cJSON *rows_json(const effect_row *rows, int n, double base)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        const effect_row *r = &rows[i];
        cJSON *o = cJSON_CreateObject();
        char name[32];
        snprintf(name, sizeof name, "L%dH%d", r->layer, r->head);
        cJSON_AddNumberToObject(o, "rank", i + 1);
        cJSON_AddStringToObject(o, "head", name);
        cJSON_AddStringToObject(o, "kind", r->control ? "control" : "sdh");
        cJSON_AddNumberToObject(o, "delta", r->delta);
        cJSON_AddItemToObject(o, "slash_score", isfinite(r->score) ? cJSON_CreateNumber(r->score)
                                                                   : cJSON_CreateNull());
        for (int v = 0; v < 3; v++) {
            char key[32];
            snprintf(key, sizeof key, "change_%s", variant_name[v]);
            cJSON_AddNumberToObject(o, key, r->loss[v] - base);
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static ss_code write_json(const char *dir, const ss_args *a, const effect_run *e,
                          const effect_row *rows, int n, long long seed, double kappa,
                          ss_error *err)
{
    cJSON *prov = ss_out_provenance(e->run.model, 0, err);
    if (!prov)
        return err->code;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "command", "sdh-effect");
    cJSON_AddStringToObject(root, "version", SS_VERSION);
    cJSON_AddItemToObject(root, "model", ss_model_describe(e->run.model, &e->run.rope));
    cJSON_AddItemToObject(root, "provenance", prov);
    cJSON_AddStringToObject(root, "sdh", ss_args_get(a, "--sdh"));
    const char *regime = ss_args_get(a, "--regime");
    cJSON_AddStringToObject(root, "regime", regime ? regime : "small");
    cJSON_AddNumberToObject(root, "control_seed", (double)seed);
    cJSON_AddNumberToObject(root, "kappa", kappa);
    cJSON_AddItemToObject(root, "prompts", ss_prompt_source_json(&e->es.popts, e->es.sha));
    cJSON_AddNumberToObject(root, "prompts_run", (double)e->prompts);
    cJSON_AddNumberToObject(root, "tokens_scored", (double)e->tokens);
    cJSON_AddNumberToObject(root, "base_loss", e->base);
    cJSON_AddItemToObject(root, "high_band_removed", cJSON_CreateIntArray(e->hi_list, e->n_hi));
    cJSON_AddItemToObject(root, "heads", rows_json(rows, n, e->base));
    char path[4096];
    ss_code rc = ss_out_path(path, sizeof path, dir, "sdh_effect.json", err);
    if (!rc)
        rc = ss_json_write_file(path, root, err);
    cJSON_Delete(root);
    return rc;
}

/* Everything between opening and writing: the rows and their losses. */
static ss_code measure(effect_run *e, const ss_args *a, double kappa, long long top,
                       long long seed, effect_row **rows_out, int *n_out, ss_error *err)
{
    const ss_config *c = &e->run.model->cfg;
    ss_scan_result sr;
    ss_code rc = ss_scan_result_read(ss_args_get(a, "--sdh"), &sr, err);
    if (rc)
        return rc;
    double *slash = ss_scan_result_average(&sr, err);
    int len = sr.n;
    ss_scan_result_free(&sr);
    effect_row *rows = ss_calloc((size_t)2 * e->hs.n_sdh + 1, sizeof *rows, "rows", err);
    unsigned char *is_sdh = ss_calloc((size_t)c->n_layer * c->n_head, 1, "SDH mask", err);
    if (!slash || !rows || !is_sdh) {
        free(slash);
        free(rows);
        free(is_sdh);
        return SS_ERR_NOMEM;
    }
    int n_sdh = sdh_rows(&e->hs, kappa, (int)top, rows, is_sdh);
    int n = control_rows(is_sdh, c, slash, len, (uint64_t)seed, rows, n_sdh);
    free(slash);
    free(is_sdh);
    if (n < 0)
        rc = ss_fail(err, SS_ERR_NOMEM, "controls: out of memory");
    if (!rc && n_sdh == 0)
        rc = ss_fail(err, SS_ERR_VALUE, "%s: no SDH in the chosen regime", ss_args_get(a, "--sdh"));
    ss_eval_out base = {0};
    if (!rc && !(rc = ss_eval_pass(e->run.model, &e->es,
                                   &(ss_analysis_opts){.rope = &e->run.rope,
                                                       .allow_long = e->run.allow_long},
                                   0, &base, err))) {
        e->base = base.loss;
        e->tokens = base.tokens;
        e->prompts = base.prompts;
    }
    ss_progress pr;
    ss_progress_start(&pr, a->quiet, "sdh-effect", 3 * (int64_t)(n > 0 ? n : 0), "passes");
    for (int i = 0; !rc && i < n; i++)
        for (int v = 0; !rc && v < 3; v++) {
            rc = variant_loss(e, &rows[i], v, &rows[i].loss[v], err);
            ss_progress_update(&pr, 3 * i + v + 1, NULL);
        }
    ss_progress_end(&pr);
    if (rc) {
        free(rows);
        return rc;
    }
    qsort(rows, (size_t)n, sizeof *rows, by_change);
    *rows_out = rows;
    *n_out = n;
    return SS_OK;
}

int cmd_sdh_effect(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_PROMPT_FLAGS, SS_OUT_FOLDER_FLAGS, {"--allow-long", 0},
                                    {"--rope-remove", 1}, {"--p-rope", 1}, {"--sdh", 1},
                                    {"--regime", 1}, {"--top", 1}, {"--control-seed", 1},
                                    {"--kappa", 1}, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "sdh-effect", usage, flags, argc, argv, &err))
        return ss_cli_fail("sdh-effect", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    effect_run e;
    memset(&e, 0, sizeof e);
    long long top, seed;
    double kappa;
    const char *sdh;
    if (ss_args_require(&a, "--sdh", &sdh, &err) ||
        ss_args_int(&a, "--top", 0, 1, 1 << 20, &top, &err) ||
        ss_args_int(&a, "--control-seed", 0, 0, (long long)1 << 62, &seed, &err) ||
        ss_args_double(&a, "--kappa", 0, 0, 1, &kappa, &err) ||
        ss_model_run_open(&e.run, &a, 0, &err) ||
        ss_prompt_opts_from_args(&a, e.run.model, e.run.allow_long, &e.es.popts, &e.es.tok,
                                 &err) ||
        ss_eval_src_load(&e.es, &err) ||
        ss_headsel_from_args(&a, e.run.model, &e.hs, &err)) {
        ss_headsel_free(&e.hs);
        ss_eval_src_free(&e.es);
        ss_model_run_close(&e.run);
        return ss_cli_fail("sdh-effect", &err);
    }
    int lo, hi;
    int nb = ss_band_range(e.run.rope.n_freq, SS_BAND_HIGH, &lo, &hi);
    for (int l = lo; l <= hi && nb > 0; l++)
        e.hi_list[e.n_hi++] = l;
    effect_row *rows = NULL;
    int n = 0;
    ss_folder folder;
    const char *out;
    if (!e.n_hi)
        ss_fail(&err, SS_ERR_VALUE, "the model's RoPE has %d frequencies: no high band",
                e.run.rope.n_freq);
    else if (!ss_out_folder_begin(&folder, &a, "sdh_effect.json", &out, &err)) {
        /* the folder first: a finished --out is refused before the passes run */
        if (!measure(&e, &a, kappa, top, seed, &rows, &n, &err) &&
            !write_csv(out, rows, n, e.base, &err) &&
            !write_json(out, &a, &e, rows, n, seed, kappa, &err))
            write_scatter(out, rows, n, e.base, a.positional[0], &err);
        ss_out_folder_end(&folder, &err);
    }
    if (!err.code) { /* the closing summary: --quiet silences progress only */
        printf("base loss %.6f nats/token over %lld tokens (results in %s); change when "
               "zeroed / mean / high band removed:\n", e.base, (long long)e.tokens,
               ss_args_get(&a, "--out"));
        for (int i = 0; i < n; i++)
            printf("  %2d  L%dH%d  %-7s  score %.4f  %+.5f  %+.5f  %+.5f\n", i + 1,
                   rows[i].layer, rows[i].head, rows[i].control ? "control" : "SDH",
                   rows[i].score, rows[i].loss[0] - e.base, rows[i].loss[1] - e.base,
                   rows[i].loss[2] - e.base);
    }
    free(rows);
    ss_headsel_free(&e.hs);
    ss_eval_src_free(&e.es);
    ss_model_run_close(&e.run);
    return err.code ? ss_cli_fail("sdh-effect", &err) : 0;
}
