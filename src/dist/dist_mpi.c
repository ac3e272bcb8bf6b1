/* ss_dist over MPI (built with SS_MPI): joining the job, the broadcast, the
 * exact reduction to rank 0, the stop on request and the job-wide abort.
 * Only this file calls MPI.
 *
 * No rank spins while it waits. Open MPI busy-polls inside every blocking
 * call, so a rank that has finished its prompts would take a core from the
 * ranks still working on a node they share. Every wait for another rank is
 * a non-blocking call completed by MPI_Test with a sleep between tests
 * (1 ms, doubling to 50 ms): the broadcasts, the hand-over of the states
 * and the barrier before MPI_Finalize. The states themselves move by
 * blocking calls, once both sides are ready: rank 0 asks rank R for its
 * state ("go") only when it is ready to receive it, so the transfer runs
 * at full speed and no one waits inside it.
 *
 * A stop on request (SIGTERM, common/terminate.h) reaches every rank: the
 * rank that sees it first saves its checkpoint and tells every other rank
 * (a STOP message); each rank checks for either after every prompt and
 * while it waits for the hand-over, saves, and leaves without the
 * reduction. A rank that has sent its header waits for rank 0's "go" or
 * rank 0's STOP only (rank 0 answers every header with one of them), so
 * no transfer is begun by one side and abandoned by the other. All ranks
 * then meet in the barrier before MPI_Finalize. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/terminate.h"
#include "dist/dist.h"

enum { TAG_SIZE = 1, TAG_BYTES = 2, TAG_STOP = 3, TAG_GO = 4 };

ss_code ss_dist_init(ss_dist *d, int *argc, char ***argv, ss_error *err)
{
    *d = (ss_dist){.rank = 0, .size = 1, .current = -1};
    ss_dist_bind(d);
    if (!ss_dist_launched())
        return SS_OK; /* a plain run: no MPI at all */
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return ss_fail(err, SS_ERR_IO, "MPI_Init failed (started by mpirun/srun?)");
    d->mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    return SS_OK;
}

