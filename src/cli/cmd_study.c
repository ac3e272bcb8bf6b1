/* slashscope study MODEL... : the paper's whole study of a model, in stages
 * (cli/study_stage.h) whose folders are the single commands' own, then one
 * self-contained report (cli/study_report.c). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/dist_cli.h"
#include "cli/study.h"
#include "cli/study_csv.h"
#include "common/progress.h"
#include "io/atomic_file.h"
#include "io/json.h"

static const char usage[] =
    "usage: slashscope study MODEL... (--prompts F | --ids-file F) --out DIR [--ood COUNT]\n"
    "                        [--len N] [--heads sdh|all|LIST] [--seed S] [--threads N]\n\n"
    "The paper's study of each MODEL, in stages that land in DIR/<stage>/ (one model) or\n"
    "DIR/<k>-<name>/<stage>/ (several) in the single commands' own formats:\n"
    "  info      the model card (info --json)\n"
    "  scan-id   scan of the prompt set (--prompts text or --ids-file ids) at N tokens\n"
    "  scan-ood  scan of COUNT uniform random-token prompts (default 64, --seed S, default 1)\n"
    "  compare   each SDH's OOD/ID ratio (Takeaway 1, Figure 7)\n"
    "  maps      pooled mean attention of the " SS_STR(STUDY_MAP_HEADS) " strongest SDHs over the first "
    SS_STR(STUDY_MAP_PROMPTS) " prompts\n"
    "  rank      low rank of pre-RoPE Q, K, hidden states, weights (Takeaway 2; "
    SS_STR(STUDY_RANK_PROMPTS) " prompts)\n"
    "  cone      the layer-0 cone over the vocabulary (Takeaway 3)\n"
    "  freq      InP, band ablation, active frequencies, frequency condition (Takeaway 4;\n"
    "            " SS_STR(STUDY_FREQ_PROMPTS) " prompts)\n"
    "--heads picks the heads of rank, cone and freq: the SDHs of scan-id (sdh, default), all,\n"
    "or a list L0H1,L3H2. N defaults to the model's context, at most 1024.\n"
    "Then DIR/report.html: the model card and settings, Takeaways 1-4 as verdicts computed\n"
    "from the numbers with their figures and tables, and, for several models, the SDHs they\n"
    "share, gain and lose. A killed study resumes where it stopped (run the same command);\n"
    "finished stages are not recomputed (delete DIR/<stage>.stage.json to redo one).\n";

static const ss_flag flags[] = {{"--prompts", 1}, {"--ids-file", 1}, {"--out", 1},
                                {"--ood", 1},     {"--len", 1},      {"--heads", 1},
                                {"--seed", 1},    {NULL, 0}};

static const char *const STAGE_NAMES[ST_COUNT] = {"info", "scan-id", "scan-ood", "compare",
                                                  "maps", "rank",    "cone",     "freq"};

/* dst = dir/name (dir alone when name is NULL), through a local buffer:
 * dst and dir may sit in the same study struct. */
static void join(char *dst, size_t n, const char *dir, const char *name)
{
    char buf[4096];
    if (name)
        snprintf(buf, sizeof buf, "%s/%s", dir, name);
    else
        snprintf(buf, sizeof buf, "%s", dir);
    snprintf(dst, n, "%s", buf);
}

static void model_name(const char *path, char *out, size_t n)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && path[start - 1] != '/')
        start--;
    snprintf(out, n, "%.*s", (int)(len - start), path + start);
}

/* The settings that decide every number: a folder made with others is not
 * resumed. */
static cJSON *settings_json(const study *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "format", "slashscope-study");
    cJSON *m = cJSON_AddArrayToObject(j, "models");
    for (int k = 0; k < s->n_models; k++)
        cJSON_AddItemToArray(m, cJSON_CreateString(s->model[k].path));
    cJSON_AddStringToObject(j, "source", s->src_flag + 2);
    cJSON_AddStringToObject(j, "source_path", s->src_path);
    cJSON_AddNumberToObject(j, "len", (double)s->len);
    cJSON_AddNumberToObject(j, "ood", (double)s->ood);
    cJSON_AddNumberToObject(j, "seed", (double)s->seed);
    cJSON_AddStringToObject(j, "heads", s->heads);
    return j;
}

