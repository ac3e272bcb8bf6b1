#include "analysis/source_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/path.h"
#include "common/sha256.h"

/* An absolute path when the file exists (so a resume from another working
 * directory matches), else the path as given. */
cJSON *ss_json_abs_path(const char *path)
{
    if (!path)
        return cJSON_CreateNull();
    char *abs = realpath(path, NULL);
    cJSON *j = cJSON_CreateString(abs ? abs : path);
    free(abs);
    return j;
}

/* The tokenizer text prompts went through: where it was read from, that
 * file's SHA-256 (a folder: its tokenizer.json), and a digest of its
 * vocabulary (every piece in id order, BOS, EOS, whether BOS is added), so
 * a resume or merge with another tokenizer is refused even when the file
 * moved. */
static cJSON *tokenizer_json(const ss_prompt_opts *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "path", ss_json_abs_path(s->tok_path));
    char hex[65], file[4200];
    ss_error ignore = {0};
    const char *f = s->tok_path;
    if (f && ss_is_dir(f)) {
        snprintf(file, sizeof file, "%s/tokenizer.json", f);
        f = file;
    }
    struct stat st;
    /* a model file that carries its vocabulary (GGUF, llama2.c) may be many GB: its
     * vocabulary digest below identifies the tokenizer; only small files are hashed */
    if (f && ss_is_file(f) && stat(f, &st) == 0 && st.st_size <= ((off_t)64 << 20) &&
        ss_sha256_file(f, hex, &ignore) == SS_OK)
        cJSON_AddStringToObject(j, "sha256", hex);
    else
        cJSON_AddNullToObject(j, "sha256");
    ss_sha256 h;
    ss_sha256_init(&h);
    int v = ss_tokenizer_vocab_size(s->tok);
    int32_t head[4] = {v, ss_tokenizer_bos(s->tok), ss_tokenizer_eos(s->tok),
                       ss_tokenizer_adds_bos(s->tok)};
    ss_sha256_update_i32le(&h, head, 4);
    for (int id = 0; id < v; id++) {
        const char *piece = ss_tokenizer_piece(s->tok, id);
        ss_sha256_update(&h, piece ? piece : "", piece ? strlen(piece) + 1 : 1);
    }
    ss_sha256_hex(&h, hex);
    cJSON_AddStringToObject(j, "vocab_sha256", hex);
    return j;
}

cJSON *ss_prompt_source_json(const ss_prompt_opts *s, const char *sha)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "source", ss_source_kind_name(s->kind));
    int synthetic = s->kind == SS_SRC_OOD || s->kind == SS_SRC_REPEAT;
    cJSON_AddItemToObject(j, "path", synthetic ? cJSON_CreateNull() : ss_json_abs_path(s->path));
    cJSON_AddStringToObject(j, "sha256", sha);
    if (s->kind == SS_SRC_JSONL)
        cJSON_AddItemToObject(j, "field", s->field ? cJSON_CreateString(s->field)
                                                   : cJSON_CreateString("context|text"));
    if (!synthetic) {
        cJSON_AddBoolToObject(j, "chunk", s->chunk);
        cJSON_AddNumberToObject(j, "count_limit", (double)s->count);
    }
    if (s->kind == SS_SRC_LINES || s->kind == SS_SRC_JSONL || s->kind == SS_SRC_TXT_DIR)
        cJSON_AddBoolToObject(j, "add_bos", s->add_bos);
    if (synthetic) {
        cJSON_AddNumberToObject(j, "count", (double)s->count);
        /* a 64-bit seed does not fit a JSON number exactly: a string */
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
        cJSON_AddStringToObject(j, "seed", seed);
        cJSON_AddStringToObject(j, "rng", "splitmix64, per-prompt streams (analysis/ood.h)");
        cJSON_AddNumberToObject(j, "vocab", s->vocab);
        cJSON_AddNumberToObject(j, "bos", s->bos);
        if (s->kind == SS_SRC_REPEAT)
            cJSON_AddNumberToObject(j, "segment", s->segment);
        /* the prompts' identity: indices first .. first + count - 1 of this seed */
        cJSON_AddNumberToObject(j, "first", (double)s->first);
    }
    if (s->tok)
        cJSON_AddItemToObject(j, "tokenizer", tokenizer_json(s));
    return j;
}
