/* Hugging Face tokenizer.json (tokenizers' serialisation) with model type
 * BPE: model.vocab / model.merges (strings "a b" or pairs [a, b]),
 * byte_fallback, unk_token + fuse_unk, ignore_merges; added_tokens; the
 * normalizer and pre_tokenizer trees; BOS from a TemplateProcessing
 * post-processor, and the decoder for decoding. Everything else in the file (padding,
 * truncation) does not change encoding and is not read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "io/atomic_file.h"
#include "io/json.h"
#include "tokenizer/tok_internal.h"

#define MAX_ID (1 << 24)

typedef struct {
    const char *file;
    ss_tokenizer *t;
    ss_error *err;
} ctx;

static ss_code bad(ctx *c, ss_code code, const char *where, const char *what)
{
    return ss_fail(c->err, code, "%s: %s: %s", c->file, where, what);
}

static const char *str_or(const cJSON *o, const char *key, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : def;
}

/* A boolean field: absent/null -> def; anything but true/false -> error. */
static ss_code get_bool(ctx *c, const cJSON *o, const char *where, const char *key, int def,
                        int *v)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    *v = def;
    if (!it || cJSON_IsNull(it))
        return SS_OK;
    if (!cJSON_IsBool(it))
        return ss_fail(c->err, SS_ERR_FORMAT, "%s: %s.%s must be true or false", c->file, where,
                       key);
    *v = cJSON_IsTrue(it);
    return SS_OK;
}

static int as_id(const cJSON *v, int32_t *id)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < 0 || d >= MAX_ID)
        return 0;
    *id = (int32_t)d;
    return 1;
}

/* {"String": s} or {"Regex": r} */
static ss_code get_pattern(ctx *c, const cJSON *o, const char *where, const char **s, int *is_re)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "pattern");
    const cJSON *str = cJSON_GetObjectItemCaseSensitive(p, "String");
    const cJSON *re = cJSON_GetObjectItemCaseSensitive(p, "Regex");
    if (cJSON_IsString(str)) {
        *s = str->valuestring, *is_re = 0;
        return SS_OK;
    }
    if (cJSON_IsString(re)) {
        *s = re->valuestring, *is_re = 1;
        return SS_OK;
    }
    return bad(c, SS_ERR_FORMAT, where, "expected \"pattern\": {\"String\": ...} or "
               "{\"Regex\": ...}");
}

static char *dup_str(ctx *c, const char *s, size_t *len)
{
    *len = strlen(s);
    char *d = ss_calloc(*len + 1, 1, "tokenizer.json string", c->err);
    if (d)
        memcpy(d, s, *len);
    return d;
}

/* ---- normalizer ---- */

static ss_code add_norm(ctx *c, ss_norm_step st, ss_error *err)
{
    ss_normalizer *nz = &c->t->norm;
    ss_norm_step *p = ss_realloc_array(nz->steps, (size_t)nz->n + 1, sizeof *p, "normalizer", err);
    if (!p) {
        free(st.a);
        free(st.b);
        ss_regex_free(&st.re);
        return SS_ERR_NOMEM;
    }
    nz->steps = p;
    nz->steps[nz->n++] = st;
    return SS_OK;
}

