#include "cli/prompt_flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/path.h"
#include "engine/forward.h"

ss_code ss_cli_tokenizer_open(const ss_args *a, ss_tokenizer **tok, ss_error *err)
{
    const char *tp = ss_args_get(a, "--tokenizer");
    ss_code rc = ss_tokenizer_open(tp ? tp : a->positional[0], tok, err);
    if (rc && !tp && (rc == SS_ERR_MISSING || rc == SS_ERR_USAGE))
        ss_error_suffix(err, "; give the tokenizer with --tokenizer FILE (a tokenizer.json, a "
                        "GGUF or a llama2.c tokenizer.bin)");
    return rc;
}

static ss_code parse_seed(const ss_args *a, uint64_t *seed, ss_error *err)
{
    const char *v = ss_args_get(a, "--seed");
    *seed = 0;
    if (!v)
        return SS_OK;
    char *end;
    errno = 0;
    unsigned long long s = strtoull(v, &end, 10);
    if (!*v || *end || errno || *v == '-')
        return ss_fail(err, SS_ERR_USAGE, "--seed wants a whole number from 0 to 2^64-1, got '%s'",
                       v);
    *seed = s;
    return SS_OK;
}

/* --len, --count, --vocab, --seed, --field, --chunk, --bos and their
 * combinations with the kind of source. */
static ss_code common_options(const ss_args *a, const ss_model *m, int allow_long,
                              ss_prompt_opts *o, ss_error *err)
{
    long long len, count, vocab, first;
    ss_code rc;
    if (!ss_args_has(a, "--len"))
        return ss_fail(err, SS_ERR_USAGE, "--len N is required (the prompt length in tokens)");
    if ((rc = ss_args_int(a, "--len", 0, 1, 1 << 24, &len, err)) ||
        (rc = ss_args_int(a, "--count", 0, 1, INT64_MAX, &count, err)) ||
        (rc = ss_args_int(a, "--vocab", m->cfg.vocab, 1, m->cfg.vocab, &vocab, err)) ||
        (rc = ss_args_int(a, "--ood-offset", 0, 0, INT64_MAX / 2, &first, err)) ||
        (rc = parse_seed(a, &o->seed, err)))
        return rc;
    if (len > m->cfg.ctx_len && !allow_long)
        return ss_fail(err, SS_ERR_VALUE, "--len %lld is longer than the model's context of %d "
                       "(pass --allow-long to run it anyway)", len, m->cfg.ctx_len);
    /* the forward pass checks this again; asking here refuses before the
     * analysis allocates its own per-offset buffers */
    char what[96];
    snprintf(what, sizeof what, "--len %lld: the forward pass over that many tokens", len);
    int threads = a->threads > 0 ? a->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if ((rc = ss_mem_check(ss_forward_bytes(&m->cfg, (int)len, 64, threads > 0 ? threads : 1),
                           what, "use a shorter --len (or fewer --threads)", err)))
        return rc;
    o->len = (int)len;
    o->count = count;
    o->first = first;
    o->vocab = (int)vocab;
    o->bos = -1;
    o->field = ss_args_get(a, "--field");
    o->chunk = ss_args_has(a, "--chunk");
    int synthetic = ss_args_has(a, "--ood") || ss_args_has(a, "--repeat");
    if (synthetic && (o->field || o->chunk))
        return ss_fail(err, SS_ERR_USAGE, "--field and --chunk apply to --prompts/--ids-file only");
    if (!synthetic && (ss_args_has(a, "--bos") || ss_args_has(a, "--vocab") ||
                       ss_args_has(a, "--ood-offset")))
        return ss_fail(err, SS_ERR_USAGE, "--bos, --vocab and --ood-offset apply to --ood/--repeat "
                       "only");
    if (ss_args_has(a, "--bos")) {
        if (m->cfg.bos_id < 0)
            return ss_fail(err, SS_ERR_MISSING, "--bos: the model does not say which id is BOS");
        o->bos = m->cfg.bos_id;
    }
    return SS_OK;
}

ss_code ss_prompt_opts_from_args(const ss_args *a, const ss_model *m, int allow_long,
                                 ss_prompt_opts *o, ss_tokenizer **tok, ss_error *err)
{
    memset(o, 0, sizeof *o);
    *tok = NULL;
    const char *names[4] = {"--prompts", "--ids-file", "--ood", "--repeat"};
    int given = 0;
    for (int k = 0; k < 4; k++)
        given += ss_args_has(a, names[k]);
    if (given != 1)
        return ss_fail(err, SS_ERR_USAGE, "give exactly one of --prompts, --ids-file, --ood, "
                       "--repeat (see 'slashscope %s --help')", a->cmd);
    ss_code rc = common_options(a, m, allow_long, o, err);
    if (rc)
        return rc;
    long long count, seg;
    if (ss_args_has(a, "--ood")) {
        if (ss_args_has(a, "--count"))
            return ss_fail(err, SS_ERR_USAGE, "--ood takes the count itself: --ood COUNT");
        o->kind = SS_SRC_OOD;
        rc = ss_args_int(a, "--ood", 0, 1, INT64_MAX, &count, err);
        o->count = count;
        return rc;
    }
    if (ss_args_has(a, "--repeat")) {
        o->kind = SS_SRC_REPEAT;
        if (!ss_args_has(a, "--count"))
            return ss_fail(err, SS_ERR_USAGE, "--repeat SEG needs --count P (number of prompts)");
        if ((rc = ss_args_int(a, "--repeat", 0, 1, 1 << 24, &seg, err)))
            return rc;
        o->segment = (int)seg;
        return SS_OK;
    }
    if (ss_args_has(a, "--ids-file")) {
        o->kind = SS_SRC_IDS;
        o->path = ss_args_get(a, "--ids-file");
        if (o->field)
            return ss_fail(err, SS_ERR_USAGE, "--field applies to JSONL prompts only");
        return SS_OK;
    }
    o->path = ss_args_get(a, "--prompts");
    o->kind = ss_text_source_kind(o->path, o->field);
    if (o->field && o->kind != SS_SRC_JSONL)
        return ss_fail(err, SS_ERR_USAGE, "--field applies to JSONL prompts only");
    if ((rc = ss_cli_tokenizer_open(a, tok, err)))
        return rc;
    o->tok = *tok;
    const char *tp = ss_args_get(a, "--tokenizer");
    o->tok_path = tp ? tp : a->positional[0];
    o->add_bos = ss_tokenizer_adds_bos(*tok);
    return SS_OK;
}
