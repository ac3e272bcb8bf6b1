/* A named, typed view of weight bytes that live in a memory-mapped file.
 * Loaders produce these; the model layer looks them up by name and the
 * engine converts rows to float32 on demand (io/dequant.h). */
#ifndef SS_IO_TENSOR_H
#define SS_IO_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef enum {
    SS_DT_F32,
    SS_DT_F16,
    SS_DT_BF16,
    SS_DT_Q8_0, /* blocks of 32: fp16 scale + 32 int8 */
    SS_DT_Q4_0, /* blocks of 32: fp16 scale + 16 bytes of nibbles */
    SS_DT_Q4_K, /* super-blocks of 256 (144 bytes) */
    SS_DT_Q6_K, /* super-blocks of 256 (210 bytes) */
    SS_DT_COUNT
} ss_dtype;

const char *ss_dtype_name(ss_dtype t);
/* Elements per block (1 for plain types) and bytes per block. */
int ss_dtype_block_elems(ss_dtype t);
int ss_dtype_block_bytes(ss_dtype t);
/* Bytes taken by n elements; 0 when n is not a whole number of blocks. */
uint64_t ss_dtype_bytes(ss_dtype t, uint64_t n);

typedef struct {
    char *name;
    ss_dtype dtype;
    int ndim;
    /* Row-major, slowest dimension first, as in safetensors and PyTorch:
     * a Linear weight [out, in] has shape {out, in}. GGUF's ggml order
     * (ne0 fastest) is reversed by the loader to fit this. */
    int64_t shape[4];
    const void *data; /* inside a mapping owned by the ss_tensor_list */
    uint64_t nbytes;
    const char *file; /* the file it came from, for error messages */
} ss_tensor;

/* Number of elements (product of the shape). */
int64_t ss_tensor_numel(const ss_tensor *t);

typedef struct {
    void *base;
    size_t size;
    char *path;
    /* Non-zero when base is memory the caller owns (ss_mmap_borrow, used by
     * the *_parse entry points): ss_mmap_close then only frees the path. */
    int borrowed;
} ss_mmap;

/* Maps a whole file read-only. An empty file maps to base = NULL, size 0. */
ss_code ss_mmap_open(const char *path, ss_mmap *m, ss_error *err);
/* Wraps n bytes the caller keeps alive (not unmapped); path names them in
 * messages. */
ss_code ss_mmap_borrow(const char *path, const void *bytes, size_t n, ss_mmap *m, ss_error *err);
/* A private read-write anonymous mapping of n zeroed bytes that a loader fills
 * (e.g. weights it had to convert) and then seals with ss_mmap_seal; `label`
 * names it in messages. Unmapped by ss_mmap_close like a file mapping. */
ss_code ss_mmap_anon(const char *label, size_t n, ss_mmap *m, ss_error *err);
/* Makes an anonymous mapping read-only. */
void ss_mmap_seal(ss_mmap *m);
void ss_mmap_close(ss_mmap *m);

/* All tensors of a model, possibly from several files (shards), plus the
 * mappings that keep their bytes alive. */
typedef struct {
    ss_tensor *items;
    int count, cap;
    ss_mmap *maps;
    int n_maps, cap_maps;
    /* Open-addressing name index (item index + 1, 0 = empty) so that adding
     * and finding stay O(1) for files with many tensors. */
    int *index;
    int index_cap;
} ss_tensor_list;

/* Takes ownership of *m (closes it in ss_tensor_list_free). Returns the
 * index of the mapping. */
ss_code ss_tensor_list_add_map(ss_tensor_list *l, ss_mmap *m, int *index, ss_error *err);
/* Copies the name; refuses duplicates and data outside the mapping
 * `map_index` (names the file and tensor in the message). Also checks
 * ndim 0..4, non-negative dims, nbytes == ss_dtype_bytes(dtype, numel) and,
 * for block types, rows (the last dimension) made of whole blocks, so that
 * ss_tensor_rows_f32 can convert any row. t->file is ignored: the stored
 * tensor's file is the mapping's path. */
ss_code ss_tensor_list_add(ss_tensor_list *l, const ss_tensor *t, int map_index, ss_error *err);
const ss_tensor *ss_tensor_list_find(const ss_tensor_list *l, const char *name);
/* Drops tensors after the first `count` and mappings after the first
 * `n_maps` (closing them): how a loader undoes a failed partial load. */
void ss_tensor_list_truncate(ss_tensor_list *l, int count, int n_maps);
void ss_tensor_list_free(ss_tensor_list *l);

#endif
