/* slashscope compress MODEL (prompts) --thre T,... --rank-thre R,... --out DIR:
 * the low-rank Q/K compression plan of SPEC.md section 7 (analysis/compress.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compress.h"
#include "analysis/compress_apply.h"
#include "cli/commands.h"
#include "cli/compress_eval.h"
#include "cli/summary.h"
#include "report/explain_out.h"
#include "cli/explain_src.h"
#include "cli/out_folder.h"
#include "common/mem.h"
#include "common/parse.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "model/describe.h"
#include "store/folder.h"
#include "model/hf_write.h"

#define MAX_LIST 16

static const char usage[] =
    "usage: slashscope compress MODEL (prompts) --thre T1,T2,... --rank-thre R1,R2,... --out DIR\n\n"
    "Per head, the mean energy share r_l of each singular direction of W_Q and W_K over the\n"
    "hidden states of the prompts, the bias as direction 0 (paper eqs. 18-19); for every\n"
    "--thre the kept rank R_thre (eq. 20: the fewest directions, largest shares first, whose\n"
    "shares with the bias's exceed thre); for every (thre, rank_thre) pair the matrices\n"
    "compressed (R_thre <= rank_thre and below full rank) and the share of W_Q/W_K\n"
    "parameters saved, R (d_head + d) per compressed matrix instead of d_head d.\n\n"
    SS_EXPLAIN_SRC_USAGE "\n"
    "Writes DIR/plan.csv (thre, layer, head, matrix Q|K, kept_rank: one row per matrix),\n"
    "DIR/summary.csv (thre, rank_thre, params_total, params_kept, compressed_q,\n"
    "compressed_k, saved_share), DIR/plan.json (settings and the same) and the shares as\n"
    "float64 .npy: energy_q.npy [L, H, d_head + 1], energy_k.npy [L, H_kv, d_head + 1]\n"
    "(entry 0 the bias, entry l the l-th largest singular value's direction).\n\n"
    "--write-model MDIR (one --thre and one --rank-thre): the compressed model as a Hugging\n"
    "  Face folder, every compressed W_Q / W_K head block replaced by its rank-R_thre\n"
    "  product (float32, full size), so any HF reader loads it: from an HF folder its config\n"
    "  and files; from a llama2.c or GGUF llama model a LlamaForCausalLM config.json and\n"
    "  HF-ordered tensors (no tokenizer files); --force replaces an existing MDIR.\n"
    "  --max-shard-size S (bytes, or with KB, MB, GB: powers of 1000 as Hugging Face's;\n"
    "  default 5GB): more tensor data than S is split over model-0000i-of-0000N.safetensors\n"
    "  shards with model.safetensors.index.json, as save_pretrained splits it. A plan\n"
    "  DIR is also what --lowrank DIR[@THRE,RANK_THRE] applies in memory on ppl, scan,\n"
    "  logits and attn.\n"
    "--eval-prompts F [--eval-len N] [--eval-count P] [--sdh SCAN_DIR [--regime R]]: the\n"
    "  Table 1 analogue: F (token-id lines if it ends in .ids, else text as --prompts) runs\n"
    "  through the original model and every (thre, rank_thre) plan: DIR/eval.csv (plan,\n"
    "  saved share, loss, perplexity, loss change), DIR/eval_sdh.csv (every SDH's slash\n"
    "  score at its offset before and after; the SDHs of SCAN_DIR/sdh.csv, else those the\n"
    "  original pass over F finds in the small regime) and DIR/eval.json.\n"
    "See docs/compress.md.\n";

/* A comma list of numbers in [lo, hi] (integers when whole). */
static ss_code parse_list(const ss_args *a, const char *flag, double lo, double hi, int whole,
                          double *v, int *n, ss_error *err)
{
    const char *s;
    ss_code rc = ss_args_require(a, flag, &s, err);
    if (rc)
        return rc;
    *n = 0;
    for (const char *p = s; *p;) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !(x >= lo && x <= hi) || (whole && x != floor(x)) ||
            (*end && *end != ',') || *n == MAX_LIST)
            return ss_fail(err, SS_ERR_USAGE, "%s '%s': expected at most %d %s in [%g, %g] "
                           "separated by commas", flag, s, MAX_LIST,
                           whole ? "integers" : "numbers", lo, hi);
        v[(*n)++] = x;
        p = *end ? end + 1 : end;
    }
    return SS_OK;
}