static ss_code parse_normalizer(ctx *c, const cJSON *o, int depth)
{
    if (!o || cJSON_IsNull(o))
        return SS_OK;
    const char *where = "normalizer";
    const char *type = str_or(o, "type", NULL);
    if (!cJSON_IsObject(o) || !type)
        return bad(c, SS_ERR_FORMAT, where, "expected an object with a string \"type\"");
    if (depth > 8)
        return bad(c, SS_ERR_FORMAT, where, "Sequence nested too deeply");
    ss_norm_step st = {0};
    ss_code rc = SS_OK;
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "normalizers");
        if (!cJSON_IsArray(list))
            return bad(c, SS_ERR_FORMAT, where, "Sequence needs an array \"normalizers\"");
        const cJSON *it;
        cJSON_ArrayForEach(it, list)
        if ((rc = parse_normalizer(c, it, depth + 1)))
            return rc;
        return SS_OK;
    } else if (strcmp(type, "Prepend") == 0) {
        const char *p = str_or(o, "prepend", NULL);
        if (!p)
            return bad(c, SS_ERR_FORMAT, where, "Prepend needs a string \"prepend\"");
        st.kind = SS_NORM_PREPEND;
        if (!(st.a = dup_str(c, p, &st.alen)))
            return SS_ERR_NOMEM;
    } else if (strcmp(type, "Replace") == 0) {
        const char *pat, *content = str_or(o, "content", NULL);
        int is_re;
        if ((rc = get_pattern(c, o, "normalizer Replace", &pat, &is_re)))
            return rc;
        if (!content)
            return bad(c, SS_ERR_FORMAT, where, "Replace needs a string \"content\"");
        st.kind = is_re ? SS_NORM_REPLACE_RE : SS_NORM_REPLACE_STR;
        if (!(st.a = dup_str(c, pat, &st.alen)) || !(st.b = dup_str(c, content, &st.blen))) {
            free(st.a);
            return SS_ERR_NOMEM;
        }
        if (is_re && (rc = ss_regex_compile(&st.re, pat, st.alen, c->file, c->err))) {
            free(st.a);
            free(st.b);
            return rc;
        }
    } else if (strcmp(type, "NFC") == 0) {
        st.kind = SS_NORM_NFC;
    } else if (strcmp(type, "NFD") == 0) {
        st.kind = SS_NORM_NFD;
    } else if (strcmp(type, "NFKC") == 0) {
        st.kind = SS_NORM_NFKC;
    } else if (strcmp(type, "NFKD") == 0) {
        st.kind = SS_NORM_NFKD;
    } else if (strcmp(type, "Lowercase") == 0) {
        st.kind = SS_NORM_LOWERCASE;
    } else if (strcmp(type, "StripAccents") == 0) {
        st.kind = SS_NORM_STRIP_ACCENTS;
    } else if (strcmp(type, "Strip") == 0) {
        st.kind = SS_NORM_STRIP;
        if ((rc = get_bool(c, o, "normalizer Strip", "strip_left", 1, &st.left)) ||
            (rc = get_bool(c, o, "normalizer Strip", "strip_right", 1, &st.right)))
            return rc;
    } else {
        return ss_fail(c->err, SS_ERR_UNSUPPORTED, "%s: normalizer type \"%s\" is not supported "
                       "(supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, "
                       "Strip, StripAccents)", c->file, type);
    }
    return add_norm(c, st, c->err);
}

/* ---- pre-tokenizer ---- */

static ss_code add_pre(ctx *c, ss_pre_step st)
{
    ss_pretok *pt = &c->t->pretok;
    ss_pre_step *p = ss_realloc_array(pt->steps, (size_t)pt->n + 1, sizeof *p, "pre-tokenizer",
                                      c->err);
    if (!p) {
        ss_regex_free(&st.re);
        free(st.lit);
        return SS_ERR_NOMEM;
    }
    pt->steps = p;
    pt->steps[pt->n++] = st;
    return SS_OK;
}

static ss_code parse_behavior(ctx *c, const cJSON *o, const char *where, ss_split_behavior def,
                              ss_split_behavior *b)
{
    static const char *names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext",
                                  "Contiguous"};
    const char *s = str_or(o, "behavior", NULL);
    *b = def;
    if (!s)
        return SS_OK;
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) {
            *b = (ss_split_behavior)i;
            return SS_OK;
        }
    return ss_fail(c->err, SS_ERR_FORMAT, "%s: %s: behavior \"%s\" is not one of Removed, "
                   "Isolated, MergedWithPrevious, MergedWithNext, Contiguous", c->file, where, s);
}

