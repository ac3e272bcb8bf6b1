/* slashscope scan MODEL (--prompts F | --ids-file F | --ood COUNT | --repeat SEG --count P)
 *                 --len N --out DIR [options] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/scan.h"
#include "analysis/scan_result.h"
#include "report/scan_maps.h"
#include "cli/commands.h"
#include "cli/dist_cli.h"
#include "cli/model_run.h"
#include "cli/prompt_flags.h"
#include "cli/sdh_print.h"
#include "common/mem.h"
#include "common/timing.h"
#include "report/scan_folder.h"
#include "tokenizer/tokenizer.h"

static const char usage[] =
    "usage: slashscope scan MODEL (--prompts F | --ids-file F | --ood COUNT | --repeat SEG --count P)\n"
    "                       --len N --out DIR [options]\n\n"
    "The average slash score (SPEC.md section 2) of every layer, head and offset Δ over a set of\n"
    "prompts of N tokens, and the slash-dominant heads it reveals. Attention is reduced block by\n"
    "block as the forward pass makes it: memory stays O(N) per head, never O(N^2).\n\n"
    "prompt sources (one of):\n"
    "  --prompts F        text: a file with one prompt per line; a JSONL file (.jsonl/.json or\n"
    "                     --field given) with the text in --field (default \"context\", else\n"
    "                     \"text\", as in LongBench v2); or a folder of .txt files (name order).\n"
    "                     Tokenized with the model's tokenizer (BOS as the model does; --tokenizer\n"
    "                     to use another), cut to N tokens; shorter prompts are skipped and\n"
    "                     counted, or joined into windows of N with --chunk\n"
    "  --ids-file F       one sequence of token ids per line\n"
    "  --ood COUNT        COUNT prompts of i.i.d. uniform ids over the vocabulary (--seed S)\n"
    "  --repeat SEG       a random segment of SEG ids repeated to fill N (--count P prompts, --seed S):\n"
    "                     the probe for induction / copying heads\n\n"
    "options:\n"
    "  --len N            prompt length (required; at most the model's context unless --allow-long)\n"
    "  --out DIR          output folder: slash.npy, slash_sum.npy, slash_sumsq.npy,\n"
    "                     slash_count.npy, scan.json, sdh.csv, maps/, SHA256SUMS (docs/scan.md,\n"
    "                     docs/results.md); written as DIR.partial and renamed when complete;\n"
    "                     DIR.lock keeps other runs out\n"
    "  --skip K           leave out entries with key position < K (default 4, as the paper)\n"
    "  --seed S           seed of --ood / --repeat (default 0; same seed, same prompts anywhere)\n"
    "  --count P          number of --repeat prompts; with --prompts/--ids-file at most P prompts\n"
    "  --vocab V          draw synthetic ids from [0, V) (default: the model's vocabulary)\n"
    "  --bos              synthetic prompts start with the model's BOS id\n"
    "  --maps HEADS       pooled mean attention maps: L0H1,L3H2 | all | sdh (this scan's SDHs;\n"
    "                     keeps every head's map while running) | sdh:DIR (the SDHs of scan DIR)\n"
    "  --map-size M       map bins per side (default 256; N bins when N < M)\n"
    "  --ood-offset K     --ood/--repeat: start at prompt K of the seed's sequence, so a set can\n"
    "                     be extended without overlap (--ood 4 --ood-offset 4 adds prompts 4-7)\n"
    "  --kappa-small K, --kappa-large K   κ of the two SDH regimes (Δ 0..4: 0.1; Δ 500..5000:\n"
    "                     1e-3) for sdh.csv, --maps sdh and the listing, as in 'slashscope sdh'\n"
    "  --force            replace a finished result in DIR whole (else it is refused), or start\n"
    "                     afresh over an unfinished one\n"
    "  --resume           continue an interrupted scan from DIR.partial/checkpoint\n"
    "  --checkpoint-every K   prompts between checkpoints (default 8; also every 5 minutes)\n"
    "  --block-rows B     query rows per attention block (default 64)\n"
    "  --allow-long, --rope-remove L1,L2,..., --p-rope P   as for 'slashscope logits'\n"
    "  --ablate HEADS[:zero|:mean], --head-rope-remove HEAD:l1,l2,..., --lowrank PLAN\n"
    "                     interventions, as for 'slashscope logits' (recorded in scan.json)\n"
    "  --threads T, --quiet\n";

typedef struct {
    ss_prompt_opts src;
    ss_tokenizer *tok;
    unsigned char *map_flags;
    ss_scan_opts so;
} scan_setup;

/* --maps: a list, "all", "sdh" or "sdh:DIR" (report/scan_maps.h). */
static ss_code maps_from_args(const ss_args *a, const ss_model *m, scan_setup *s, ss_error *err)
{
    long long size;
    ss_code rc = ss_args_int(a, "--map-size", 256, 1, 8192, &size, err);
    if (rc)
        return rc;
    s->so.map_size = (int)size;
    return ss_scan_maps_from_spec(ss_args_get(a, "--maps"), m, a->positional[0], "--maps",
                                  &s->so, &s->map_flags, err);
}

