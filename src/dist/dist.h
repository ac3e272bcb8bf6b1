/* A run spread over the processes of an MPI job (mpirun / srun), or the one
 * process of a plain run: the same calls either way, so the commands have
 * one code path.
 *
 * - ss_dist_init joins the job only when the environment says a launcher
 *   started us (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK): a plain run
 *   never initialises MPI and is rank 0 of 1.
 * - Prompts are dealt round robin: the source's prompt i goes to rank
 *   i mod K. Every prompt of a run has the same --len tokens, so equal
 *   counts are equal work (balanced by length), and the deal depends only
 *   on K.
 * - ss_dist_reduce brings every rank's analysis state to rank 0 and folds
 *   it in with the analysis's own merge, in rank order 1, 2, ..., K-1: the
 *   result is fixed for a given K and equals a one-process run up to the
 *   reassociation of float64 sums (counts bit for bit).
 * - a failure is reported naming the rank and the prompt under way
 *   (ss_dist_name_failure) and, in a job of several ranks, ends the whole
 *   job (ss_dist_abort: MPI_Abort), so no rank waits forever for a failed
 *   one; checkpoints are renamed into place, so the last one stays whole.
 * Built with MPI (CMake SS_MPI) from dist_mpi.c, else from dist_none.c. */
#ifndef SS_DIST_DIST_H
#define SS_DIST_DIST_H

#include <stdint.h>

#include "analysis/analysis.h"
#include "common/error.h"

typedef struct {
    int rank, size;   /* 0 and 1 in a plain run */
    int mpi;          /* MPI was initialised (finalise it in ss_dist_end) */
    int64_t current;  /* source index of the prompt last taken, -1: none */
} ss_dist;

/* argc/argv as main's (MPI may read them). */
ss_code ss_dist_init(ss_dist *d, int *argc, char ***argv, ss_error *err);
void ss_dist_end(ss_dist *d);
/* Whether the launcher environment names an MPI job (no MPI call). */
int ss_dist_launched(void);

/* ss_analysis_opts.take for this rank's share (ctx: the ss_dist). */
int ss_dist_take(void *ctx, int64_t index);

/* Folds every rank's state of `an` into rank 0's (see above). Rank 0
 * returns SS_OK with an holding all prompts; the other ranks return
 * SS_STOP (their part is done). A one-process run returns SS_OK at once. */
ss_code ss_dist_reduce(ss_dist *d, ss_analysis *an, ss_error *err);
/* The scan's hook (ss_scan_opts.reduce): ctx is the ss_dist. */
ss_code ss_dist_reduce_hook(void *ctx, ss_analysis *an, ss_error *err);

/* In a job of several ranks: prefixes "rank R of K, prompt P: " to the
 * message (P: the source index of the prompt under way, when one was). */
void ss_dist_name_failure(const ss_dist *d, ss_error *err);
/* In a job of several ranks, after the message is printed: ends the whole
 * job with MPI_Abort(status). Otherwise returns. */
void ss_dist_abort(const ss_dist *d, int status);

/* The fields of `an` as one buffer (*bytes long, the caller frees), and
 * back into an analysis of the same kind and settings (SS_ERR_INCOMPATIBLE
 * naming the field when sizes differ): the shared part of both builds. */
ss_code ss_dist_pack(const ss_analysis *an, unsigned char **buf, size_t *bytes, ss_error *err);
ss_code ss_dist_unpack(ss_analysis *an, const unsigned char *buf, size_t bytes, ss_error *err);

#endif
