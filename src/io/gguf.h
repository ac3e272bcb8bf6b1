/* GGUF v2/v3 (and v1 where cheap): metadata key/values and tensor infos.
 * Tensors keep the file's byte layout; shapes are reversed from ggml's
 * ne order to row-major (see io/tensor.h). */
#ifndef SS_IO_GGUF_H
#define SS_IO_GGUF_H

#include <stdint.h>

#include "io/tensor.h"

typedef enum {
    SS_GGUF_U8 = 0, SS_GGUF_I8 = 1, SS_GGUF_U16 = 2, SS_GGUF_I16 = 3,
    SS_GGUF_U32 = 4, SS_GGUF_I32 = 5, SS_GGUF_F32 = 6, SS_GGUF_BOOL = 7,
    SS_GGUF_STRING = 8, SS_GGUF_ARRAY = 9, SS_GGUF_U64 = 10, SS_GGUF_I64 = 11,
    SS_GGUF_F64 = 12
} ss_gguf_type;

typedef struct {
    char *key;
    ss_gguf_type type;
    /* scalars */
    union { uint64_t u; int64_t i; double f; } num;
    /* strings: str/str_len (not NUL-terminated in the file; a NUL-terminated
     * copy is kept here) */
    char *str;
    uint64_t str_len;
    /* arrays: element type, count, and either numbers (as double in nums,
     * exact for 32-bit ints and floats) or strings (strs/str_lens) */
    ss_gguf_type arr_type;
    uint64_t arr_len;
    double *nums;
    char **strs;
    uint64_t *str_lens;
} ss_gguf_kv;

typedef struct {
    uint32_t version;
    ss_gguf_kv *kvs;
    int64_t n_kv;
    ss_tensor_list tensors; /* owns the mapping */
    uint64_t alignment;
    char *path;
} ss_gguf;

ss_code ss_gguf_load(const char *path, ss_gguf *g, ss_error *err);
/* Parses from memory (for the fuzzer); tensor data points into bytes. */
ss_code ss_gguf_parse(const char *path, const void *bytes, size_t n, ss_gguf *g, ss_error *err);
void ss_gguf_free(ss_gguf *g);

const ss_gguf_kv *ss_gguf_find(const ss_gguf *g, const char *key);
/* Typed getters: return SS_ERR_MISSING (naming file and key) if absent,
 * SS_ERR_FORMAT if of another type. Integer getters accept any integer type
 * whose value fits. */
ss_code ss_gguf_get_int(const ss_gguf *g, const char *key, int64_t *v, ss_error *err);
ss_code ss_gguf_get_float(const ss_gguf *g, const char *key, double *v, ss_error *err);
ss_code ss_gguf_get_str(const ss_gguf *g, const char *key, const char **v, ss_error *err);

#endif