/* The library says "skip"; on the command line it is the flag. */
static ss_code skip_within_len(long long skip, int len, ss_error *err)
{
    if (skip < len)
        return SS_OK;
    return ss_fail(err, SS_ERR_USAGE, "--skip %lld must be from 0 to --len - 1 = %d", skip,
                   len - 1);
}

/* What the scan found, from the result written into dir (the same numbers:
 * the folder holds them as they are). */
static void print_summary(const ss_scan_result *r, const char *dir)
{
    ss_error err = {0};
    double *avg = ss_scan_result_average(r, &err);
    const cJSON *tps = cJSON_GetObjectItemCaseSensitive(r->meta, "tokens_per_second");
    const cJSON *wall = cJSON_GetObjectItemCaseSensitive(r->meta, "wall_seconds");
    printf("scanned %lld prompts of %d tokens in %.1f s (%.0f tokens/s); results in %s\n",
           (long long)r->prompts, r->n, cJSON_IsNumber(wall) ? wall->valuedouble : 0,
           cJSON_IsNumber(tps) ? tps->valuedouble : 0, dir);
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(r->meta, "prompts");
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(pr, "records_read");
    const cJSON *skipped = cJSON_GetObjectItemCaseSensitive(pr, "skipped_short");
    const cJSON *chunk = cJSON_GetObjectItemCaseSensitive(pr, "chunk");
    if (cJSON_IsNumber(skipped) && skipped->valuedouble > 0)
        printf("skipped %.0f of %.0f records: shorter than %d tokens%s\n", skipped->valuedouble,
               cJSON_IsNumber(rec) ? rec->valuedouble : 0, r->n,
               cJSON_IsTrue(chunk) ? " (the unfinished last window)" : "; --chunk joins them");
    ss_sdh_regime reg[2];
    ss_sdh_regimes_from_json(cJSON_GetObjectItemCaseSensitive(r->meta, "sdh_regimes"), reg);
    for (int g = 0; g < 2 && avg; g++) {
        if (reg[g].d_min >= r->n)
            continue;
        ss_sdh_kappa_warn(stderr, "scan", &reg[g], r->n);
        ss_sdh *list;
        int n;
        if (ss_sdh_find(avg, r->n_layer, r->n_head, r->n, &reg[g], &list, &n, &err) == SS_OK) {
            ss_print_sdh_regime(stdout, &reg[g], list, n);
            free(list);
        }
    }
    free(avg);
}

/* The same from the folder itself (a distributed scan's rank 0 holds no
 * result after writing it). */
static void print_summary_of(const char *dir)
{
    ss_error err = {0};
    ss_scan_result r;
    if (ss_scan_result_read(dir, &r, &err))
        return;
    print_summary(&r, dir);
    ss_scan_result_free(&r);
}

/* mpirun -np K (cli/dist_cli.h): this rank's share of the prompts, per-rank
 * checkpoints in DIR.partial/checkpoint (dist/dist.h), the sums reduced to
 * rank 0, which writes the one folder into the transaction it holds and
 * commits it. The one-process scan checkpoint is not used: K ranks would
 * share it. */
static ss_code scan_distributed(ss_scan_opts *o, const ss_model_run *r, ss_folder *f,
                                ss_error *err)
{
    o->share = &ss_cli_dist.share;
    o->quiet = o->quiet || ss_cli_dist.rank > 0;
    ss_scan_result res = {0};
    if (!ss_cli_dist_identify(r, o->prompts, o->source, err) &&
        !ss_scan_collect(o, &res, err)) /* ranks > 0: SS_STOP after the reduction */
        ss_scan_result_write(f->work, &res, err);
    ss_scan_result_free(&res);
    return ss_cli_dist_end(f, err);
}

