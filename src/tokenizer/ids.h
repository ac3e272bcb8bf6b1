/* Token ids written as text: "1 2 3", "1,2,3" (what --ids and every line of
 * an ids file hold). One parser for the CLI and the prompt sources. */
#ifndef SS_TOKENIZER_IDS_H
#define SS_TOKENIZER_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Parses ids separated by spaces, tabs, commas or '\r' up to a newline or
 * the end of s. With vocab > 0 each id must be in [0, vocab) (SS_ERR_FORMAT
 * for a non-integer, SS_ERR_VALUE naming the id and the range otherwise);
 * with vocab <= 0 any non-negative int32 is accepted. Messages start with
 * `where` ("--ids", "FILE:LINE") and count tokens from 1. *ids is malloc'd,
 * NULL when there is none (*n = 0: the caller decides whether that is an
 * error). */
ss_code ss_ids_parse(const char *s, const char *where, int vocab, int32_t **ids, size_t *n,
                     ss_error *err);

#endif
