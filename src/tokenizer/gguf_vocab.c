/* The vocabulary embedded in a GGUF (llama.cpp llama_vocab::load, the
 * version of February 2025): tokenizer.ggml.model "llama" is SentencePiece
 * (tokens + scores, merged by score), "gpt2" is byte-level BPE (tokens +
 * merges "a b", pre-tokenizer regexes chosen by tokenizer.ggml.pre). Token
 * types mark control (3), user-defined (4) and byte (6) tokens; as
 * llama-tokenize without --parse-special, only user-defined tokens are
 * matched in the text. */
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "tokenizer/tok_internal.h"

/* llama.cpp's pre-tokenizer regexes per tokenizer.ggml.pre (llm_tokenizer_bpe).
 * Its hand-written GPT-2 splitter also splits off lone whitespace, which is
 * what the trailing "\s+" alternative of ss_gpt2_regex does. */
static const char re_llama3[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
    "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char re_qwen2[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"
    "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

typedef struct {
    const char *names[8];
    const char *regex[4];
    int ignore_merges, add_bos;
} pre_type;

static const pre_type pre_types[] = {
    {{"default"}, {"[\\p{P}\\$\\+<=>\\^~\\|]+", ss_gpt2_regex, "\\p{N}+", "[0-9][0-9][0-9]"}, 0, 0},
    {{"gpt-2", "mpt", "olmo", "jais"}, {ss_gpt2_regex}, 0, 0},
    {{"llama3", "llama-v3", "llama-bpe", "falcon3"}, {re_llama3}, 1, 1},
    {{"qwen2", "deepseek-r1-qwen"}, {re_qwen2}, 0, 0},
    {{"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"},
     {"\\p{N}", ss_gpt2_regex}, 0, 0},
};

static const pre_type *find_pre(const char *name)
{
    for (size_t i = 0; i < sizeof pre_types / sizeof pre_types[0]; i++)
        for (int k = 0; k < 8 && pre_types[i].names[k]; k++)
            if (strcmp(pre_types[i].names[k], name) == 0)
                return &pre_types[i];
    return NULL;
}

static const ss_gguf_kv *array_kv(const ss_gguf *g, const char *key, ss_gguf_type et,
                                  uint64_t want_len, int required, ss_code *rc, ss_error *err)
{
    const ss_gguf_kv *kv = ss_gguf_find(g, key);
    *rc = SS_OK;
    if (!kv) {
        if (required)
            *rc = ss_fail(err, SS_ERR_MISSING, "%s: GGUF key '%s' is missing", g->path, key);
        return NULL;
    }
    int ok = kv->type == SS_GGUF_ARRAY &&
             (et == SS_GGUF_STRING ? kv->arr_type == SS_GGUF_STRING
                                   : kv->arr_type != SS_GGUF_STRING && kv->nums != NULL);
    if (!ok) {
        *rc = ss_fail(err, SS_ERR_FORMAT, "%s: GGUF key '%s' must be an array of %s", g->path,
                      key, et == SS_GGUF_STRING ? "strings" : "numbers");
        return NULL;
    }
    if (want_len && kv->arr_len != want_len) {
        *rc = ss_fail(err, SS_ERR_FORMAT, "%s: GGUF key '%s' has %llu entries, expected %llu "
                      "(one per token)", g->path, key, (unsigned long long)kv->arr_len,
                      (unsigned long long)want_len);
        return NULL;
    }
    return kv;
}

/* Optional integer/bool key; absent keeps *v. llama.cpp ignores special
 * token ids outside the vocabulary (e.g. 4294967295 = "none"). */
static void opt_int(const ss_gguf *g, const char *key, int64_t lo, int64_t hi, int32_t *v)
{
    const ss_gguf_kv *kv = ss_gguf_find(g, key);
    if (!kv)
        return;
    int64_t x;
    if (kv->type == SS_GGUF_BOOL) {
        x = kv->num.u != 0;
    } else {
        ss_error e = {0};
        if (ss_gguf_get_int(g, key, &x, &e))
            return;
    }
    if (x >= lo && x <= hi)
        *v = (int32_t)x;
}

static ss_code load_merges(ss_tokenizer *t, const ss_gguf *g, ss_error *err)
{
    ss_code rc;
    const ss_gguf_kv *m = array_kv(g, "tokenizer.ggml.merges", SS_GGUF_STRING, 0, 1, &rc, err);
    if (!m)
        return rc;
    if (m->arr_len > INT32_MAX)
        return ss_fail(err, SS_ERR_FORMAT, "%s: %llu merges", g->path,
                       (unsigned long long)m->arr_len);
    rc = ss_merges_init(&t->merges, (size_t)m->arr_len, err);
    for (uint64_t i = 0; i < m->arr_len && !rc; i++) {
        const char *s = m->strs[i];
        size_t n = (size_t)m->str_lens[i];
        /* llama.cpp: word.find(' ', 1), so a first part " " is allowed */
        const char *sp = n > 1 ? memchr(s + 1, ' ', n - 1) : NULL;
        if (!sp)
            continue;
        size_t la = (size_t)(sp - s), lb = n - la - 1;
        int32_t a = ss_vocab_find(&t->vocab, s, la), b = ss_vocab_find(&t->vocab, sp + 1, lb);
        int32_t ab = ss_vocab_find2(&t->vocab, s, la, sp + 1, lb);
        /* a merge whose parts or result are not tokens could only join
         * intermediate non-token symbols; real vocabularies have none */
        if (a < 0 || b < 0 || ab < 0)
            continue;
        rc = ss_merges_add(&t->merges, a, b, (int32_t)i, ab, 0, err);
    }
    return rc;
}

static ss_code setup_pre(ss_tokenizer *t, const ss_gguf *g, ss_error *err)
{
    const char *pre = "default";
    const ss_gguf_kv *kv = ss_gguf_find(g, "tokenizer.ggml.pre");
    if (kv && kv->type == SS_GGUF_STRING)
        pre = kv->str;
    const pre_type *p = find_pre(pre);
    if (!p)
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: tokenizer.ggml.pre '%s' is not supported "
                       "(supported: default, gpt-2, mpt, olmo, jais, llama3, llama-v3, llama-bpe, "
                       "falcon3, qwen2, deepseek-r1-qwen, smollm, starcoder, refact, command-r, "
                       "codeshell, exaone, minerva)", g->path, pre);
    t->ignore_merges = p->ignore_merges;
    t->adds_bos = p->add_bos;
    int n = 0;
    while (n < 4 && p->regex[n])
        n++;
    t->pretok.steps = ss_calloc((size_t)n + 1, sizeof *t->pretok.steps, "pre-tokenizer", err);
    if (!t->pretok.steps)
        return SS_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        ss_pre_step *st = &t->pretok.steps[t->pretok.n];
        st->kind = SS_PRE_SPLIT_RE;
        st->behavior = SS_SPLIT_ISOLATED;
        ss_code rc = ss_regex_compile(&st->re, p->regex[i], strlen(p->regex[i]), g->path, err);
        if (rc)
            return rc;
        t->pretok.n++;
    }
    t->pretok.steps[t->pretok.n++] = (ss_pre_step){.kind = SS_PRE_BYTE_LEVEL};
    return SS_OK;
}

