#include "analysis/prompts.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/ood.h"
#include "common/mem.h"
#include "common/path.h"
#include "common/sha256.h"
#include "common/utf8check.h"
#include "io/atomic_file.h"
#include "io/json.h"
#include "tokenizer/ids.h"

#define TOKEN_MARGIN 64          /* tokens past the cut a prefix must yield */
#define MAX_TEXT_FILE (1u << 30) /* a .txt prompt file larger than this is refused */

struct ss_prompts {
    ss_prompt_opts o;
    char *path, *field;
    FILE *f;
    char *line;
    size_t line_cap;
    char **files; /* SS_SRC_TXT_DIR, sorted */
    int64_t n_files;
    char *mem;         /* a source that is not a regular file, as read once */
    size_t mem_n;
    int from_memory;
    int64_t records, skipped, emitted, total;
    int32_t *win;        /* chunk window */
    int win_n;
    int64_t win_records; /* records in the unfinished window */
    char sha[65];
};

const char *ss_source_kind_name(ss_source_kind k)
{
    switch (k) {
    case SS_SRC_LINES: return "text-lines";
    case SS_SRC_JSONL: return "jsonl";
    case SS_SRC_TXT_DIR: return "txt-folder";
    case SS_SRC_IDS: return "ids-file";
    case SS_SRC_OOD: return "ood";
    case SS_SRC_REPEAT: return "repeat";
    }
    return "?";
}

static int is_synthetic(const ss_prompts *p)
{
    return p->o.kind == SS_SRC_OOD || p->o.kind == SS_SRC_REPEAT;
}

static void synth_prompt(const ss_prompts *p, int64_t k, int32_t *ids)
{
    k += p->o.first;
    if (p->o.kind == SS_SRC_OOD)
        ss_ood_prompt(p->o.seed, k, (uint32_t)p->o.vocab, p->o.bos, ids, p->o.len);
    else
        ss_repeat_prompt(p->o.seed, k, (uint32_t)p->o.vocab, p->o.segment, p->o.bos, ids,
                         p->o.len);
}

/* What one pass over a prompt file learns besides its hash. */
typedef struct {
    int64_t lines;        /* complete lines so far */
    int64_t col;          /* bytes into the current line */
    int first;            /* first non-space byte, -1 before it */
    int numeric;          /* every byte so far is a digit or a separator */
    ss_utf8_check u;
} scan_state;

static ss_code bad_byte(const char *name, const scan_state *st, const char *what,
                        ss_error *err)
{
    return ss_fail(err, SS_ERR_FORMAT, "%s:%lld: %s at byte %lld of the line (prompt files "
                   "must be UTF-8 text%s)", name, (long long)st->lines + 1, what,
                   (long long)st->col + 1,
                   st->lines == 0 && st->col < 2 ? "; UTF-16? convert it with iconv -f UTF-16 "
                                                   "-t UTF-8" : "");
}

/* Checks a block of the file: no NUL byte anywhere (it would end the line
 * for every C string reader downstream: a silent cut), valid UTF-8 for the
 * text kinds, and whether the lines are all numbers (token ids given to
 * --prompts). */
static ss_code scan_block(const char *name, int text, scan_state *st, const unsigned char *b,
                          size_t n, ss_error *err)
{
    for (size_t i = 0; i < n; i++, st->col++) {
        unsigned char c = b[i];
        if (c == 0)
            return bad_byte(name, st, "a NUL byte", err);
        if (text && !ss_utf8_feed(&st->u, c))
            return bad_byte(name, st, "invalid UTF-8", err);
        if (c == '\n') {
            st->lines++;
            st->col = -1;
            continue;
        }
        int space = c == ' ' || c == '\r' || c == '\t';
        if (st->first < 0 && !space)
            st->first = c;
        if (!space && c != ',' && (c < '0' || c > '9'))
            st->numeric = 0;
    }
    return SS_OK;
}

