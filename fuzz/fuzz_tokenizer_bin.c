/* libFuzzer target: a llama2.c tokenizer.bin from bytes (every record
 * length is untrusted), then run.c-style encoding of a fixed text and
 * decoding the ids back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char text[] = "Once upon a time, \xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\xff\x80\x80\x80"
                           "\x80\x80 end";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_tokenizer *t;
    ss_error err = {0};
    if (ss_tokenizer_from_llama2c_bytes("fuzz.bin", data, size, 0, &t, &err))
        return 0;
    int32_t *ids = NULL;
    size_t n = 0;
    if (ss_tokenizer_encode(t, text, sizeof text - 1, 1, &ids, &n, &err) == SS_OK) {
        for (size_t i = 0; i < n; i++)
            if (ids[i] < 0 || ids[i] >= ss_tokenizer_vocab_size(t))
                abort();
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