static ss_code check_settings(const study *s, ss_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/study.json", s->out);
    cJSON *want = settings_json(s);
    ss_code rc = SS_OK;
    if (access(path, F_OK) == 0) {
        cJSON *have = NULL;
        if (!(rc = ss_json_load(path, 1 << 20, &have, err)) &&
            !cJSON_Compare(have, want, 1)) {
            char *a = cJSON_PrintUnformatted(have), *b = cJSON_PrintUnformatted(want);
            rc = ss_fail(err, SS_ERR_INCOMPATIBLE,
                         "%s: this folder holds a study with other settings (%s; now %s): "
                         "use another --out", path, a ? a : "?", b ? b : "?");
            free(a);
            free(b);
        }
        cJSON_Delete(have);
    } else if (!(rc = ss_mkdirs(s->out, err))) {
        char *text = cJSON_Print(want);
        rc = text ? ss_write_file_atomic(path, text, strlen(text), err)
                  : ss_fail(err, SS_ERR_NOMEM, "study: out of memory");
        free(text);
    }
    cJSON_Delete(want);
    return rc;
}

/* The prompt source and the length, as every prompt-reading stage gets it. */
static void source_args(const study *s, ss_stage *st, long long count)
{
    ss_stage_arg(st, "%s", s->src_flag);
    ss_stage_arg(st, "%s", s->src_path);
    ss_stage_arg(st, "--len");
    ss_stage_arg(st, "%lld", s->len);
    if (count > 0) {
        ss_stage_arg(st, "--count");
        ss_stage_arg(st, "%lld", count);
    }
}

static void heads_args(const study *s, const study_model *m, ss_stage *st)
{
    if (strcmp(s->heads, "sdh") == 0) {
        ss_stage_arg(st, "--sdh");
        ss_stage_arg(st, "%s", m->stage[ST_SCAN_ID].dir);
    } else {
        ss_stage_arg(st, "--heads");
        ss_stage_arg(st, "%s", s->heads);
    }
}

static void common_args(const study *s, ss_stage *st)
{
    if (s->threads > 0) {
        ss_stage_arg(st, "--threads");
        ss_stage_arg(st, "%lld", s->threads);
    }
}

/* The strongest SDHs of scan-id (small regime, distinct heads, by score)
 * as "L0H1,L3H2"; "" when it has none. */
static ss_code top_sdh_heads(const study_model *m, char *out, size_t n, ss_error *err)
{
    ss_csv t;
    out[0] = '\0';
    ss_code rc = ss_csv_read(&t, m->stage[ST_SCAN_ID].dir, "sdh.csv", err);
    if (rc)
        return rc;
    static const char *const need[] = {"regime", "name", "score", NULL};
    if ((rc = ss_csv_need(&t, need, err))) {
        ss_csv_free(&t);
        return rc;
    }
    int creg = ss_csv_col(&t, "regime"), cname = ss_csv_col(&t, "name"),
        cscore = ss_csv_col(&t, "score");
    char picked[STUDY_MAP_HEADS][32];
    int np = 0;
    while (np < STUDY_MAP_HEADS) {
        int best = -1;
        for (int r = 0; r < t.rows; r++) {
            if (strcmp(ss_csv_str(&t, r, creg), "small"))
                continue;
            int dup = 0;
            for (int k = 0; k < np; k++)
                dup |= strcmp(picked[k], ss_csv_str(&t, r, cname)) == 0;
            if (!dup && (best < 0 || ss_csv_value(&t, r, cscore) > ss_csv_value(&t, best, cscore)))
                best = r;
        }
        if (best < 0)
            break;
        snprintf(picked[np++], sizeof picked[0], "%s", ss_csv_str(&t, best, cname));
    }
    for (int k = 0; k < np; k++) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", k ? "," : "", picked[k]);
    }
    ss_csv_free(&t);
    return SS_OK;
}

/* "slashscope CMD MODEL" ... */
static ss_stage *begin(study_model *m, int k, const char *cmd)
{
    ss_stage *st = &m->stage[k];
    ss_stage_arg(st, "%s", cmd);
    ss_stage_arg(st, "%s", k == ST_COMPARE ? m->stage[ST_SCAN_ID].dir : m->path);
    return st;
}

/* ... "--out DIR [--threads T]" */
static void finish(const study *s, ss_stage *st)
{
    ss_stage_arg(st, "--out");
    ss_stage_arg(st, "%s", st->dir);
    st->out_folder = 1;
    common_args(s, st);
}

/* The stages of one model; maps waits for scan-id's SDHs (run_model). The
 * stdout files of info and compare are their results. */