/* Hash, count and check the lines of a file in one pass. A regular file is
 * read again by ss_prompts_seek; anything else (a pipe, /dev/stdin, a
 * process substitution) can be read only once, so its bytes are kept in
 * memory as they are hashed and served from there. JSONL sources must not
 * be a JSON array (LongBench v2's data.json is one: convert it first). */
static ss_code hash_file(ss_prompts *p, ss_error *err)
{
    FILE *f = fopen(p->path, "rb");
    if (!f)
        return ss_fail(err, SS_ERR_IO, "%s: cannot open prompts: %s", p->path, strerror(errno));
    struct stat fst;
    int keep = fstat(fileno(f), &fst) == 0 && !S_ISREG(fst.st_mode);
    ss_sha256 s;
    ss_sha256_init(&s);
    unsigned char buf[1 << 16];
    size_t got, mem_cap = 0;
    int last = '\n';
    scan_state st = {.first = -1, .numeric = 1};
    ss_code rc = SS_OK;
    while (!rc && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        ss_sha256_update(&s, buf, got);
        rc = scan_block(p->path, p->o.kind != SS_SRC_IDS, &st, buf, got, err);
        last = buf[got - 1];
        if (!rc && keep) {
            if (p->mem_n + got > MAX_TEXT_FILE)
                rc = ss_fail(err, SS_ERR_VALUE, "%s: more than %u bytes from a pipe (kept in "
                             "memory to be read once): write it to a file", p->path, MAX_TEXT_FILE);
            else if (p->mem_n + got > mem_cap) {
                mem_cap = mem_cap ? 2 * mem_cap : sizeof buf;
                while (mem_cap < p->mem_n + got)
                    mem_cap *= 2;
                char *grown = ss_realloc_array(p->mem, mem_cap, 1, "prompts from a pipe", err);
                if (!grown)
                    rc = SS_ERR_NOMEM;
                else
                    p->mem = grown;
            }
            if (!rc) {
                memcpy(p->mem + p->mem_n, buf, got);
                p->mem_n += got;
            }
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (rc)
        return rc;
    if (bad)
        return ss_fail(err, SS_ERR_IO, "%s: read error", p->path);
    if (p->o.kind != SS_SRC_IDS && st.u.need)
        return bad_byte(p->path, &st, "invalid UTF-8 (a character cut at the end of the file)",
                        err);
    ss_sha256_hex(&s, p->sha);
    p->from_memory = keep;
    p->total = st.lines + (last != '\n');
    if (p->o.kind == SS_SRC_JSONL && st.first == '[')
        return ss_fail(err, SS_ERR_FORMAT,
                       "%s: a JSON array, expected JSONL (one object per line); convert it "
                       "with: jq -c '.[]' %s > prompts.jsonl", p->path, p->path);
    if (st.first < 0)
        return ss_fail(err, SS_ERR_VALUE, "%s: no prompts (the file is empty)", p->path);
    if (p->o.kind == SS_SRC_LINES && st.numeric)
        return ss_fail(err, SS_ERR_USAGE, "%s: every line is numbers only: these look like token "
                       "ids, not text; pass them with --ids-file %s", p->path, p->path);
    return SS_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folder's .txt files in byte order, and the hash of their sha256sum
 * listing. */
static ss_code list_folder(ss_prompts *p, ss_error *err)
{
    DIR *d = opendir(p->path);
    if (!d)
        return ss_fail(err, SS_ERR_IO, "%s: cannot open folder: %s", p->path, strerror(errno));
    int64_t cap = 0;
    struct dirent *e;
    ss_code rc = SS_OK;
    while (rc == SS_OK && (e = readdir(d)) != NULL) {
        if (strlen(e->d_name) <= 4 || !ss_ends_with(e->d_name, ".txt"))
            continue;
        char full[4096];
        struct stat st;
        snprintf(full, sizeof full, "%s/%s", p->path, e->d_name);
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (p->n_files == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = ss_realloc_array(p->files, (size_t)cap, sizeof *grown, "file list", err);
            if (!grown) {
                rc = SS_ERR_NOMEM;
                break;
            }
            p->files = grown;
        }
        p->files[p->n_files] = ss_strdup(e->d_name, err);
        if (!p->files[p->n_files])
            rc = SS_ERR_NOMEM;
        else
            p->n_files++;
    }
    closedir(d);
    if (rc)
        return rc;
    if (p->n_files == 0)
        return ss_fail(err, SS_ERR_VALUE, "%s: no .txt files in the folder", p->path);
    qsort(p->files, (size_t)p->n_files, sizeof *p->files, by_name);
    ss_sha256 listing;
    ss_sha256_init(&listing);
    for (int64_t i = 0; i < p->n_files; i++) {
        char full[4096], hex[65];
        snprintf(full, sizeof full, "%s/%s", p->path, p->files[i]);
        rc = ss_sha256_file(full, hex, err);
        if (rc)
            return rc;
        ss_sha256_update(&listing, hex, 64);
        ss_sha256_update(&listing, "  ", 2);
        ss_sha256_update(&listing, p->files[i], strlen(p->files[i]));
        ss_sha256_update(&listing, "\n", 1);
    }
    ss_sha256_hex(&listing, p->sha);
    p->total = p->n_files;
    return SS_OK;
}

static void hash_synthetic(ss_prompts *p, int32_t *ids)
{
    ss_sha256 s;
    ss_sha256_init(&s);
    for (int64_t k = 0; k < p->o.count; k++) {
        synth_prompt(p, k, ids);
        ss_sha256_update_i32le(&s, ids, (size_t)p->o.len);
    }
    ss_sha256_hex(&s, p->sha);
    p->total = p->o.count;
}

static ss_code check_opts(const ss_prompt_opts *o, ss_error *err)
{
    if (o->len < 1)
        return ss_fail(err, SS_ERR_USAGE, "prompt length must be at least 1, got %d", o->len);
    if (o->count < 0)
        return ss_fail(err, SS_ERR_USAGE, "prompt count must not be negative");
    if (o->first < 0 || o->first > INT64_MAX - o->count)
        return ss_fail(err, SS_ERR_USAGE, "first prompt index %lld is out of range",
                       (long long)o->first);
    if (o->first != 0 && o->kind != SS_SRC_OOD && o->kind != SS_SRC_REPEAT)
        return ss_fail(err, SS_ERR_USAGE, "a first prompt index applies to synthetic prompts only");
    if (o->vocab < 1)
        return ss_fail(err, SS_ERR_USAGE, "vocabulary size must be at least 1");
    switch (o->kind) {
    case SS_SRC_OOD:
    case SS_SRC_REPEAT:
        if (o->count < 1)
            return ss_fail(err, SS_ERR_USAGE, "synthetic prompts need a count of at least 1");
        if (o->kind == SS_SRC_REPEAT && o->segment < 1)
            return ss_fail(err, SS_ERR_USAGE, "repeat segment must be at least 1 token");
        if (o->bos >= o->vocab)
            return ss_fail(err, SS_ERR_VALUE, "BOS id %d is outside the vocabulary [0, %d)",
                           o->bos, o->vocab);
        return SS_OK;
    case SS_SRC_LINES:
    case SS_SRC_JSONL:
    case SS_SRC_TXT_DIR:
        if (!o->tok)
            return ss_fail(err, SS_ERR_USAGE, "text prompts need the model's tokenizer");
        /* fall through */
    case SS_SRC_IDS:
        if (!o->path || !*o->path)
            return ss_fail(err, SS_ERR_USAGE, "prompt source has no path");
        return SS_OK;
    }
    return ss_fail(err, SS_ERR_USAGE, "unknown prompt source kind %d", (int)o->kind);
}

ss_code ss_prompts_open(const ss_prompt_opts *o, ss_prompts **out, ss_error *err)
{
    *out = NULL;
    ss_code rc = check_opts(o, err);
    if (rc)
        return rc;
    ss_prompts *p = ss_calloc(1, sizeof *p, "prompt source", err);
    if (!p)
        return SS_ERR_NOMEM;
    p->o = *o;
    p->win = ss_calloc((size_t)o->len, sizeof *p->win, "prompt window", err);
    if (!p->win)
        rc = SS_ERR_NOMEM;
    if (!rc && o->path && !(p->path = ss_strdup(o->path, err)))
        rc = SS_ERR_NOMEM;
    if (!rc && o->field && !(p->field = ss_strdup(o->field, err)))
        rc = SS_ERR_NOMEM;
    p->o.path = p->path;
    p->o.field = p->field;
    if (!rc) {
        if (is_synthetic(p))
            hash_synthetic(p, p->win);
        else if (o->kind == SS_SRC_TXT_DIR)
            rc = list_folder(p, err);
        else
            rc = hash_file(p, err);
    }
    if (!rc)
        rc = ss_prompts_seek(p, 0, 0, 0, err);
    if (rc) {
        ss_prompts_close(p);
        return rc;
    }
    *out = p;
    return SS_OK;
}

void ss_prompts_close(ss_prompts *p)
{
    if (!p)
        return;
    if (p->f)
        fclose(p->f);
    for (int64_t i = 0; i < p->n_files; i++)
        free(p->files[i]);
    free(p->files);
    free(p->line);
    free(p->mem);
    free(p->win);
    free(p->path);
    free(p->field);
    free(p);
}

/* Reads the next line (without its line break) or returns 0 at the end. */
static int read_line(ss_prompts *p, size_t *len)
{
    ssize_t n = getline(&p->line, &p->line_cap, p->f);
    if (n < 0)
        return 0;
    while (n > 0 && (p->line[n - 1] == '\n' || p->line[n - 1] == '\r'))
        p->line[--n] = '\0';
    *len = (size_t)n;
    return 1;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r')
            return 0;
    return 1;
}

/* Where to cut a long text near `at` bytes: before a whitespace byte in
 * [at/2, at], else at a UTF-8 character boundary. */
static size_t cut_point(const char *text, size_t at)
{
    for (size_t c = at; c > at / 2; c--)
        if (text[c] == ' ' || text[c] == '\n' || text[c] == '\t' || text[c] == '\r')
            return c;
    size_t c = at;
    while (c > 0 && ((unsigned char)text[c] & 0xC0) == 0x80)
        c--;
    return c;
}

/* At least `want` tokens of text (all of them if it has fewer); see the
 * header on why a prefix and why the margin. */
static ss_code tokenize(ss_prompts *p, const char *text, size_t len, int want, int32_t **ids,
                        size_t *n, ss_error *err)
{
    size_t prefix = 4 * (size_t)want + 4096;
    for (;;) {
        size_t cut = prefix < len ? cut_point(text, prefix) : len;
        ss_code rc = ss_tokenizer_encode(p->o.tok, text, cut, p->o.add_bos, ids, n, err);
        if (rc)
            return rc;
        if (cut == len || *n >= (size_t)want + TOKEN_MARGIN)
            return SS_OK;
        free(*ids);
        *ids = NULL;
        prefix *= 2;
    }
}

/* The ids of one line of an ids file, each checked against the vocabulary. */
static ss_code parse_ids(ss_prompts *p, const char *s, int32_t **ids, size_t *n, ss_error *err)
{
    char where[4200];
    snprintf(where, sizeof where, "%s:%lld", p->path, (long long)p->records);
    return ss_ids_parse(s, where, p->o.vocab, ids, n, err);
}

/* Whether a JSON text holds the escape \u0000: cJSON decodes it into a NUL
 * that would end the string early. Backslashes occur only inside strings,
 * and "\\" is stepped over whole, so "\\u0000" (a backslash, then u0000)
 * is not counted. */
static int has_nul_escape(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
            return 1;
        i++; /* the escaped character */
    }
    return 0;
}

/* The text of one JSONL record. */
static ss_code jsonl_text(ss_prompts *p, size_t len, char **text, ss_error *err)
{
    char where[4200];
    snprintf(where, sizeof where, "%s:%lld", p->path, (long long)p->records);
    cJSON *obj;
    ss_code rc = ss_json_parse(where, "JSON", p->line, len, &obj, err);
    if (rc)
        return rc;
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return ss_fail(err, SS_ERR_FORMAT, "%s:%lld: not a JSON object", p->path,
                       (long long)p->records);
    }
    const char *names[2] = {p->field ? p->field : "context", p->field ? NULL : "text"};
    const cJSON *v = NULL;
    for (int k = 0; k < 2 && !v && names[k]; k++)
        v = cJSON_GetObjectItemCaseSensitive(obj, names[k]);
    if (!v || !cJSON_IsString(v)) {
        cJSON_Delete(obj);
        if (p->field)
            return ss_fail(err, v ? SS_ERR_FORMAT : SS_ERR_MISSING,
                           "%s:%lld: field \"%s\" %s", p->path, (long long)p->records, p->field,
                           v ? "is not a string" : "is missing");
        return ss_fail(err, v ? SS_ERR_FORMAT : SS_ERR_MISSING,
                       "%s:%lld: expected a string field \"context\" or \"text\" (choose "
                       "another with --field)", p->path, (long long)p->records);
    }
    if (has_nul_escape(p->line, len)) {
        cJSON_Delete(obj);
        return ss_fail(err, SS_ERR_FORMAT, "%s:%lld: the record holds \\u0000 (a NUL character); "
                       "refused rather than cut the text there", p->path, (long long)p->records);
    }
    *text = ss_strdup(v->valuestring, err);
    cJSON_Delete(obj);
    return *text ? SS_OK : SS_ERR_NOMEM;
}

/* The next record's tokens: *have = 0 at the end; *n = 0 for an ignored
 * (blank) record. `want` bounds how many text tokens are needed. */
static ss_code next_record(ss_prompts *p, int want, int32_t **ids, size_t *n, int *have,
                           ss_error *err)
{
    *ids = NULL;
    *n = 0;
    *have = 0;
    if (p->o.kind == SS_SRC_TXT_DIR) {
        if (p->records >= p->n_files)
            return SS_OK;
        char full[4096], *text;
        size_t len;
        snprintf(full, sizeof full, "%s/%s", p->path, p->files[p->records]);
        p->records++;
        *have = 1;
        ss_code rc = ss_read_file(full, MAX_TEXT_FILE, &text, &len, err);
        if (rc)
            return rc;
        scan_state st = {.first = -1};
        rc = scan_block(full, 1, &st, (const unsigned char *)text, len, err);
        if (!rc && st.u.need)
            rc = bad_byte(full, &st, "invalid UTF-8 (a character cut at the end of the file)", err);
        if (!rc && len)
            rc = tokenize(p, text, len, want, ids, n, err);
        free(text);
        return rc;
    }
    size_t len;
    if (!read_line(p, &len)) {
        if (ferror(p->f))
            return ss_fail(err, SS_ERR_IO, "%s: read error after line %lld", p->path,
                           (long long)p->records);
        return SS_OK;
    }
    p->records++;
    *have = 1;
    if (memchr(p->line, 0, len)) /* checked at open; the file has changed since */
        return ss_fail(err, SS_ERR_FORMAT, "%s:%lld: a NUL byte (has the file changed since the "
                       "scan started?)", p->path, (long long)p->records);
    if (blank(p->line))
        return SS_OK;
    if (p->o.kind == SS_SRC_IDS)
        return parse_ids(p, p->line, ids, n, err);
    if (p->o.kind == SS_SRC_LINES)
        return tokenize(p, p->line, len, want, ids, n, err);
    char *text = NULL;
    ss_code rc = jsonl_text(p, len, &text, err);
    if (rc)
        return rc;
    rc = tokenize(p, text, strlen(text), want, ids, n, err);
    free(text);
    return rc;
}

ss_code ss_prompts_next(ss_prompts *p, int32_t *out, int *got, ss_error *err)
{
    *got = 0;
    int len = p->o.len;
    if (p->o.count > 0 && p->emitted >= p->o.count)
        return SS_OK;
    if (is_synthetic(p)) {
        synth_prompt(p, p->records, out);
        p->records++;
        p->emitted++;
        *got = 1;
        return SS_OK;
    }
    for (;;) {
        int32_t *ids;
        size_t n;
        int have;
        ss_code rc = next_record(p, len - p->win_n, &ids, &n, &have, err);
        if (rc)
            return rc;
        if (!have) { /* end: an unfinished window is skipped */
            p->skipped += p->win_records;
            p->win_records = 0;
            p->win_n = 0;
            return SS_OK;
        }
        if (n == 0) {
            free(ids);
            continue;
        }
        if (!p->o.chunk) {
            if (n >= (size_t)len) {
                memcpy(out, ids, (size_t)len * sizeof *out);
                free(ids);
                p->emitted++;
                *got = 1;
                return SS_OK;
            }
            free(ids);
            p->skipped++;
            continue;
        }
        size_t take = n < (size_t)(len - p->win_n) ? n : (size_t)(len - p->win_n);
        memcpy(p->win + p->win_n, ids, take * sizeof *ids);
        free(ids);
        p->win_n += (int)take;
        p->win_records++;
        if (p->win_n == len) {
            memcpy(out, p->win, (size_t)len * sizeof *out);
            p->win_n = 0;
            p->win_records = 0;
            p->emitted++;
            *got = 1;
            return SS_OK;
        }
    }
}

int64_t ss_prompts_records(const ss_prompts *p) { return p->records; }
int64_t ss_prompts_skipped(const ss_prompts *p) { return p->skipped; }
int64_t ss_prompts_emitted(const ss_prompts *p) { return p->emitted; }
int64_t ss_prompts_total_records(const ss_prompts *p) { return p->total; }
const char *ss_prompts_sha256(const ss_prompts *p) { return p->sha; }

ss_code ss_prompts_seek(ss_prompts *p, int64_t records, int64_t skipped, int64_t emitted,
                        ss_error *err)
{
    if (records < 0 || records > p->total || skipped < 0 || emitted < 0)
        return ss_fail(err, SS_ERR_VALUE,
                       "%s: cannot resume at record %lld: the source has %lld records",
                       p->path ? p->path : ss_source_kind_name(p->o.kind), (long long)records,
                       (long long)p->total);
    p->records = 0;
    p->win_n = 0;
    p->win_records = 0;
    if (!is_synthetic(p) && p->o.kind != SS_SRC_TXT_DIR) {
        if (p->f)
            fclose(p->f);
        p->f = p->from_memory ? fmemopen(p->mem, p->mem_n, "rb") : fopen(p->path, "rb");
        if (!p->f)
            return ss_fail(err, SS_ERR_IO, "%s: cannot open prompts: %s", p->path,
                           strerror(errno));
        size_t len;
        while (p->records < records && read_line(p, &len))
            p->records++;
        if (p->records < records)
            return ss_fail(err, SS_ERR_VALUE, "%s: has fewer than %lld lines (changed?)",
                           p->path, (long long)records);
    }
    p->records = records;
    p->skipped = skipped;
    p->emitted = emitted;
    return SS_OK;
}

ss_source_kind ss_text_source_kind(const char *path, const char *field)
{
    if (ss_is_dir(path))
        return SS_SRC_TXT_DIR;
    if (field || ss_ends_with(path, ".jsonl") || ss_ends_with(path, ".json"))
        return SS_SRC_JSONL;
    return SS_SRC_LINES;
}
