/* Where a scan's prompts come from, one prompt of exactly `len` token ids at
 * a time (a 500-prompt LongBench file is streamed, never held as tokens).
 *
 * Sources and their "records" (the unit a resumed scan skips over):
 *  - SS_SRC_LINES: a UTF-8 text file, one prompt per line (record = line;
 *    empty lines are ignored);
 *  - SS_SRC_JSONL: one JSON object per line; the text is the string field
 *    `field`, or by default "context" when present, else "text" (LongBench
 *    v2 records have "context"); record = line;
 *  - SS_SRC_TXT_DIR: every regular file named *.txt in a folder, sorted by
 *    name (byte order), one prompt per file; record = file;
 *  - SS_SRC_IDS: one whitespace-separated sequence of token ids per line,
 *    used as given; record = line;
 *  - SS_SRC_OOD / SS_SRC_REPEAT: synthetic prompts (analysis/ood.h);
 *    record = prompt.
 * Text is tokenized with the model's tokenizer, BOS first when the model's
 * tokenizer adds one (add_bos), and cut to len tokens. A record with fewer
 * than len tokens is skipped and counted, or with `chunk` joined with the
 * records after it (each keeps its own BOS) until the window holds len
 * tokens; the window is then cut to len and the next window starts at the
 * next record. An unfinished window at the end is counted as skipped.
 *
 * Long texts are tokenized by growing prefixes (cut at whitespace, 4 len +
 * 4096 bytes, doubled) until one gives len + 64 tokens, so a 1 MB document
 * is not tokenized whole to keep its first len tokens; tokens near the cut
 * can differ from a whole-text tokenization, the 64-token margin keeps them
 * out of the prompt.
 *
 * Prompt files must be UTF-8 text without NUL bytes: a NUL anywhere, a
 * byte that is not UTF-8 (text kinds), or \u0000 in a JSONL record is an
 * SS_ERR_FORMAT naming file:line, found by the hashing pass at open. A
 * source that is not a regular file (a pipe, /dev/stdin) is read once: its
 * bytes are kept in memory (at most 1 GiB) as they are hashed and served
 * from there. A text-lines file of numbers only is refused (token ids:
 * use SS_SRC_IDS).
 *
 * The source's SHA-256: a file's bytes; for a folder, the hash of the
 * `sha256sum` listing of its .txt files in name order ("<hex>  <name>\n"
 * each, i.e. `(cd DIR && LC_ALL=C sha256sum *.txt) | sha256sum`); for
 * synthetic prompts, the hash of all `count` prompts' ids as little-endian
 * int32. */
#ifndef SS_ANALYSIS_PROMPTS_H
#define SS_ANALYSIS_PROMPTS_H

#include <stdint.h>

#include "common/error.h"
#include "tokenizer/tokenizer.h"

typedef enum {
    SS_SRC_LINES,
    SS_SRC_JSONL,
    SS_SRC_TXT_DIR,
    SS_SRC_IDS,
    SS_SRC_OOD,
    SS_SRC_REPEAT
} ss_source_kind;

typedef struct {
    ss_source_kind kind;
    const char *path;          /* file or folder (not synthetic) */
    const char *field;         /* JSONL field, NULL: "context" then "text" */
    int len;                   /* N, tokens per prompt */
    int chunk;                 /* join short records into windows */
    int64_t count;             /* synthetic: number of prompts; others: at most this many (0: all) */
    uint64_t seed;             /* synthetic */
    int64_t first;             /* synthetic: index of the first prompt (--ood-offset): prompts
                                  first .. first + count - 1 of the seed's sequence */
    int segment;               /* repeat: segment length */
    int vocab;                 /* ids must be < vocab; synthetic ids drawn from [0, vocab) */
    int bos;                   /* synthetic: id put at position 0, or -1 */
    const ss_tokenizer *tok;   /* text sources */
    const char *tok_path;      /* where tok was read from, for the record (may be NULL) */
    int add_bos;               /* text sources */
} ss_prompt_opts;

typedef struct ss_prompts ss_prompts;

/* Opens the source and hashes it (one pass over a file, or generation of
 * every synthetic prompt). The path is checked here: a missing file, an
 * empty folder or a JSON array instead of JSONL are errors now. */
ss_code ss_prompts_open(const ss_prompt_opts *o, ss_prompts **out, ss_error *err);
void ss_prompts_close(ss_prompts *p);

/* The next prompt into ids[len]; *got = 0 at the end of the source. */
ss_code ss_prompts_next(ss_prompts *p, int32_t *ids, int *got, ss_error *err);

/* Resume support: records consumed so far and records skipped (too short);
 * seek re-opens at a record boundary without tokenizing what it skips. */
int64_t ss_prompts_records(const ss_prompts *p);
int64_t ss_prompts_skipped(const ss_prompts *p);
int64_t ss_prompts_emitted(const ss_prompts *p);
ss_code ss_prompts_seek(ss_prompts *p, int64_t records, int64_t skipped, int64_t emitted,
                        ss_error *err);

/* Total records in the source (lines, files, prompts), known after open. */
int64_t ss_prompts_total_records(const ss_prompts *p);
const char *ss_prompts_sha256(const ss_prompts *p);
const char *ss_source_kind_name(ss_source_kind k);
/* What a text path holds: a folder of .txt files, JSONL (a .jsonl/.json
 * name, or a field asked for), else one prompt per line. */
ss_source_kind ss_text_source_kind(const char *path, const char *field);

#endif
