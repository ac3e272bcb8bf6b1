/* The part of ss_dist that needs no MPI: the deal, state buffers, the fold
 * of a state into analyses and the failure's name. */
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

ss_code ss_dist_check_srun(ss_error *err)
{
    const char *tasks = getenv("SLURM_STEP_NUM_TASKS"); /* set in srun steps, not in the batch step */
    if (ss_dist_launched() || !tasks || atol(tasks) <= 1)
        return SS_OK;
    return ss_fail(err, SS_ERR_USAGE, "started by srun as one of %ld tasks, but without PMI: "
                   "each task would run the whole job alone; launch with `srun --mpi=pmix` "
                   "(docs/cluster.md)", atol(tasks));
}

/* share.take: indices come in increasing order, so the skip list is walked
 * once; the j-th prompt not skipped goes to rank j mod K. */
static int take(void *ctx, int64_t index)
{
    ss_dist *d = ctx;
    while (d->skip_at < d->n_skip && d->skip[d->skip_at] < index)
        d->skip_at++;
    if (d->skip_at < d->n_skip && d->skip[d->skip_at] == index)
        return 0;
    if (d->remaining_seen++ % d->size != d->rank)
        return 0;
    d->current = index;
    d->in_prompt = 1;
    return 1;
}

void ss_dist_bind(ss_dist *d)
{
    d->share = (ss_analysis_share){.ctx = d, .take = take, .start = ss_dist_ck_start,
                                   .after_prompt = ss_dist_ck_after_prompt,
                                   .finish = ss_dist_reduce};
}

void ss_dist_release(ss_dist *d)
{
    free(d->skip);
    free(d->held);
    free(d->settings);
    d->skip = d->held = NULL;
    d->settings = NULL;
    d->n_skip = d->n_held = d->cap_held = 0;
}

void ss_dist_name_failure(const ss_dist *d, ss_error *err)
{
    if (d->size <= 1)
        return;
    if (d->in_prompt)
        ss_error_prefix(err, "rank %d of %d, prompt %lld of the source", d->rank, d->size,
                        (long long)d->current);
    else
        ss_error_prefix(err, "rank %d of %d", d->rank, d->size);
}

/* Every analysis's fields in order; -1 when one has none. */
static int all_fields(ss_analysis *const *an, int n, ss_state_field *f, int cap)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (k + SS_STATE_MAX_FIELDS > cap)
            return -1;
        int got = ss_analysis_fields(an[i], f + k);
        if (got <= 0)
            return -1;
        k += got;
    }
    return k;
}

#define MAX_ANALYSES 4

static size_t fields_bytes(const ss_state_field *f, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += f[i].bytes;
    return total;
}

ss_code ss_dist_pack(ss_analysis *const *an, int n, unsigned char **buf, size_t *bytes,
                     ss_error *err)
{
    ss_state_field f[MAX_ANALYSES * SS_STATE_MAX_FIELDS];
    int k = all_fields(an, n, f, MAX_ANALYSES * SS_STATE_MAX_FIELDS);
    if (k < 0)
        return ss_fail(err, SS_ERR_USAGE, "these analyses cannot be spread over processes "
                       "(at most %d, each with state fields)", MAX_ANALYSES);
    *bytes = fields_bytes(f, k);
    if (!(*buf = ss_calloc(*bytes ? *bytes : 1, 1, "state buffer", err)))
        return SS_ERR_NOMEM;
    size_t at = 0;
    for (int i = 0; i < k; i++) {
        if (f[i].bytes)
            memcpy(*buf + at, f[i].data, f[i].bytes);
        at += f[i].bytes;
    }
    return SS_OK;
}

ss_code ss_dist_unpack(ss_analysis *const *an, int n, const unsigned char *buf, size_t bytes,
                       ss_error *err)
{
    ss_state_field f[MAX_ANALYSES * SS_STATE_MAX_FIELDS];
    int k = all_fields(an, n, f, MAX_ANALYSES * SS_STATE_MAX_FIELDS);
    if (k < 0)
        return ss_fail(err, SS_ERR_USAGE, "these analyses have no state fields");
    if (fields_bytes(f, k) != bytes)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "a state of %zu bytes, expected %zu (made with "
                       "other settings)", bytes, fields_bytes(f, k));
    size_t at = 0;
    for (int i = 0; i < k; i++) {
        if (f[i].bytes)
            memcpy(f[i].data, buf + at, f[i].bytes);
        at += f[i].bytes;
    }
    return SS_OK;
}

ss_code ss_dist_fold_with(ss_analysis *const *an, int n, ss_dist_fill_fn fill, void *ctx,
                          const char *what, ss_error *err)
{
    if (n > MAX_ANALYSES)
        return ss_fail(err, SS_ERR_USAGE, "at most %d analyses in a distributed run",
                       MAX_ANALYSES);
    ss_analysis other[MAX_ANALYSES];
    ss_analysis *list[MAX_ANALYSES] = {0};
    memset(other, 0, sizeof other);
    ss_code rc = SS_OK;
    for (int i = 0; i < n && !rc; i++) {
        list[i] = &other[i];
        rc = an[i]->vt->fresh ? an[i]->vt->fresh(an[i]->self, &other[i], err)
                              : ss_fail(err, SS_ERR_USAGE, "%s: cannot receive another "
                                        "process's state", an[i]->vt->name);
    }
    if (!rc)
        rc = fill(ctx, list, n, err);
    for (int i = 0; i < n && !rc; i++)
        rc = ss_analysis_merge(an[i], &other[i], err);
    /* a checkpoint's own messages name its folder already */
    if (rc && strncmp(err->msg, what, strlen(what)) != 0)
        ss_error_prefix(err, "%s", what);
    for (int i = 0; i < n; i++)
        if (other[i].vt)
            ss_analysis_free(&other[i]);
    return rc;
}

typedef struct {
    const unsigned char *buf;
    size_t bytes;
} packed;

static ss_code fill_unpack(void *ctx, ss_analysis *const *fresh, int n, ss_error *err)
{
    const packed *p = ctx;
    return ss_dist_unpack(fresh, n, p->buf, p->bytes, err);
}

ss_code ss_dist_fold(ss_analysis *const *an, int n, const unsigned char *buf, size_t bytes,
                     const char *what, ss_error *err)
{
    packed p = {buf, bytes};
    return ss_dist_fold_with(an, n, fill_unpack, &p, what, err);
}

int ss_dist_fields(ss_analysis *const *an, int n, ss_state_field *f, int cap)
{
    return all_fields(an, n, f, cap);
}

void ss_dist_reset(ss_dist *d)
{
    ss_dist_release(d);
    ss_dist keep = {.rank = d->rank, .size = d->size, .mpi = d->mpi, .current = -1,
                    .terminated = d->terminated, .told = d->told};
    *d = keep;
    ss_dist_bind(d);
}

ss_code ss_dist_stopped(ss_dist *d, ss_error *err)
{
    d->terminated = 1;
    ss_dist_tell_stop(d);
    return ss_fail(err, SS_STOP, "stopped on request (SIGTERM)%s", d->dir[0] ?
                   ", every finished prompt saved in the checkpoints" : "");
}
