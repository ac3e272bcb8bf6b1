/* libFuzzer target: GGUF header, metadata and tensor-info parsing. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "io/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_gguf g;
    ss_error err = {0};
    if (ss_gguf_parse("fuzz.gguf", data, size, &g, &err) == SS_OK) {
        fuzz_touch_tensors(&g.tensors);
        /* the getters on whatever keys exist */
        for (int64_t i = 0; i < g.n_kv; i++) {
            int64_t v;
            double f;
            const char *s;
            ss_error e = {0};
            ss_gguf_get_int(&g, g.kvs[i].key, &v, &e);
            ss_gguf_get_float(&g, g.kvs[i].key, &f, &e);
            ss_gguf_get_str(&g, g.kvs[i].key, &s, &e);
        }
        ss_gguf_free(&g);
    }
    return 0;
}