/* Whether a STOP message from `from` (MPI_ANY_SOURCE: any rank) waits. */
static int stop_message(int from)
{
    int flag = 0;
    MPI_Iprobe(from, TAG_STOP, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
    return flag;
}

int ss_dist_stop_asked(const ss_dist *d)
{
    if (ss_terminate_requested() || d->terminated)
        return 1;
    return d->mpi && d->size > 1 && stop_message(MPI_ANY_SOURCE);
}

void ss_dist_tell_stop(ss_dist *d)
{
    if (d->told || !d->mpi || d->size <= 1)
        return;
    d->told = 1;
    static int word = 1; /* outlives the sends, which complete on their own */
    for (int r = 0; r < d->size; r++) {
        if (r == d->rank)
            continue;
        MPI_Request q;
        MPI_Isend(&word, 1, MPI_INT, r, TAG_STOP, MPI_COMM_WORLD, &q);
        MPI_Request_free(&q);
    }
}

/* Completes *q, sleeping between tests. With watch (a receive from another
 * rank): gives up, returning 0 with *q cancelled, when a stop is asked:
 * watch 1 for this rank's SIGTERM or a STOP from any rank, watch 2 for a
 * STOP from rank 0 only. Returns 1 when *q completed (also when it did so
 * just before the cancel: the message is then taken, not lost). */
static int wait_quietly(const ss_dist *d, MPI_Request *q, int watch)
{
    long ns = 1000000;
    for (;;) {
        int done = 0;
        MPI_Test(q, &done, MPI_STATUS_IGNORE);
        if (done)
            return 1;
        if ((watch == 1 && ss_dist_stop_asked(d)) || (watch == 2 && stop_message(0))) {
            MPI_Status st;
            int cancelled = 0;
            MPI_Cancel(q);
            MPI_Wait(q, &st);
            MPI_Test_cancelled(&st, &cancelled);
            return !cancelled;
        }
        struct timespec t = {0, ns};
        nanosleep(&t, NULL);
        ns = ns * 2 > 50000000 ? 50000000 : ns * 2;
    }
}

void ss_dist_barrier(const ss_dist *d)
{
    if (!(d->mpi && d->size > 1))
        return;
    MPI_Request q;
    MPI_Ibarrier(MPI_COMM_WORLD, &q);
    wait_quietly(d, &q, 0);
}

void ss_dist_end(ss_dist *d)
{
    ss_dist_release(d);
    /* the ranks that are done wait here while rank 0 writes the result:
     * asleep, so MPI_Finalize finds them all and returns at once */
    ss_dist_barrier(d);
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
    if (!(d->mpi && d->size > 1 && n > 0))
        return;
    MPI_Request q;
    MPI_Ibcast(v, (int)n, MPI_INT64_T, 0, MPI_COMM_WORLD, &q);
    wait_quietly(d, &q, 0);
}

/* Bytes go in pieces of at most 1 GiB: MPI counts are ints. */
#define PIECE ((size_t)1 << 30)

/* Rank R > 0: the size, then (on rank 0's go) the bytes. 0: stopped. */
static int send_state(ss_dist *d, const unsigned char *buf, size_t bytes)
{
    unsigned long long n = bytes;
    int go = 0;
    MPI_Request head, ask;
    MPI_Isend(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, TAG_SIZE, MPI_COMM_WORLD, &head);
    MPI_Irecv(&go, 1, MPI_INT, 0, TAG_GO, MPI_COMM_WORLD, &ask);
    if (!wait_quietly(d, &ask, 2)) {
        MPI_Request_free(&head); /* rank 0 stopped before asking: it never will */
        return 0;
    }
    MPI_Wait(&head, MPI_STATUS_IGNORE); /* received: rank 0 asked */
    for (size_t at = 0; at < bytes; at += PIECE) {
        size_t k = bytes - at < PIECE ? bytes - at : PIECE;
        MPI_Send(buf + at, (int)k, MPI_BYTE, 0, TAG_BYTES, MPI_COMM_WORLD);
    }
    return 1;
}

/* Rank 0: rank `from`'s size (waiting asleep, or stopping), then its
 * bytes. *stopped = 1 when a stop was asked first. */
static ss_code recv_state(const ss_dist *d, int from, unsigned char **buf, size_t *bytes,
                          int *stopped, ss_error *err)
{
    unsigned long long n = 0;
    MPI_Request head;
    MPI_Irecv(&n, 1, MPI_UNSIGNED_LONG_LONG, from, TAG_SIZE, MPI_COMM_WORLD, &head);
    if (!wait_quietly(d, &head, 1)) {
        *stopped = 1;
        return SS_OK;
    }
    *bytes = (size_t)n;
    if (!(*buf = malloc(n ? n : 1)))
        return ss_fail(err, SS_ERR_NOMEM, "rank %d's state: out of memory (%llu bytes)", from, n);
    int go = 1;
    MPI_Send(&go, 1, MPI_INT, from, TAG_GO, MPI_COMM_WORLD);
    for (size_t at = 0; at < *bytes; at += PIECE) {
        size_t k = *bytes - at < PIECE ? *bytes - at : PIECE;
        MPI_Recv(*buf + at, (int)k, MPI_BYTE, from, TAG_BYTES, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    return SS_OK;
}

ss_code ss_dist_reduce(void *ctx, ss_analysis *const *an, int n, ss_error *err)
{
    ss_dist *d = ctx;
    if (d->size <= 1)
        return SS_OK;
    /* before the reduction: after it a stop saves nothing (rank 0's state
     * then holds other ranks' prompts, which their checkpoints hold) */
    ss_code saved = ss_dist_ck_save(d, an, n, err);
    if (saved)
        return saved;
    if (ss_dist_stop_asked(d))
        return ss_dist_stopped(d, err);
    if (d->rank != 0) {
        unsigned char *buf;
        size_t bytes;
        ss_code rc = ss_dist_pack(an, n, &buf, &bytes, err);
        if (rc)
            return rc;
        int sent = send_state(d, buf, bytes);
        free(buf);
        if (!sent)
            return ss_dist_stopped(d, err);
        return ss_fail(err, SS_STOP, "rank %d: sums sent to rank 0", d->rank);
    }
    /* in rank order: the same sums in the same order for a given K */
    for (int r = 1; r < d->size; r++) {
        unsigned char *buf = NULL;
        size_t bytes = 0;
        int stopped = 0;
        char what[64];
        snprintf(what, sizeof what, "the state of rank %d", r);
        ss_code rc = recv_state(d, r, &buf, &bytes, &stopped, err);
        if (!rc && stopped)
            rc = ss_dist_stopped(d, err);
        else if (!rc)
            rc = ss_dist_fold(an, n, buf, bytes, what, err);
        free(buf);
        if (rc)
            return rc;
    }
    return SS_OK;
}
