#include "io/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "io/atomic_file.h"

const char *ss_npy_descr(ss_npy_type t)
{
    switch (t) {
    case SS_NPY_F32: return "<f4";
    case SS_NPY_F64: return "<f8";
    case SS_NPY_I64: return "<i8";
    case SS_NPY_I32: return "<i4";
    }
    return "?";
}

size_t ss_npy_elem_size(ss_npy_type t)
{
    return (t == SS_NPY_F32 || t == SS_NPY_I32) ? 4 : 8;
}

ss_code ss_npy_write(const char *path, ss_npy_type type, int ndim, const int64_t *shape,
                     const void *data, ss_error *err)
{
    if (ndim < 0 || ndim > 8)
        return ss_fail(err, SS_ERR_USAGE, "%s: npy rank %d not in 0..8", path, ndim);
    char header[512];
    int len = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       ss_npy_descr(type));
    uint64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        len += snprintf(header + len, sizeof header - len, "%lld%s", (long long)shape[i],
                        (ndim == 1 || i + 1 < ndim) ? ", " : "");
        count *= (uint64_t)shape[i];
    }
    /* separators only between entries, plus the trailing one of a 1-tuple */
    len += snprintf(header + len, sizeof header - len, "), }");
    /* magic(6) + version(2) + hlen(2) + header + padding + '\n' is a multiple of 64 */
    int total = 10 + len + 1;
    int pad = (64 - total % 64) % 64;
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc)
        return rc;
    unsigned short hlen = (unsigned short)(len + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f.fp);
    unsigned char hl[2] = {(unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    fwrite(hl, 1, 2, f.fp);
    fwrite(header, 1, (size_t)len, f.fp);
    for (int i = 0; i < pad; i++)
        fputc(' ', f.fp);
    fputc('\n', f.fp);
    if (count && fwrite(data, ss_npy_elem_size(type), count, f.fp) != count) {
        ss_atomic_abort(&f);
        return ss_fail(err, SS_ERR_IO, "%s: write failed", path);
    }
    return ss_atomic_commit(&f, err);
}

ss_code ss_npy_read(const char *path, ss_npy *out, ss_error *err)
{
    memset(out, 0, sizeof *out);
    char *buf;
    size_t n;
    ss_code rc = ss_read_file(path, (size_t)1 << 40, &buf, &n, err);
    if (rc)
        return rc;
    if (n < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        free(buf);
        return ss_fail(err, SS_ERR_FORMAT, "%s: not a .npy file (bad magic)", path);
    }
    int major = (unsigned char)buf[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (unsigned char)buf[8] | ((size_t)(unsigned char)buf[9] << 8);
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (n < 12) {
            free(buf);
            return ss_fail(err, SS_ERR_FORMAT, "%s: truncated .npy header", path);
        }
        hlen = (unsigned char)buf[8] | ((size_t)(unsigned char)buf[9] << 8) |
               ((size_t)(unsigned char)buf[10] << 16) | ((size_t)(unsigned char)buf[11] << 24);
        hstart = 12;
    } else {
        free(buf);
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: .npy version %d", path, major);
    }
    if (hstart + hlen > n) {
        free(buf);
        return ss_fail(err, SS_ERR_FORMAT, "%s: .npy header runs past the end of the file", path);
    }
    char header[4096];
    size_t hcopy = hlen < sizeof header - 1 ? hlen : sizeof header - 1;
    memcpy(header, buf + hstart, hcopy);
    header[hcopy] = '\0';
    const char *d = strstr(header, "'descr':");
    const char *fo = strstr(header, "'fortran_order':");
    const char *sh = strstr(header, "'shape':");
    if (!d || !fo || !sh) {
        free(buf);
        return ss_fail(err, SS_ERR_FORMAT, "%s: .npy header lacks descr/fortran_order/shape", path);
    }
    if (strstr(d, "'<f4'")  == d + 9 || strstr(d, "'<f4'") == d + 8)
        out->type = SS_NPY_F32;
    else if (strstr(d, "'<f8'") == d + 9 || strstr(d, "'<f8'") == d + 8)
        out->type = SS_NPY_F64;
    else if (strstr(d, "'<i8'") == d + 9 || strstr(d, "'<i8'") == d + 8)
        out->type = SS_NPY_I64;
    else if (strstr(d, "'<i4'") == d + 9 || strstr(d, "'<i4'") == d + 8)
        out->type = SS_NPY_I32;
    else {
        free(buf);
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: .npy dtype not one of <f4 <f8 <i8 <i4", path);
    }
    if (strncmp(fo + 16, " True", 5) == 0) {
        free(buf);
        return ss_fail(err, SS_ERR_UNSUPPORTED, "%s: Fortran-order .npy", path);
    }
    const char *p = strchr(sh, '(');
    if (!p) {
        free(buf);
        return ss_fail(err, SS_ERR_FORMAT, "%s: .npy shape is not a tuple", path);
    }
    p++;
    out->count = 1;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == ')')
            break;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || out->ndim >= 8) {
            free(buf);
            return ss_fail(err, SS_ERR_FORMAT, "%s: bad .npy shape", path);
        }
        out->shape[out->ndim++] = v;
        uint64_t c;
        if (!ss_mul_u64((uint64_t)out->count, (uint64_t)v, &c) || c > ((uint64_t)1 << 40)) {
            free(buf);
            return ss_fail(err, SS_ERR_FORMAT, "%s: .npy shape too large", path);
        }
        out->count = (int64_t)c;
        p = end;
    }
    size_t need = (size_t)out->count * ss_npy_elem_size(out->type);
    if (n - hstart - hlen < need) {
        free(buf);
        return ss_fail(err, SS_ERR_FORMAT, "%s: .npy data is %zu bytes, shape needs %zu", path,
                       n - hstart - hlen, need);
    }
    out->data = malloc(need ? need : 1);
    if (!out->data) {
        free(buf);
        return ss_fail(err, SS_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(out->data, buf + hstart + hlen, need);
    free(buf);
    return SS_OK;
}

double *ss_npy_as_f64(const ss_npy *a, ss_error *err)
{
    double *d = ss_calloc((size_t)a->count, sizeof(double), "npy array", err);
    if (!d)
        return NULL;
    for (int64_t i = 0; i < a->count; i++) {
        switch (a->type) {
        case SS_NPY_F32: d[i] = ((const float *)a->data)[i]; break;
        case SS_NPY_F64: d[i] = ((const double *)a->data)[i]; break;
        case SS_NPY_I64: d[i] = (double)((const int64_t *)a->data)[i]; break;
        case SS_NPY_I32: d[i] = ((const int32_t *)a->data)[i]; break;
        }
    }
    return d;
}

void ss_npy_free(ss_npy *a)
{
    free(a->data);
    a->data = NULL;
}