static ss_code parse_pretok(ctx *c, const cJSON *o, int depth)
{
    if (!o || cJSON_IsNull(o))
        return SS_OK;
    const char *where = "pre_tokenizer";
    const char *type = str_or(o, "type", NULL);
    if (!cJSON_IsObject(o) || !type)
        return bad(c, SS_ERR_FORMAT, where, "expected an object with a string \"type\"");
    if (depth > 8)
        return bad(c, SS_ERR_FORMAT, where, "Sequence nested too deeply");
    ss_pre_step st = {0};
    ss_code rc = SS_OK;
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "pretokenizers");
        if (!cJSON_IsArray(list))
            return bad(c, SS_ERR_FORMAT, where, "Sequence needs an array \"pretokenizers\"");
        const cJSON *it;
        cJSON_ArrayForEach(it, list)
        if ((rc = parse_pretok(c, it, depth + 1)))
            return rc;
        return SS_OK;
    } else if (strcmp(type, "Split") == 0) {
        const char *pat;
        int is_re;
        if ((rc = get_pattern(c, o, "pre_tokenizer Split", &pat, &is_re)) ||
            (rc = parse_behavior(c, o, "pre_tokenizer Split", SS_SPLIT_ISOLATED, &st.behavior)) ||
            (rc = get_bool(c, o, "pre_tokenizer Split", "invert", 0, &st.invert)))
            return rc;
        st.kind = is_re ? SS_PRE_SPLIT_RE : SS_PRE_SPLIT_STR;
        if (is_re)
            rc = ss_regex_compile(&st.re, pat, strlen(pat), c->file, c->err);
        else if (!(st.lit = dup_str(c, pat, &st.lit_len)))
            rc = SS_ERR_NOMEM;
        if (rc)
            return rc;
    } else if (strcmp(type, "ByteLevel") == 0) {
        st.kind = SS_PRE_BYTE_LEVEL;
        if ((rc = get_bool(c, o, "pre_tokenizer ByteLevel", "add_prefix_space", 1,
                           &st.add_prefix_space)) ||
            (rc = get_bool(c, o, "pre_tokenizer ByteLevel", "use_regex", 1, &st.use_regex)))
            return rc;
        if (st.use_regex &&
            (rc = ss_regex_compile(&st.re, ss_gpt2_regex, strlen(ss_gpt2_regex), c->file, c->err)))
            return rc;
    } else if (strcmp(type, "Digits") == 0) {
        st.kind = SS_PRE_DIGITS;
        if ((rc = get_bool(c, o, "pre_tokenizer Digits", "individual_digits", 0,
                           &st.individual)))
            return rc;
    } else if (strcmp(type, "Metaspace") == 0) {
        st.kind = SS_PRE_METASPACE;
        const char *rep = str_or(o, "replacement", "\xe2\x96\x81");
        const char *scheme = str_or(o, "prepend_scheme", NULL);
        int legacy_prefix;
        if ((rc = get_bool(c, o, "pre_tokenizer Metaspace", "add_prefix_space", 1,
                           &legacy_prefix)) ||
            (rc = get_bool(c, o, "pre_tokenizer Metaspace", "split", 1, &st.split)))
            return rc;
        st.prepend = legacy_prefix ? SS_PREPEND_ALWAYS : SS_PREPEND_NEVER;
        if (scheme && strcmp(scheme, "always") == 0)
            st.prepend = SS_PREPEND_ALWAYS;
        else if (scheme && strcmp(scheme, "first") == 0)
            st.prepend = SS_PREPEND_FIRST;
        else if (scheme && strcmp(scheme, "never") == 0)
            st.prepend = SS_PREPEND_NEVER;
        else if (scheme)
            return ss_fail(c->err, SS_ERR_FORMAT, "%s: pre_tokenizer Metaspace: prepend_scheme "
                           "\"%s\" is not one of always, first, never", c->file, scheme);
        if (!*rep)
            return bad(c, SS_ERR_FORMAT, where, "Metaspace replacement is empty");
        if (!(st.lit = dup_str(c, rep, &st.lit_len)))
            return SS_ERR_NOMEM;
    } else if (strcmp(type, "Whitespace") == 0) {
        /* HF: split on \w+|[^\w\s]+ inverted, Removed (keeps the matches) */
        static const char re[] = "\\w+|[^\\w\\s]+";
        st.kind = SS_PRE_SPLIT_RE;
        st.behavior = SS_SPLIT_REMOVED;
        st.invert = 1;
        if ((rc = ss_regex_compile(&st.re, re, strlen(re), c->file, c->err)))
            return rc;
    } else if (strcmp(type, "WhitespaceSplit") == 0) {
        st.kind = SS_PRE_WHITESPACE_SPLIT;
        st.behavior = SS_SPLIT_REMOVED;
    } else if (strcmp(type, "Punctuation") == 0) {
        st.kind = SS_PRE_PUNCTUATION;
        if ((rc = parse_behavior(c, o, "pre_tokenizer Punctuation", SS_SPLIT_ISOLATED,
                                 &st.behavior)))
            return rc;
    } else {
        return ss_fail(c->err, SS_ERR_UNSUPPORTED, "%s: pre_tokenizer type \"%s\" is not "
                       "supported (supported: Sequence, Split, ByteLevel, Digits, Metaspace, "
                       "Whitespace, WhitespaceSplit, Punctuation)", c->file, type);
    }
    return add_pre(c, st);
}

