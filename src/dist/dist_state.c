/* The part of ss_dist that needs no MPI: the deal and the state buffers. */
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "dist/dist.h"

int ss_dist_launched(void)
{
    const char *vars[3] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"};
    for (int i = 0; i < 3; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

int ss_dist_take(void *ctx, int64_t index)
{
    ss_dist *d = ctx;
    if (index % d->size != d->rank)
        return 0;
    d->current = index;
    return 1;
}

void ss_dist_name_failure(const ss_dist *d, ss_error *err)
{
    if (d->size <= 1)
        return;
    if (d->current >= 0)
        ss_error_prefix(err, "rank %d of %d, prompt %lld of the source", d->rank, d->size,
                        (long long)d->current);
    else
        ss_error_prefix(err, "rank %d of %d", d->rank, d->size);
}

ss_code ss_dist_reduce_hook(void *ctx, ss_analysis *an, ss_error *err)
{
    return ss_dist_reduce(ctx, an, err);
}

static size_t fields_bytes(const ss_state_field *f, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += f[i].bytes;
    return total;
}

ss_code ss_dist_pack(const ss_analysis *an, unsigned char **buf, size_t *bytes, ss_error *err)
{
    ss_state_field f[SS_STATE_MAX_FIELDS];
    int n = ss_analysis_fields(an, f);
    if (n <= 0)
        return ss_fail(err, SS_ERR_USAGE, "%s: this analysis cannot be spread over processes "
                       "(no state fields)", an->vt->name);
    *bytes = fields_bytes(f, n);
    if (!(*buf = ss_calloc(*bytes ? *bytes : 1, 1, "state buffer", err)))
        return SS_ERR_NOMEM;
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        if (f[i].bytes)
            memcpy(*buf + at, f[i].data, f[i].bytes);
        at += f[i].bytes;
    }
    return SS_OK;
}

ss_code ss_dist_unpack(ss_analysis *an, const unsigned char *buf, size_t bytes, ss_error *err)
{
    ss_state_field f[SS_STATE_MAX_FIELDS];
    int n = ss_analysis_fields(an, f);
    if (fields_bytes(f, n) != bytes)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "%s: a state of %zu bytes, expected %zu (the "
                       "processes ran different settings)", an->vt->name, bytes,
                       fields_bytes(f, n));
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        if (f[i].bytes)
            memcpy(f[i].data, buf + at, f[i].bytes);
        at += f[i].bytes;
    }
    return SS_OK;
}