static ss_code load(ss_tokenizer *t, const ss_gguf *g, ss_error *err)
{
    const char *model;
    ss_code rc = ss_gguf_get_str(g, "tokenizer.ggml.model", &model, err);
    if (rc == SS_ERR_MISSING) {
        ss_error_clear(err);
        return ss_fail(err, SS_ERR_MISSING, "%s: this GGUF has no vocabulary (key "
                       "tokenizer.ggml.model is missing)", g->path);
    }
    if (rc)
        return rc;
    int spm = strcmp(model, "llama") == 0;
    if (!spm && strcmp(model, "gpt2") != 0)
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: tokenizer.ggml.model '%s' is not supported "
                       "(supported: llama = SentencePiece, gpt2 = byte-level BPE)", g->path,
                       model);
    const ss_gguf_kv *toks = array_kv(g, "tokenizer.ggml.tokens", SS_GGUF_STRING, 0, 1, &rc, err);
    if (!toks)
        return rc;
    if (toks->arr_len == 0 || toks->arr_len > (1u << 24))
        return ss_fail(err, SS_ERR_FORMAT, "%s: tokenizer.ggml.tokens has %llu entries "
                       "(expected 1..16777216)", g->path, (unsigned long long)toks->arr_len);
    int n = (int)toks->arr_len;
    const ss_gguf_kv *scores = array_kv(g, "tokenizer.ggml.scores", SS_GGUF_F32, (uint64_t)n, 0,
                                        &rc, err);
    if (rc)
        return rc;
    const ss_gguf_kv *types = array_kv(g, "tokenizer.ggml.token_type", SS_GGUF_I32, (uint64_t)n,
                                       0, &rc, err);
    if (rc)
        return rc;
    t->kind = spm ? SS_TOK_GGUF_SPM : SS_TOK_GGUF_BPE;
    t->n_vocab = n;
    rc = ss_vocab_init(&t->vocab, n, 1, err);
    for (int i = 0; i < n && !rc; i++) {
        rc = ss_vocab_set(&t->vocab, i, toks->strs[i], (size_t)toks->str_lens[i], 1, err);
        t->vocab.score[i] = scores ? (float)scores->nums[i] : 0.0f;
    }
    if (!rc)
        rc = ss_vocab_index(&t->vocab, err);
    if (rc)
        return rc;
    ss_tokenizer_find_byte_tokens(t);

    /* defaults as llama.cpp, then the file's keys */
    if (spm) {
        t->bos_id = 1, t->eos_id = 2, t->unk_id = 0;
        t->adds_bos = 1;
        t->add_space_prefix = 1;
    } else {
        t->bos_id = 11, t->eos_id = 11, t->unk_id = -1;
        if ((rc = load_merges(t, g, err)) || (rc = setup_pre(t, g, err)))
            return rc;
    }
    if (t->bos_id >= n)
        t->bos_id = -1;
    if (t->eos_id >= n)
        t->eos_id = -1;
    if (t->unk_id >= n)
        t->unk_id = -1;
    opt_int(g, "tokenizer.ggml.bos_token_id", 0, n - 1, &t->bos_id);
    opt_int(g, "tokenizer.ggml.eos_token_id", 0, n - 1, &t->eos_id);
    opt_int(g, "tokenizer.ggml.unknown_token_id", 0, n - 1, &t->unk_id);
    int32_t v = t->adds_bos;
    opt_int(g, "tokenizer.ggml.add_bos_token", 0, 1, &v);
    t->adds_bos = v;
    v = t->add_space_prefix;
    opt_int(g, "tokenizer.ggml.add_space_prefix", 0, 1, &v);
    t->add_space_prefix = spm && v;

    /* user-defined tokens are split out of the text before the model */
    int n_user = 0;
    for (int i = 0; types && i < n; i++)
        n_user += types->nums[i] == SS_TOKT_USER_DEFINED;
    if (n_user) {
        t->added.tok = ss_calloc((size_t)n_user, sizeof *t->added.tok, "added tokens", err);
        if (!t->added.tok)
            return SS_ERR_NOMEM;
        for (int i = 0; i < n; i++) {
            if (types->nums[i] != SS_TOKT_USER_DEFINED)
                continue;
            ss_added_token *a = &t->added.tok[t->added.n++];
            a->len = (size_t)toks->str_lens[i];
            a->content = ss_calloc(a->len + 1, 1, "added token", err);
            if (!a->content)
                return SS_ERR_NOMEM;
            memcpy(a->content, toks->strs[i], a->len);
            a->id = i;
        }
    }
    return ss_added_index(&t->added, err);
}

ss_code ss_tokenizer_from_gguf(const ss_gguf *g, ss_tokenizer **out, ss_error *err)
{
    *out = NULL;
    ss_tokenizer *t = ss_tokenizer_alloc(err);
    if (!t)
        return SS_ERR_NOMEM;
    ss_code rc = load(t, g, err);
    if (rc) {
        ss_tokenizer_free(t);
        return rc;
    }
    *out = t;
    return SS_OK;
}