/* ---- model ---- */

static ss_code parse_vocab(ctx *c, const cJSON *model, const cJSON *added)
{
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!cJSON_IsObject(vocab))
        return bad(c, SS_ERR_FORMAT, "model.vocab", "expected an object {piece: id}");
    int32_t max_id = -1, id;
    const cJSON *it;
    cJSON_ArrayForEach(it, vocab)
    {
        if (!as_id(it, &id))
            return ss_fail(c->err, SS_ERR_FORMAT, "%s: model.vocab[\"%.60s\"]: expected an "
                           "integer id 0..%d", c->file, it->string ? it->string : "",
                           MAX_ID - 1);
        if (id > max_id)
            max_id = id;
    }
    cJSON_ArrayForEach(it, added)
    {
        if (!as_id(cJSON_GetObjectItemCaseSensitive(it, "id"), &id) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "content")))
            return bad(c, SS_ERR_FORMAT, "added_tokens",
                       "every entry needs an integer \"id\" and a string \"content\"");
        if (id > max_id)
            max_id = id;
    }
    if (max_id < 0)
        return bad(c, SS_ERR_FORMAT, "model.vocab", "the vocabulary is empty");
    /* ids are dense in real files; a few entries claiming id 16 million
     * would otherwise allocate tables for 16 million tokens */
    long long entries = (long long)cJSON_GetArraySize(vocab) + cJSON_GetArraySize(added);
    if (max_id >= 2 * entries + 1024)
        return ss_fail(c->err, SS_ERR_FORMAT, "%s: model.vocab / added_tokens: ids go up to %d "
                       "but there are only %lld entries (expected ids 0..N-1)", c->file, max_id,
                       entries);
    ss_tokenizer *t = c->t;
    t->n_vocab = max_id + 1;
    ss_code rc = ss_vocab_init(&t->vocab, max_id + 1, 0, c->err);
    /* added tokens missing from model.vocab keep their text for display;
     * model lookups only see model.vocab, as in HF */
    cJSON_ArrayForEach(it, added)
    {
        if (rc)
            break;
        as_id(cJSON_GetObjectItemCaseSensitive(it, "id"), &id);
        const char *s = cJSON_GetObjectItemCaseSensitive(it, "content")->valuestring;
        rc = ss_vocab_set(&t->vocab, id, s, strlen(s), 0, c->err);
    }
    cJSON_ArrayForEach(it, vocab)
    {
        if (rc)
            break;
        as_id(it, &id);
        rc = ss_vocab_set(&t->vocab, id, it->string, strlen(it->string), 1, c->err);
    }
    return rc ? rc : ss_vocab_index(&t->vocab, c->err);
}

