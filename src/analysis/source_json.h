/* A prompt source as JSON: the record every output keeps of where its
 * prompts came from (scan.json "prompts", and the "prompts" of rank.json and
 * freq.json), written in one place. */
#ifndef SS_ANALYSIS_SOURCE_JSON_H
#define SS_ANALYSIS_SOURCE_JSON_H

#include <cjson/cJSON.h>

#include "analysis/prompts.h"

/* source (kind name), path (absolute), sha256, and what the kind adds:
 * field (JSONL), chunk / count_limit (files), add_bos (text), count, seed
 * (a string: 64 bits), rng, vocab, bos, segment, first (synthetic: prompts
 * first .. first + count - 1 of the seed's sequence), tokenizer (text: path,
 * the file's SHA-256, a digest of its vocabulary). */
cJSON *ss_prompt_source_json(const ss_prompt_opts *s, const char *sha);

/* An absolute path when the file exists (so a resume from another working
 * directory matches), else the path as given; null for NULL. */
cJSON *ss_json_abs_path(const char *path);

#endif
