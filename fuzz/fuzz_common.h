/* Shared by the fuzz targets: converting every tensor a parser accepted
 * checks that its bytes really lie inside the input (libFuzzer hands us an
 * exactly-sized heap copy, so AddressSanitizer sees any overread). */
#ifndef SS_FUZZ_COMMON_H
#define SS_FUZZ_COMMON_H

#include <stdlib.h>

#include "io/dequant.h"
#include "io/tensor.h"

static void fuzz_touch_tensors(const ss_tensor_list *l)
{
    for (int i = 0; i < l->count; i++) {
        const ss_tensor *t = &l->items[i];
        int64_t n = ss_tensor_numel(t);
        int64_t cols = t->ndim ? t->shape[t->ndim - 1] : 1;
        if (n <= 0 || cols <= 0 || n > (1 << 24))
            continue;
        float *f = malloc((size_t)n * sizeof *f);
        if (!f)
            continue;
        ss_tensor_rows_f32(t, 0, n / cols, f);
        free(f);
    }
}

#endif