static ss_code parse_merges(ctx *c, const cJSON *model)
{
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!merges || cJSON_IsNull(merges))
        merges = NULL;
    else if (!cJSON_IsArray(merges))
        return bad(c, SS_ERR_FORMAT, "model.merges", "expected an array");
    int n = merges ? cJSON_GetArraySize(merges) : 0;
    ss_tokenizer *t = c->t;
    ss_code rc = ss_merges_init(&t->merges, (size_t)n, c->err);
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, merges)
    {
        if (rc)
            break;
        const char *a = NULL, *b = NULL;
        size_t la = 0, lb = 0;
        if (cJSON_IsString(it)) {
            const char *s = it->valuestring, *sp = strchr(s, ' ');
            if (sp && !strchr(sp + 1, ' ')) {
                a = s, la = (size_t)(sp - s);
                b = sp + 1, lb = strlen(b);
            }
        } else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2 &&
                   cJSON_IsString(cJSON_GetArrayItem(it, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(it, 1))) {
            a = cJSON_GetArrayItem(it, 0)->valuestring, la = strlen(a);
            b = cJSON_GetArrayItem(it, 1)->valuestring, lb = strlen(b);
        }
        if (!a)
            return ss_fail(c->err, SS_ERR_FORMAT, "%s: model.merges[%d]: expected \"A B\" (one "
                           "space) or a pair [\"A\", \"B\"]", c->file, i);
        int32_t ia = ss_vocab_find(&t->vocab, a, la), ib = ss_vocab_find(&t->vocab, b, lb);
        int32_t iab = ss_vocab_find2(&t->vocab, a, la, b, lb);
        if (ia < 0 || ib < 0)
            return ss_fail(c->err, SS_ERR_FORMAT, "%s: model.merges[%d]: \"%.*s\" is not in "
                           "model.vocab", c->file, i, (int)(ia < 0 ? la : lb), ia < 0 ? a : b);
        if (iab < 0)
            return ss_fail(c->err, SS_ERR_FORMAT, "%s: model.merges[%d]: the merged piece "
                           "\"%.*s%.*s\" is not in model.vocab", c->file, i, (int)la, a, (int)lb,
                           b);
        /* HF collects merges into a HashMap: a repeated pair keeps the later rank */
        rc = ss_merges_add(&t->merges, ia, ib, i, iab, 1, c->err);
        i++;
    }
    return rc;
}

static ss_code parse_model(ctx *c, const cJSON *model, const cJSON *added)
{
    ss_tokenizer *t = c->t;
    const char *type = str_or(model, "type", NULL);
    if (type && strcmp(type, "BPE") != 0)
        return ss_fail(c->err, SS_ERR_UNSUPPORTED, "%s: model.type \"%s\" is not supported (only "
                       "BPE: byte-level or SentencePiece-style with byte_fallback)", c->file,
                       type);
    if (!type && !cJSON_GetObjectItemCaseSensitive(model, "merges"))
        return bad(c, SS_ERR_FORMAT, "model", "no \"type\" and no \"merges\": not a BPE model");
    ss_code rc;
    const char *where = "model";
    if ((rc = get_bool(c, model, where, "byte_fallback", 0, &t->byte_fallback)) ||
        (rc = get_bool(c, model, where, "fuse_unk", 0, &t->fuse_unk)) ||
        (rc = get_bool(c, model, where, "ignore_merges", 0, &t->ignore_merges)))
        return rc;
    const char *prefix = str_or(model, "continuing_subword_prefix", "");
    const char *suffix = str_or(model, "end_of_word_suffix", "");
    if (*prefix || *suffix)
        return bad(c, SS_ERR_UNSUPPORTED, where, "continuing_subword_prefix / end_of_word_suffix "
                   "are not supported");
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (cJSON_IsNumber(dropout) && dropout->valuedouble > 0)
        return bad(c, SS_ERR_UNSUPPORTED, where, "BPE dropout makes encoding random: not "
                   "supported");
    if ((rc = parse_vocab(c, model, added)) || (rc = parse_merges(c, model)))
        return rc;
    const char *unk = str_or(model, "unk_token", NULL);
    if (unk) {
        t->unk_id = ss_vocab_find(&t->vocab, unk, strlen(unk));
        if (t->unk_id < 0)
            return ss_fail(c->err, SS_ERR_FORMAT, "%s: model.unk_token \"%.60s\" is not in "
                           "model.vocab", c->file, unk);
    }
    ss_tokenizer_find_byte_tokens(t);
    return SS_OK;
}

/* ---- added tokens ---- */