static void plan(study *s, study_model *m)
{
    static char outs[STUDY_MAX_MODELS][2][4200];
    int idx = (int)(m - s->model);
    for (int k = 0; k < ST_COUNT; k++) {
        ss_stage *st = &m->stage[k];
        st->name = STAGE_NAMES[k];
        join(st->dir, sizeof st->dir, m->dir, STAGE_NAMES[k]);
    }
    ss_stage *st = begin(m, ST_INFO, "info");
    ss_stage_arg(st, "--json");
    snprintf(outs[idx][0], sizeof outs[idx][0], "%s/info.json", st->dir);
    st->stdout_file = outs[idx][0];

    st = begin(m, ST_SCAN_ID, "scan");
    source_args(s, st, 0);
    finish(s, st);
    st->resumable = 1;

    st = begin(m, ST_SCAN_OOD, "scan");
    ss_stage_arg(st, "--ood");
    ss_stage_arg(st, "%lld", s->ood);
    ss_stage_arg(st, "--seed");
    ss_stage_arg(st, "%lld", s->seed);
    ss_stage_arg(st, "--len");
    ss_stage_arg(st, "%lld", s->len);
    finish(s, st);
    st->resumable = 1;

    st = begin(m, ST_COMPARE, "compare");
    ss_stage_arg(st, "%s", m->stage[ST_SCAN_OOD].dir);
    ss_stage_arg(st, "--json");
    snprintf(outs[idx][1], sizeof outs[idx][1], "%s/compare.json", st->dir);
    st->stdout_file = outs[idx][1];

    st = begin(m, ST_RANK, "rank");
    source_args(s, st, STUDY_RANK_PROMPTS);
    heads_args(s, m, st);
    finish(s, st);
    st->resumable = 1; /* rank and freq checkpoint as scan does */

    finish(s, begin(m, ST_CONE, "cone"));

    st = begin(m, ST_FREQ, "freq");
    source_args(s, st, STUDY_FREQ_PROMPTS);
    heads_args(s, m, st);
    finish(s, st);
    st->resumable = 1;
}

static void say(const study *s, const study_model *m, const ss_stage *st)
{
    if (s->quiet || !isatty(STDERR_FILENO) || ss_cli_dist.rank > 0)
        return;
    fprintf(stderr, "study: %s: %s%s\n", m->name, st->name,
            ss_stage_done(st) ? " (finished before, reused)" : "");
}

/* info and scan-id first (the SDHs decide the maps and the heads to
 * explain); then the OOD scan, the explaining stages, and compare, which
 * needs both scans. */
static ss_code run_model(study *s, study_model *m, ss_error *err)
{
    ss_stage *first[2] = {&m->stage[ST_INFO], &m->stage[ST_SCAN_ID]};
    for (int k = 0; k < 2; k++)
        say(s, m, first[k]);
    ss_code rc = ss_stages_run(first, 2, s->quiet, err);
    char heads[256] = "";
    if (!rc)
        rc = top_sdh_heads(m, heads, sizeof heads, err);
    if (rc) {
        ss_error_prefix(err, "%s", m->name);
        return rc;
    }
    m->has_maps = heads[0] != '\0';
    ss_stage *st = &m->stage[ST_MAPS];
    if (m->has_maps && st->argc == 0) {
        begin(m, ST_MAPS, "scan");
        source_args(s, st, STUDY_MAP_PROMPTS);
        ss_stage_arg(st, "--maps");
        ss_stage_arg(st, "%s", heads);
        finish(s, st);
    }
    /* rank/freq with --heads sdh have nothing to explain without SDHs (the
     * report says so) */
    int explain = m->has_maps || strcmp(s->heads, "sdh") != 0;
    ss_stage *rest[ST_COUNT];
    int n = 0;
    rest[n++] = &m->stage[ST_SCAN_OOD];
    if (m->has_maps)
        rest[n++] = st;
    if (explain)
        rest[n++] = &m->stage[ST_RANK];
    rest[n++] = &m->stage[ST_CONE];
    if (explain)
        rest[n++] = &m->stage[ST_FREQ];
    for (int k = 0; k < n; k++)
        say(s, m, rest[k]);
    if (!(rc = ss_stages_run(rest, n, s->quiet, err))) {
        say(s, m, &m->stage[ST_COMPARE]);
        rc = ss_stage_run(&m->stage[ST_COMPARE], s->quiet, err);
    }
    if (rc)
        ss_error_prefix(err, "%s", m->name);
    return rc;
}

/* N: the model's context (from the info stage), at most 1024. */
static ss_code default_len(study *s, ss_error *err)
{
    cJSON *j = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/info.json", s->model[0].stage[ST_INFO].dir);
    ss_code rc = ss_json_load(path, 1 << 24, &j, err);
    long long ctx = 0;
    if (!rc)
        rc = ss_json_int(j, path, "context", 1, 2, 1LL << 40, &ctx, err);
    cJSON_Delete(j);
    if (!rc)
        s->len = ctx < 1024 ? ctx : 1024;
    return rc;
}

