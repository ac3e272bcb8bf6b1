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

/* llama.cpp's DBRX / SMAUG (OLMo 2's cl100k-style vocabulary): the Llama 3
 * regex with its case-insensitive contractions spelled out. */
static const char re_dbrx[] =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/* DeepSeek LLM: newlines alone, Latin/Greek/Cyrillic/... letter runs with an
 * optional leading space, ASCII and full-width punctuation runs, trailing
 * whitespace (std::regex "$" is the end of the piece: "\z" here), CJK runs,
 * digit runs. */
static const char re_ds_letters[] =
    "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293"
    "\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c"
    "\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5"
    "\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77"
    "\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57"
    "\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4"
    "\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc"
    "\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d"
    "\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b"
    "\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f"
    "\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a"
    "\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb"
    "\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943]+";
static const char re_ds_punct[] =
    "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+";
static const char re_ds_cjk[] = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";

typedef struct {
    const char *names[8];
    const char *regex[6];
    int ignore_merges, add_bos;
} pre_type;

static const pre_type pre_types[] = {
    {{"default"}, {"[\\p{P}\\$\\+<=>\\^~\\|]+", ss_gpt2_regex, "\\p{N}+", "[0-9][0-9][0-9]"}, 0, 0},
    {{"gpt-2", "mpt", "olmo", "jais"}, {ss_gpt2_regex}, 0, 0},
    {{"llama3", "llama-v3", "llama-bpe", "falcon3"}, {re_llama3}, 1, 1},
    {{"qwen2", "deepseek-r1-qwen"}, {re_qwen2}, 0, 0},
    {{"dbrx", "smaug-bpe"}, {re_dbrx}, 0, 0},
    {{"deepseek-llm"}, {"[\r\n]", re_ds_letters, re_ds_punct, "\\s+\\z", re_ds_cjk, "\\p{N}+"}, 0, 0},
    {{"deepseek-coder"}, {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", re_ds_cjk, "\\p{N}"}, 0, 0},
    {{"falcon"}, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", ss_gpt2_regex, "[0-9][0-9][0-9]"}, 0, 0},
    /* not a llama.cpp name: HF's GPT-NeoX tokenizer.json is ByteLevel with the GPT-2 regex */
    {{"gpt-neox"}, {ss_gpt2_regex}, 0, 0},
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

ss_code ss_gguf_pretok(const char *pre, const char *path, ss_pretok *pt, int *ignore_merges,
                       int *add_bos, ss_error *err)
{
    const pre_type *p = find_pre(pre);
    if (!p)
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: tokenizer.ggml.pre '%s' is not supported "
                       "(supported: default, gpt-2, mpt, olmo, jais, gpt-neox, llama3, llama-v3, "
                       "llama-bpe, falcon3, qwen2, deepseek-r1-qwen, dbrx, smaug-bpe, deepseek-llm, "
                       "deepseek-coder, falcon, smollm, starcoder, refact, command-r, codeshell, "
                       "exaone, minerva)", path, pre);
    *ignore_merges = p->ignore_merges;
    *add_bos = p->add_bos;
    int n = 0;
    while (n < 6 && p->regex[n])
        n++;
    pt->n = 0;
    pt->steps = ss_calloc((size_t)n + 1, sizeof *pt->steps, "pre-tokenizer", err);
    if (!pt->steps)
        return SS_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        ss_pre_step *st = &pt->steps[pt->n];
        st->kind = SS_PRE_SPLIT_RE;
        st->behavior = SS_SPLIT_ISOLATED;
        ss_code rc = ss_regex_compile(&st->re, p->regex[i], strlen(p->regex[i]), path, err);
        if (rc)
            return rc;
        pt->n++;
    }
    pt->steps[pt->n++] = (ss_pre_step){.kind = SS_PRE_BYTE_LEVEL};
    return SS_OK;
}

static ss_code setup_pre(ss_tokenizer *t, const ss_gguf *g, ss_error *err)
{
    const char *pre = "default";
    const ss_gguf_kv *kv = ss_gguf_find(g, "tokenizer.ggml.pre");
    if (kv && kv->type == SS_GGUF_STRING)
        pre = kv->str;
    return ss_gguf_pretok(pre, g->path, &t->pretok, &t->ignore_merges, &t->adds_bos, err);
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