static ss_code write_plan_csv(const char *path, const ss_compress_result *r, const double *thre,
                              int nt, ss_error *err)
{
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc)
        return rc;
    int dh = r->d_head;
    fprintf(f.fp, "thre,layer,head,matrix,kept_rank,r_bias\n");
    for (int t = 0; t < nt; t++)
        for (int l = 0; l < r->n_layer; l++)
            for (int key = 0; key < 2; key++) {
                int heads = key ? r->n_kv_head : r->n_head;
                const double *rr = key ? r->k_r : r->q_r;
                for (int h = 0; h < heads; h++) {
                    const double *x = rr + ((size_t)l * heads + h) * (dh + 1);
                    fprintf(f.fp, "%g,%d,%d,%c,%d,%.17g\n", thre[t], l, h, key ? 'K' : 'Q',
                            ss_compress_kept_rank(x, dh, thre[t], NULL), x[0]);
                }
            }
    return ss_atomic_commit(&f, err);
}

static ss_code write_summary(const char *dir, const ss_compress_summary *s, int ns,
                             ss_error *err)
{
    char path[4096];
    ss_atomic_file f;
    ss_code rc = ss_out_path(path, sizeof path, dir, "summary.csv", err);
    if (rc || (rc = ss_atomic_open(&f, path, err)))
        return rc;
    fprintf(f.fp, "thre,rank_thre,params_total,params_kept,compressed_q,compressed_k,"
                  "saved_share\n");
    for (int i = 0; i < ns; i++)
        fprintf(f.fp, "%g,%d,%lld,%lld,%d,%d,%.17g\n", s[i].thre, s[i].rank_thre,
                (long long)s[i].params_total, (long long)s[i].params_kept, s[i].compressed_q,
                s[i].compressed_k, s[i].saved_share);
    return ss_atomic_commit(&f, err);
}

static cJSON *summary_json(const ss_compress_summary *s, int ns)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < ns; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "thre", s[i].thre);
        cJSON_AddNumberToObject(o, "rank_thre", s[i].rank_thre);
        cJSON_AddNumberToObject(o, "params_total", (double)s[i].params_total);
        cJSON_AddNumberToObject(o, "params_kept", (double)s[i].params_kept);
        cJSON_AddNumberToObject(o, "compressed_q", s[i].compressed_q);
        cJSON_AddNumberToObject(o, "compressed_k", s[i].compressed_k);
        cJSON_AddNumberToObject(o, "saved_share", s[i].saved_share);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static ss_code write_outputs(const char *dir, const ss_explain_src *src,
                             const ss_compress_result *r, const double *thre, int nt,
                             const double *rank_thre, int nr, ss_error *err)
{
    ss_compress_summary s[MAX_LIST * MAX_LIST];
    int ns = 0;
    for (int t = 0; t < nt; t++)
        for (int k = 0; k < nr; k++)
            s[ns++] = ss_compress_summarize(r, thre[t], (int)rank_thre[k]);
    char path[4096];
    int64_t sq[3] = {r->n_layer, r->n_head, r->d_head + 1};
    int64_t sk[3] = {r->n_layer, r->n_kv_head, r->d_head + 1};
    ss_code rc = ss_out_path(path, sizeof path, dir, "plan.csv", err);
    if (!rc)
        rc = write_plan_csv(path, r, thre, nt, err);
    if (!rc)
        rc = write_summary(dir, s, ns, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "energy_q.npy", err)))
        rc = ss_npy_write(path, SS_NPY_F64, 3, sq, r->q_r, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "energy_k.npy", err)))
        rc = ss_npy_write(path, SS_NPY_F64, 3, sk, r->k_r, err);
    if (rc)
        return rc;
    cJSON *root = ss_explain_src_result(src, "compress", err);
    if (!root)
        return err->code;
    cJSON_AddItemToObject(root, "thre", cJSON_CreateDoubleArray(thre, nt));
    cJSON_AddItemToObject(root, "rank_thre", cJSON_CreateDoubleArray(rank_thre, nr));
    cJSON_AddItemToObject(root, "plans", summary_json(s, ns));
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "plan.json", err)))
        rc = ss_json_write_file(path, root, err);
    cJSON_Delete(root);
    return rc;
}