/* The first model's info stage runs before the others to give the default
 * length, which the settings check needs. */
static ss_code find_len(study *s, ss_error *err)
{
    study_model *m = &s->model[0];
    ss_stage *info = &m->stage[ST_INFO];
    static char out[4200];
    info->name = "info";
    join(info->dir, sizeof info->dir, m->dir, "info");
    snprintf(out, sizeof out, "%s/info.json", info->dir);
    info->stdout_file = out;
    ss_stage_arg(info, "info");
    ss_stage_arg(info, "%s", m->path);
    ss_stage_arg(info, "--json");
    ss_code rc = ss_stage_run(info, s->quiet, err);
    if (!rc)
        rc = default_len(s, err);
    ss_stage_free(info);
    return rc;
}

static int parse(study *s, ss_args *a, int argc, char **argv, ss_error *err)
{
    if (ss_args_parse(a, "study", usage, flags, argc, argv, err))
        return 2;
    if (a->help)
        return -1;
    if (a->n_positional < 1 || a->n_positional > STUDY_MAX_MODELS)
        return ss_fail(err, SS_ERR_USAGE, "wants 1 to %d MODELs, got %d (see --help)",
                       STUDY_MAX_MODELS, a->n_positional), 2;
    const char *p = ss_args_get(a, "--prompts"), *ids = ss_args_get(a, "--ids-file");
    if (!!p == !!ids)
        return ss_fail(err, SS_ERR_USAGE, "wants one prompt set: --prompts F or --ids-file F"),
               2;
    s->src_flag = p ? "--prompts" : "--ids-file";
    s->src_path = p ? p : ids;
    if (ss_args_out(a, 1, &s->out, err)) /* writable before any stage runs */
        return err->code == SS_ERR_USAGE ? 2 : 1;
    if (strlen(s->out) > 3000)
        return ss_fail(err, SS_ERR_USAGE, "--out: path too long"), 2;
    if (ss_args_int(a, "--ood", 64, 1, 1000000, &s->ood, err) ||
        ss_args_int(a, "--len", 0, 2, 1 << 24, &s->len, err) ||
        ss_args_int(a, "--seed", 1, 0, 9007199254740991LL, &s->seed, err))
        return 2;
    s->heads = ss_args_get(a, "--heads");
    if (!s->heads || !*s->heads)
        s->heads = "sdh";
    s->threads = a->threads;
    s->quiet = a->quiet;
    s->n_models = a->n_positional;
    for (int k = 0; k < s->n_models; k++) {
        study_model *m = &s->model[k];
        m->path = a->positional[k];
        model_name(m->path, m->name, sizeof m->name);
        char sub[300];
        snprintf(sub, sizeof sub, "%d-%s", k + 1, m->name);
        join(m->dir, sizeof m->dir, s->out, s->n_models == 1 ? NULL : sub);
    }
    return 0;
}

int cmd_study(int argc, char **argv)
{
    ss_error err = {0};
    ss_args a;
    study *s = calloc(1, sizeof *s);
    if (!s) {
        ss_fail(&err, SS_ERR_NOMEM, "out of memory");
        return ss_cli_fail("study", &err);
    }
    int st = parse(s, &a, argc, argv, &err);
    if (st == -1) {
        fputs(usage, stdout);
        free(s);
        return 0;
    }
    double t0 = ss_now_seconds();
    ss_code rc = st ? err.code : SS_OK;
    if (!rc && s->len == 0)
        rc = find_len(s, &err);
    /* under mpirun rank 0 alone writes the settings and the report; every
     * rank takes part in the stages (cli/study_stage.h) */
    int rank0 = ss_cli_dist.rank == 0;
    if (!rc)
        rc = ss_stage_agree(rank0 ? check_settings(s, &err) : SS_OK, &err);
    for (int k = 0; !rc && k < s->n_models; k++) {
        plan(s, &s->model[k]);
        rc = run_model(s, &s->model[k], &err);
    }
    s->seconds = ss_now_seconds() - t0;
    if (!rc && rank0)
        rc = study_report(s, &err);
    if (!rc && rank0)
        printf("study: %d model%s, %.1f s; report: %s/report.html\n", s->n_models,
               s->n_models > 1 ? "s" : "", s->seconds, s->out);
    for (int k = 0; k < s->n_models; k++)
        for (int j = 0; j < ST_COUNT; j++)
            ss_stage_free(&s->model[k].stage[j]);
    free(s);
    if (rc && !rank0) /* rank 0 says why (or the job was ended with its message) */
        return 1;
    return rc ? ss_cli_fail("study", &err) : 0;
}