static ss_code parse_added(ctx *c, const cJSON *added)
{
    ss_added *a = &c->t->added;
    int n = cJSON_GetArraySize(added);
    if (n > 0) {
        a->tok = ss_calloc((size_t)n, sizeof *a->tok, "added tokens", c->err);
        if (!a->tok)
            return SS_ERR_NOMEM;
    }
    const cJSON *it;
    ss_buf norm = {0};
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    ss_code rc = md ? SS_OK : ss_fail(c->err, SS_ERR_NOMEM, "added tokens: out of memory");
    cJSON_ArrayForEach(it, added)
    {
        if (rc)
            break;
        ss_added_token *t = &a->tok[a->n];
        int lstrip, rstrip, single, normalized, special;
        const char *w = "added_tokens[]";
        if ((rc = get_bool(c, it, w, "lstrip", 0, &lstrip)) ||
            (rc = get_bool(c, it, w, "rstrip", 0, &rstrip)) ||
            (rc = get_bool(c, it, w, "single_word", 0, &single)) ||
            (rc = get_bool(c, it, w, "special", 0, &special)) ||
            (rc = get_bool(c, it, w, "normalized", !special, &normalized)))
            break;
        as_id(cJSON_GetObjectItemCaseSensitive(it, "id"), &t->id);
        const char *s = cJSON_GetObjectItemCaseSensitive(it, "content")->valuestring;
        size_t len = strlen(s);
        /* normalized tokens are matched in normalized text, so their content
         * is normalized too (HF AddedVocabulary::refresh_added_tokens) */
        if (normalized) {
            if ((rc = ss_normalize(&c->t->norm, md, s, len, &norm, c->err))) {
                ss_error_prefix(c->err, "%s: added token %d", c->file, a->n);
                break;
            }
            s = norm.p, len = norm.n;
        }
        t->content = ss_calloc(len + 1, 1, "added token", c->err);
        if (!t->content) {
            rc = SS_ERR_NOMEM;
            break;
        }
        memcpy(t->content, s, len);
        t->len = len;
        t->lstrip = (uint8_t)lstrip, t->rstrip = (uint8_t)rstrip;
        t->single_word = (uint8_t)single, t->normalized = (uint8_t)normalized;
        a->n++;
    }
    if (md)
        pcre2_match_data_free(md);
    ss_buf_free(&norm);
    return rc ? rc : ss_added_index(a, c->err);
}

/* ---- BOS / EOS ---- */

static const cJSON *find_template(const cJSON *pp, int depth)
{
    const char *type = str_or(pp, "type", NULL);
    if (!type || depth > 4)
        return NULL;
    if (strcmp(type, "TemplateProcessing") == 0)
        return pp;
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(pp, "processors"))
        {
            const cJSON *found = find_template(it, depth + 1);
            if (found)
                return found;
        }
    }
    return NULL;
}

static int32_t find_added(const ss_added *a, const char *const *names)
{
    for (int k = 0; names[k]; k++)
        for (int i = 0; i < a->n; i++)
            if (strcmp(a->tok[i].content, names[k]) == 0)
                return a->tok[i].id;
    return -1;
}

/* The decoder, as far as decoding needs it (decode.c): which alphabet the
 * pieces are in and how many leading spaces the encoder added. Decoders
 * this does not know (WordPiece, CTC) decode as the pieces joined. Files
 * without a decoder are read by their pre-tokenizer: ByteLevel means the
 * byte-level alphabet, Metaspace the U+2581 one. */
static void parse_decoder(ctx *c, const cJSON *o, int depth)
{
    ss_tokenizer *t = c->t;
    const char *type = str_or(o, "type", NULL);
    if (!type || depth > 8)
        return;
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "decoders"))
        parse_decoder(c, it, depth + 1);
    } else if (strcmp(type, "ByteLevel") == 0) {
        t->dec_byte_level = 1;
    } else if (strcmp(type, "Metaspace") == 0) {
        const char *scheme = str_or(o, "prepend_scheme", NULL);
        const cJSON *aps = cJSON_GetObjectItemCaseSensitive(o, "add_prefix_space");
        t->dec_metaspace = 1;
        if (scheme ? strcmp(scheme, "never") != 0 : !cJSON_IsFalse(aps))
            t->dec_strip_lead = 1;
    } else if (strcmp(type, "Replace") == 0) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(o, "pattern");
        const char *from = str_or(pat, "String", NULL), *to = str_or(o, "content", NULL);
        if (from && to && strcmp(from, "\xe2\x96\x81") == 0 && strcmp(to, " ") == 0)
            t->dec_metaspace = 1;
    } else if (strcmp(type, "Strip") == 0) {
        const cJSON *start = cJSON_GetObjectItemCaseSensitive(o, "start");
        const char *content = str_or(o, "content", " ");
        if (strcmp(content, " ") == 0 && cJSON_IsNumber(start) && start->valuedouble >= 1 &&
            start->valuedouble <= 8)
            t->dec_strip_lead = (uint8_t)start->valuedouble;
    }
}