/* --write-model MDIR is a folder transaction of its own (store/folder.h),
 * begun with --out's before any work and committed only after --out's
 * commit, so a failed run leaves neither folder finished. */
static ss_code begin_model_folder(const ss_args *a, ss_folder *f, ss_error *err)
{
    const char *dir = ss_args_get(a, "--write-model"), *out = ss_args_get(a, "--out");
    size_t nd = strlen(dir), no = strlen(out);
    while (nd > 1 && dir[nd - 1] == '/')
        nd--;
    while (no > 1 && out[no - 1] == '/')
        no--;
    if (nd == no && !strncmp(dir, out, nd))
        return ss_fail(err, SS_ERR_USAGE, "--write-model %s: is the --out folder; the model "
                       "needs a folder of its own", dir);
    ss_folder_opts fo = {.force = ss_args_has(a, "--force"), .marker = "config.json",
                         .flag = "--write-model"};
    return ss_folder_begin(f, dir, &fo, err);
}

/* --max-shard-size: bytes, or a whole number of KB / MB / GB (powers of
 * 1000, as huggingface_hub parses save_pretrained's "5GB"); 0 if absent. */
static ss_code parse_shard_size(const ss_args *a, uint64_t *out, ss_error *err)
{
    static const struct {
        const char *unit;
        long long scale;
    } units[] = {{"", 1}, {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000}};
    const char *s = ss_args_get(a, "--max-shard-size"), *end;
    long long v;
    *out = 0;
    if (!s)
        return SS_OK;
    if (!ss_parse_ll(s, &end, 1, (long long)1 << 50, &v))
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (!strcmp(end, units[i].unit) && v <= ((long long)1 << 50) / units[i].scale) {
                *out = (uint64_t)(v * units[i].scale);
                return SS_OK;
            }
    return ss_fail(err, SS_ERR_USAGE, "--max-shard-size '%s': expected a positive whole number "
                   "of bytes, optionally with KB, MB or GB (e.g. 5GB)", s);
}

/* The plan's matrices, made when the writer reaches them. */
static int plan_has(void *ctx, int layer, int key)
{
    return ss_lowrank_replaced(ctx, layer, key);
}

static ss_code plan_make(void *ctx, int layer, int key, float **rows, ss_error *err)
{
    return ss_lowrank_matrix(ctx, layer, key, rows, err);
}

/* The plan's one pair written into work (MDIR's transaction folder). */
static ss_code write_model(const ss_args *a, ss_model *m, const ss_compress_result *r,
                           double thre, int rank_thre, uint64_t max_shard, const char *work,
                           ss_error *err)
{
    const char *dir = ss_args_get(a, "--write-model");
    ss_lowrank_applied la;
    ss_code rc = ss_lowrank_plan(m, r, thre, rank_thre, &la, err);
    if (rc)
        return rc;
    ss_hf_repl repl = {.ctx = &la, .has = plan_has, .make = plan_make};
    ss_hf_write_opts wo = {.max_shard = max_shard, .quiet = a->quiet};
    rc = ss_hf_model_write(m, &repl, work, &wo, err);
    if (!rc && !a->quiet)
        printf("writing %s: %d of %d W_Q/W_K matrices at their kept rank (thre %g, rank_thre "
               "%d)\n", dir, la.compressed, m->cfg.n_layer * (m->cfg.n_head + m->cfg.n_kv_head),
               thre, rank_thre);
    ss_lowrank_restore(&la);
    return rc;
}

