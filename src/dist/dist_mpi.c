/* ss_dist over MPI (built with SS_MPI): joining the job, the broadcast, the
 * exact reduction to rank 0 and the job-wide abort. Only this file calls
 * MPI. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "dist/dist.h"

ss_code ss_dist_init(ss_dist *d, int *argc, char ***argv, ss_error *err)
{
    *d = (ss_dist){.rank = 0, .size = 1, .current = -1};
    ss_dist_bind(d);
    ss_code rc = ss_dist_check_srun(err);
    if (rc)
        return rc;
    if (!ss_dist_launched())
        return SS_OK; /* a plain run: no MPI at all */
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return ss_fail(err, SS_ERR_IO, "MPI_Init failed (started by mpirun/srun?)");
    d->mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    return SS_OK;
}

void ss_dist_end(ss_dist *d)
{
    ss_dist_release(d);
    if (d->mpi)
        MPI_Finalize();
    d->mpi = 0;
}

void ss_dist_abort(const ss_dist *d, int status)
{
    if (d->mpi && d->size > 1)
        MPI_Abort(MPI_COMM_WORLD, status);
}

void ss_dist_bcast_i64(const ss_dist *d, int64_t *v, int64_t n)
{
    if (d->mpi && d->size > 1 && n > 0)
        MPI_Bcast(v, (int)n, MPI_INT64_T, 0, MPI_COMM_WORLD);
}

/* Bytes go in pieces of at most 1 GiB: MPI counts are ints. */
#define PIECE ((size_t)1 << 30)

static void send_state(const unsigned char *buf, size_t bytes)
{
    unsigned long long n = bytes;
    MPI_Send(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, 1, MPI_COMM_WORLD);
    for (size_t at = 0; at < bytes; at += PIECE) {
        size_t k = bytes - at < PIECE ? bytes - at : PIECE;
        MPI_Send(buf + at, (int)k, MPI_BYTE, 0, 2, MPI_COMM_WORLD);
    }
}

static ss_code recv_state(int from, unsigned char **buf, size_t *bytes, ss_error *err)
{
    unsigned long long n = 0;
    MPI_Recv(&n, 1, MPI_UNSIGNED_LONG_LONG, from, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    *bytes = (size_t)n;
    if (!(*buf = malloc(n ? n : 1)))
        return ss_fail(err, SS_ERR_NOMEM, "rank %d's state: out of memory (%llu bytes)", from, n);
    for (size_t at = 0; at < *bytes; at += PIECE) {
        size_t k = *bytes - at < PIECE ? *bytes - at : PIECE;
        MPI_Recv(*buf + at, (int)k, MPI_BYTE, from, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    return SS_OK;
}

ss_code ss_dist_reduce(void *ctx, ss_analysis *const *an, int n, ss_error *err)
{
    ss_dist *d = ctx;
    if (d->size <= 1)
        return SS_OK;
    ss_code saved = ss_dist_ck_save(d, an, n, err);
    if (saved)
        return saved;
    if (d->rank != 0) {
        unsigned char *buf;
        size_t bytes;
        ss_code rc = ss_dist_pack(an, n, &buf, &bytes, err);
        if (rc)
            return rc;
        send_state(buf, bytes);
        free(buf);
        return ss_fail(err, SS_STOP, "rank %d: sums sent to rank 0", d->rank);
    }
    /* in rank order: the same sums in the same order for a given K */
    for (int r = 1; r < d->size; r++) {
        unsigned char *buf = NULL;
        size_t bytes = 0;
        char what[64];
        snprintf(what, sizeof what, "the state of rank %d", r);
        ss_code rc = recv_state(r, &buf, &bytes, err);
        if (!rc)
            rc = ss_dist_fold(an, n, buf, bytes, what, err);
        free(buf);
        if (rc)
            return rc;
    }
    return SS_OK;
}
