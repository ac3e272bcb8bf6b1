#include "io/safetensors_write.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"

static cJSON *header_json(const ss_tensor *const *t, int n, ss_error *err)
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
    return h;
}

ss_code ss_safetensors_write(const char *path, const ss_tensor *const *t, int n, ss_error *err)
{
    cJSON *h = header_json(t, n, err);
    if (!h)
        return err->code;
    char *text = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (!text)
        return ss_fail(err, SS_ERR_NOMEM, "safetensors header: out of memory");
    size_t len = strlen(text), padded = (len + 7) / 8 * 8;
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc) {
        free(text);
        return rc;
    }
    unsigned char size[8];
    for (int i = 0; i < 8; i++)
        size[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    fwrite(size, 1, 8, f.fp);
    fwrite(text, 1, len, f.fp);
    for (size_t i = len; i < padded; i++)
        fputc(' ', f.fp);
    free(text);
    for (int i = 0; i < n; i++)
        fwrite(t[i]->data, 1, t[i]->nbytes, f.fp);
    return ss_atomic_commit(&f, err);
}
