#include "io/safetensors_write.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static cJSON *header_json(const ss_tensor *const *t, int n, uint64_t *total, ss_error *err)
{
    cJSON *h = cJSON_CreateObject();
    /* what save_pretrained writes: transformers' loader checks the format
     * (older versions read it without checking that metadata exists) */
    cJSON_AddStringToObject(cJSON_AddObjectToObject(h, "__metadata__"), "format", "pt");
    uint64_t off = 0;
    for (int i = 0; h && i < n; i++) {
        if (t[i]->dtype != SS_DT_F32 && t[i]->dtype != SS_DT_F16 && t[i]->dtype != SS_DT_BF16) {
            ss_fail(err, SS_ERR_USAGE, "safetensors: tensor %s is %s; only F32, F16 and BF16 "
                    "are written", t[i]->name, ss_dtype_name(t[i]->dtype));
            cJSON_Delete(h);
            return NULL;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "dtype", ss_dtype_name(t[i]->dtype));
        cJSON *shape = cJSON_AddArrayToObject(o, "shape");
        for (int d = 0; d < t[i]->ndim; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i]->shape[d]));
        cJSON *offs = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        off += t[i]->nbytes;
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToObject(h, t[i]->name, o);
    }
    if (!h)
        ss_fail(err, SS_ERR_NOMEM, "safetensors header: out of memory");
    *total = off;
    return h;
}

/* The bytes as they are, a failed write reported naming the file. */
static ss_code put_raw(ss_safetensors_out *o, const void *data, size_t n, ss_error *err)
{
    errno = 0;
    if (n && fwrite(data, 1, n, o->f.fp) != n) {
        ss_fail(err, SS_ERR_IO, "%s: write failed after %llu of %llu data bytes: %s", o->f.path,
                (unsigned long long)(o->total - o->left), (unsigned long long)o->total,
                strerror(errno ? errno : EIO));
        ss_safetensors_abort(o);
        return err->code;
    }
    return SS_OK;
}

ss_code ss_safetensors_open(ss_safetensors_out *o, const char *path, const ss_tensor *const *t,
                            int n, ss_error *err)
{
    memset(o, 0, sizeof *o);
    cJSON *h = header_json(t, n, &o->total, err);
    if (!h)
        return err->code;
    o->left = o->total;
    char *text = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (!text)
        return ss_fail(err, SS_ERR_NOMEM, "safetensors header: out of memory");
    size_t len = strlen(text), padded = (len + 7) / 8 * 8;
    ss_code rc = ss_atomic_open(&o->f, path, err);
    if (rc) {
        free(text);
        return rc;
    }
    unsigned char head[8];
    for (int i = 0; i < 8; i++)
        head[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    rc = put_raw(o, head, 8, err);
    if (!rc)
        rc = put_raw(o, text, len, err);
    memset(head, ' ', sizeof head);
    if (!rc)
        rc = put_raw(o, head, padded - len, err);
    free(text);
    return rc;
}

ss_code ss_safetensors_put(ss_safetensors_out *o, const void *data, uint64_t n, ss_error *err)
{
    if (!o->f.fp)
        return ss_fail(err, SS_ERR_USAGE, "safetensors: write to a closed file");
    if (n > o->left) {
        ss_fail(err, SS_ERR_USAGE, "%s: %llu bytes of tensor data past the %llu the header "
                "states", o->f.path, (unsigned long long)(n - o->left),
                (unsigned long long)o->total);
        ss_safetensors_abort(o);
        return err->code;
    }
    ss_code rc = put_raw(o, data, (size_t)n, err);
    if (!rc)
        o->left -= n;
    return rc;
}

ss_code ss_safetensors_close(ss_safetensors_out *o, ss_error *err)
{
    if (!o->f.fp)
        return ss_fail(err, SS_ERR_USAGE, "safetensors: close of a closed file");
    if (o->left) {
        ss_fail(err, SS_ERR_USAGE, "%s: %llu of the %llu data bytes the header states were "
                "not written", o->f.path, (unsigned long long)o->left,
                (unsigned long long)o->total);
        ss_safetensors_abort(o);
        return err->code;
    }
    return ss_atomic_commit(&o->f, err);
}

void ss_safetensors_abort(ss_safetensors_out *o)
{
    ss_atomic_abort(&o->f);
}
