/* libFuzzer target: a tokenizer.json from bytes (JSON structure, vocab,
 * merges, added tokens, normalizer and pre-tokenizer trees with their
 * regexes), then encoding a fixed text that exercises every step: spaces,
 * digits, punctuation, added-token look-alikes, non-ASCII and invalid
 * UTF-8, and decoding the ids back. Seeds: fuzz/make_tokenizer_seeds.py. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char text[] = " Hello  world!\n\t<s> it's 12345 \xc3\xa9t\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 "
                           "\xf0\x9f\x98\x80 <|endoftext|>\xff\xc3(\x80 ";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_tokenizer *t;
    ss_error err = {0};
    if (ss_tokenizer_from_hf_json_bytes("fuzz.json", (const char *)data, size, &t, &err))
        return 0;
    int32_t *ids = NULL;
    size_t n = 0;
    if (ss_tokenizer_encode(t, text, sizeof text - 1, 0, &ids, &n, &err) == SS_OK) {
        for (size_t i = 0; i < n; i++)
            if (ids[i] < 0 || ids[i] >= ss_tokenizer_vocab_size(t))
                abort(); /* every id must be a valid token */
        /* every id encode gives must decode (detokenize) */
        char *back = NULL;
        size_t len = 0;
        if (ss_tokenizer_decode(t, ids, n, &back, &len, &err) != SS_OK)
            abort();
        free(back);
        free(ids);
    }
    ss_tokenizer_free(t);
    return 0;
}
