/* libFuzzer target: safetensors header parsing and validation. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_tensor_list l = {0};
    ss_error err = {0};
    ss_mmap m;
    int idx;
    if (ss_mmap_borrow("fuzz.safetensors", data, size, &m, &err) == SS_OK &&
        ss_tensor_list_add_map(&l, &m, &idx, &err) == SS_OK &&
        ss_safetensors_parse("fuzz.safetensors", data, size, idx, &l, &err) == SS_OK)
        fuzz_touch_tensors(&l);
    ss_tensor_list_free(&l);
    return 0;
}