static void decoder_from_pretok(ss_tokenizer *t)
{
    for (int i = 0; i < t->pretok.n; i++) {
        const ss_pre_step *st = &t->pretok.steps[i];
        if (st->kind == SS_PRE_BYTE_LEVEL)
            t->dec_byte_level = 1;
        if (st->kind == SS_PRE_METASPACE) {
            t->dec_metaspace = 1;
            t->dec_strip_lead = st->prepend != SS_PREPEND_NEVER;
        }
    }
}

static void parse_specials(ctx *c, const cJSON *root)
{
    ss_tokenizer *t = c->t;
    /* without a template, the conventional names; GPT-2 style vocabularies
     * use <|endoftext|> for both ends (as llama.cpp's GGUF conversion does) */
    static const char *const bos_names[] = {"<s>", "<|begin_of_text|>", "<bos>",
                                            "<|startoftext|>", "<|endoftext|>", NULL};
    static const char *const eos_names[] = {"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>",
                                            NULL};
    t->bos_id = find_added(&t->added, bos_names);
    t->eos_id = find_added(&t->added, eos_names);
    /* A template whose single-sequence form starts with a special token
     * adds that token (Llama-2: <s>, Llama-3: <|begin_of_text|>). */
    const cJSON *tp = find_template(cJSON_GetObjectItemCaseSensitive(root, "post_processor"), 0);
    const cJSON *single = tp ? cJSON_GetObjectItemCaseSensitive(tp, "single") : NULL;
    const cJSON *first = cJSON_IsArray(single) ? cJSON_GetArrayItem(single, 0) : NULL;
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(first, "SpecialToken");
    const char *name = str_or(sp, "id", NULL);
    if (!name)
        return;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(tp, "special_tokens"), name);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(st, "ids");
    int32_t id;
    if (cJSON_IsArray(ids) && as_id(cJSON_GetArrayItem(ids, 0), &id) && id < t->n_vocab) {
        t->bos_id = id;
        t->adds_bos = 1;
    }
}

ss_code ss_tokenizer_from_hf_json_bytes(const char *name, const char *bytes, size_t n,
                                        ss_tokenizer **out, ss_error *err)
{
    *out = NULL;
    cJSON *root;
    ss_code rc = ss_json_parse(name, "JSON", bytes, n, &root, err);
    if (rc)
        return rc;
    ctx c = {name, NULL, err};
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!cJSON_IsObject(root) || !cJSON_IsObject(model))
        rc = ss_fail(err, SS_ERR_FORMAT, "%s: not a Hugging Face tokenizer.json (no \"model\" "
                     "object)", name);
    else if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added))
        rc = bad(&c, SS_ERR_FORMAT, "added_tokens", "expected an array");
    if (!rc && !(c.t = ss_tokenizer_alloc(err)))
        rc = SS_ERR_NOMEM;
    if (!rc && !(c.t->name = ss_strdup(name, err)))
        rc = SS_ERR_NOMEM;
    if (!rc) {
        c.t->kind = SS_TOK_HF_BPE;
        if (!cJSON_IsArray(added))
            added = NULL;
        if (!(rc = parse_model(&c, model, added)) &&
            !(rc = parse_normalizer(&c, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), 0)) &&
            !(rc = parse_pretok(&c, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), 0)))
            rc = parse_added(&c, added);
        if (!rc)
            parse_specials(&c, root);
        const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decoder");
        if (!rc && cJSON_IsObject(dec))
            parse_decoder(&c, dec, 0);
        else if (!rc)
            decoder_from_pretok(c.t);
    }
    cJSON_Delete(root);
    if (rc) {
        ss_tokenizer_free(c.t);
        return rc;
    }
    *out = c.t;
    return SS_OK;
}

ss_code ss_tokenizer_from_hf_json(const char *path, ss_tokenizer **out, ss_error *err)
{
    char *data;
    size_t n;
    *out = NULL;
    ss_code rc = ss_read_file(path, (size_t)1 << 30, &data, &n, err);
    if (rc)
        return rc;
    rc = ss_tokenizer_from_hf_json_bytes(path, data, n, out, err);
    free(data);
    return rc;
}
