#include "model/hf_write.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/mem.h"
#include "io/atomic_file.h"
#include "io/safetensors_write.h"

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

/* The folder's regular files other than weights and checksums. */
static ss_code copy_side_files(const char *src, const char *dir, ss_error *err)
{
    DIR *d = opendir(src);
    if (!d)
        return ss_fail(err, SS_ERR_IO, "%s: cannot list the model folder", src);
    ss_code rc = SS_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        const char *name = e->d_name;
        if (name[0] == '.' || ends_with(name, ".safetensors") ||
            ends_with(name, ".safetensors.index.json") || !strcmp(name, "SHA256SUMS") /* a result folder's manifest: the new folder gets its own */)
            continue;
        char from[4096], to[4096];
        struct stat st;
        if (snprintf(from, sizeof from, "%s/%s", src, name) >= (int)sizeof from ||
            snprintf(to, sizeof to, "%s/%s", dir, name) >= (int)sizeof to) {
            rc = ss_fail(err, SS_ERR_USAGE, "%s/%s: path too long", src, name);
            break;
        }
        if (stat(from, &st) || !S_ISREG(st.st_mode))
            continue;
        char *data;
        size_t n;
        if (!(rc = ss_read_file(from, (size_t)1 << 30, &data, &n, err))) {
            rc = ss_write_file_atomic(to, data, n, err);
            free(data);
        }
    }
    closedir(d);
    return rc;
}

ss_code ss_hf_model_write(const ss_model *m, const ss_tensor *const *from, const ss_tensor *to,
                          int n, const char *dir, ss_error *err)
{
    if (m->format != SS_FMT_HF)
        return ss_fail(err, SS_ERR_USAGE, "%s: only a model opened from a Hugging Face folder "
                       "can be written back as one (convert it first)", m->path);
    const ss_tensor **list = ss_calloc((size_t)m->tensors.count, sizeof *list, "tensor list",
                                       err);
    ss_tensor *renamed = ss_calloc((size_t)(n ? n : 1), sizeof *renamed, "tensor list", err);
    ss_code rc = list && renamed ? SS_OK : SS_ERR_NOMEM;
    int found = 0;
    for (int i = 0; !rc && i < m->tensors.count; i++) {
        list[i] = &m->tensors.items[i];
        for (int r = 0; r < n; r++)
            if (from[r] == &m->tensors.items[i]) {
                renamed[r] = to[r];
                renamed[r].name = from[r]->name;
                list[i] = &renamed[r];
                found++;
            }
    }
    if (!rc && found != n)
        rc = ss_fail(err, SS_ERR_USAGE, "%s: a replaced projection is part of a fused tensor "
                     "(qkv_proj): such a model cannot be written with separate low-rank "
                     "matrices", m->path);
    char path[4096];
    if (!rc && snprintf(path, sizeof path, "%s/model.safetensors", dir) >= (int)sizeof path)
        rc = ss_fail(err, SS_ERR_USAGE, "%s: path too long", dir);
    if (!rc)
        rc = copy_side_files(m->path, dir, err);
    if (!rc)
        rc = ss_safetensors_write(path, list, m->tensors.count, err);
    free(list);
    free(renamed);
    return rc;
}
