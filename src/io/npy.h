/* NumPy .npy files (format version 1.0, little-endian, C order): the
 * array format every analysis writes and the reference data comes in. */
#ifndef SS_IO_NPY_H
#define SS_IO_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef enum { SS_NPY_F32, SS_NPY_F64, SS_NPY_I64, SS_NPY_I32 } ss_npy_type;

/* The dtype string ("<f8", ...) and bytes per element of a type. */
const char *ss_npy_descr(ss_npy_type t);
size_t ss_npy_elem_size(ss_npy_type t);

/* Writes atomically. shape has ndim entries (ndim 0..8). */
ss_code ss_npy_write(const char *path, ss_npy_type type, int ndim, const int64_t *shape,
                     const void *data, ss_error *err);

typedef struct {
    ss_npy_type type;
    int ndim;
    int64_t shape[8];
    int64_t count; /* product of the shape */
    void *data;    /* malloc'd, in `type` */
} ss_npy;

/* Reads a .npy of any supported type ('<f4', '<f8', '<i8', '<i4', C order). */
ss_code ss_npy_read(const char *path, ss_npy *out, ss_error *err);
/* The array converted to doubles (malloc'd). */
double *ss_npy_as_f64(const ss_npy *a, ss_error *err);
void ss_npy_free(ss_npy *a);

#endif