int cmd_scan(int argc, char **argv)
{
    static const ss_flag flags[] = {
        SS_PROMPT_FLAGS, {"--out", 1}, {"--skip", 1}, {"--maps", 1}, {"--map-size", 1},
        {"--resume", 0}, {"--force", 0}, {"--kappa-small", 1}, {"--kappa-large", 1}, {"--checkpoint-every", 1}, {"--block-rows", 1}, {"--allow-long", 0},
        {"--rope-remove", 1}, {"--p-rope", 1}, SS_INTERVENTION_FLAGS, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "scan", usage, flags, argc, argv, &err))
        return ss_cli_fail("scan", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    scan_setup s;
    memset(&s, 0, sizeof s);
    ss_model_run r = {0};
    ss_prompts *prompts = NULL;
    long long skip, every, block;
    double kappa[2];
    const char *out;
    if (ss_args_out(&a, 1, &out, &err) ||
        ss_args_int(&a, "--skip", 4, 0, 1 << 24, &skip, &err) ||
        ss_args_int(&a, "--checkpoint-every", 8, 1, 1 << 30, &every, &err) ||
        ss_args_int(&a, "--block-rows", 0, 1, 1 << 16, &block, &err) ||
        ss_args_double(&a, "--kappa-small", 0, 1e-12, 1, &kappa[0], &err) ||
        ss_args_double(&a, "--kappa-large", 0, 1e-12, 1, &kappa[1], &err) ||
        ss_model_run_open(&r, &a, 0, &err) ||
        ss_prompt_opts_from_args(&a, r.model, r.allow_long, &s.src, &s.tok, &err) ||
        maps_from_args(&a, r.model, &s, &err) || ss_prompts_open(&s.src, &prompts, &err) ||
        /* after the source: what is wrong with the prompts is said first */
        skip_within_len(skip, s.src.len, &err)) {
        ss_prompts_close(prompts);
        ss_tokenizer_free(s.tok);
        free(s.map_flags);
        ss_model_run_close(&r);
        return ss_cli_fail("scan", &err);
    }
    s.so.model = r.model;
    s.so.model_path = a.positional[0];
    s.so.rope = &r.rope;
    s.so.prompts = prompts;
    s.so.source = &s.src;
    s.so.len = s.src.len;
    s.so.skip = (int)skip;
    s.so.resume = ss_args_has(&a, "--resume");
    s.so.force = ss_args_has(&a, "--force");
    s.so.kappa_small = kappa[0];
    s.so.kappa_large = kappa[1];
    s.so.checkpoint_every = (int)every;
    s.so.block_rows = (int)block;
    s.so.allow_long = r.allow_long;
    s.so.quiet = a.quiet;
    s.so.threads = a.threads;
    s.so.out_dir = out;
    ss_forward_opts edits = {0};
    ss_model_run_edits(&r, &edits);
    s.so.edit_heads = edits.edit_heads;
    s.so.edit_ctx = edits.edit_ctx;
    s.so.head_rope = edits.head_rope;
    cJSON *interventions = ss_model_run_edits_json(&r, &a);
    s.so.interventions = interventions;
    int dist = 0;
    ss_folder folder;
    ss_code rc = ss_cli_dist_setup(&folder, &a, argc, argv, "scan.json", 0, &dist, &err);
    ss_scan_result kept = {0};
    if (!rc)
        rc = dist ? scan_distributed(&s.so, &r, &folder, &err) : ss_scan_run(&s.so, &kept, &err);
    ss_timing_mark("scan: write folder, commit");
    cJSON_Delete(interventions);
    ss_prompts_close(prompts);
    ss_tokenizer_free(s.tok);
    free(s.map_flags);
    ss_model_run_close(&r);
    ss_timing_mark("scan: close model");
    if (rc)
        return ss_cli_dist_status("scan", &err);
    /* --quiet silences the progress line only */
    if (!dist)
        print_summary(&kept, out);
    else if (ss_cli_dist.rank == 0)
        print_summary_of(out);
    ss_scan_result_free(&kept);
    ss_timing_mark("scan: summary");
    return ss_cli_dist_status("scan", &err);
}