int cmd_compress(int argc, char **argv)
{
    static const ss_flag flags[] = {SS_EXPLAIN_SRC_FLAGS, SS_OUT_FOLDER_FLAGS, {"--thre", 1},
                                    {"--rank-thre", 1}, {"--write-model", 1},
                                    {"--max-shard-size", 1},
                                    SS_COMPRESS_EVAL_FLAGS, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "compress", usage, flags, argc, argv, &err))
        return ss_cli_fail("compress", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    const char *out;
    double thre[MAX_LIST], rank_thre[MAX_LIST];
    int nt, nr;
    if (ss_args_out(&a, 1, &out, &err) ||
        parse_list(&a, "--thre", 0, 1, 0, thre, &nt, &err) ||
        parse_list(&a, "--rank-thre", 0, 1 << 20, 1, rank_thre, &nr, &err))
        return ss_cli_fail("compress", &err);
    const char *model_out = ss_args_get(&a, "--write-model");
    if (model_out && (nt != 1 || nr != 1 || ss_args_has(&a, "--lowrank"))) {
        ss_fail(&err, SS_ERR_USAGE, "--write-model writes one plan: give one --thre and one "
                "--rank-thre (and no --lowrank)");
        return ss_cli_fail("compress", &err);
    }
    uint64_t max_shard;
    if (parse_shard_size(&a, &max_shard, &err))
        return ss_cli_fail("compress", &err);
    if (max_shard && !model_out) {
        ss_fail(&err, SS_ERR_USAGE, "--max-shard-size sizes the shards of --write-model MDIR; "
                "give --write-model");
        return ss_cli_fail("compress", &err);
    }

    ss_explain_src src;
    if (ss_explain_src_open(&src, &a, &err))
        return ss_cli_fail("compress", &err);
    /* the eval prompts read now: a bad --eval-prompts / --eval-len fails
     * before the analysis, the outputs and --write-model, and before any folder */
    ss_eval_src es = {0};
    int eval = ss_args_get(&a, "--eval-prompts") != NULL;
    ss_folder folder, mfolder;
    if ((eval && ss_eval_src_from_flags(&es, &a, src.run.model, src.len, &err)) ||
        (model_out && ss_hf_model_check(src.run.model, &err)) ||
        ss_out_folder_begin(&folder, &a, "plan.json", &out, &err)) {
        ss_eval_src_free(&es);
        ss_explain_src_close(&src);
        return ss_cli_fail("compress", &err);
    }
    if (model_out && begin_model_folder(&a, &mfolder, &err)) {
        ss_folder_abort(&folder);
        ss_eval_src_free(&es);
        ss_explain_src_close(&src);
        return ss_cli_fail("compress", &err);
    }
    ss_analysis an = {0};
    ss_compress_result res = {0};
    if (!ss_compress_analysis_new(&an, src.run.model, &err) &&
        !ss_explain_src_run(&src, (ss_analysis *[]){&an}, 1, "compress", a.quiet, &err) &&
        !ss_analysis_finish(&an, &res, &err) &&
        !write_outputs(out, &src, &res, thre, nt, rank_thre, nr, &err) &&
        (!model_out ||
         !write_model(&a, src.run.model, &res, thre[0], (int)rank_thre[0], max_shard,
                      mfolder.work, &err)) &&
        eval)
        ss_compress_eval(&a, &src, &es, &res, thre, nt, rank_thre, nr, out, &err);
    int out_done = !ss_out_folder_end(&folder, &err);
    if (model_out && out_done && ss_folder_commit(&mfolder, &err))
        out_done = 0;
    if (model_out && err.code)
        ss_folder_abort(&mfolder);
    if (out_done)
        ss_summary_compress(stdout, ss_args_get(&a, "--out"));
    ss_compress_result_free(&res);
    if (an.vt)
        ss_analysis_free(&an);
    ss_eval_src_free(&es);
    ss_explain_src_close(&src);
    return err.code ? ss_cli_fail("compress", &err) : 0;
}
