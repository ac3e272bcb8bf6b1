/* libFuzzer target: llama2.c checkpoint headers (legacy, ak42 v1 and v2). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "io/llama2c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_llama2c m;
    ss_error err = {0};
    if (ss_llama2c_parse("fuzz.bin", data, size, &m, &err) == SS_OK) {
        fuzz_touch_tensors(&m.tensors);
        ss_llama2c_free(&m);
    }
    return 0;
}
