/* A run spread over the processes of an MPI job (mpirun / srun), or the one
 * process of a plain run: the same calls either way, so the commands have
 * one code path (docs/cluster.md).
 *
 * - ss_dist_init joins the job only when the environment says a launcher
 *   started us (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK): a plain run
 *   never initialises MPI and is rank 0 of 1.
 * - The deal: the prompts still to run, in source order, go round robin:
 *   the j-th of them to rank j mod K. Every prompt of a run has the same
 *   --len tokens, so equal counts are equal work (balanced by length); the
 *   deal depends only on K and on what a checkpoint already holds.
 * - The reduction (share.finish) brings every rank's analysis state (the
 *   analysis's fields) to rank 0 and folds it in with the analysis's own
 *   merge, in rank order 1, 2, ..., K-1: counts are bit for bit those of a
 *   one-process run, float64 sums equal up to reassociation (~1e-16
 *   relative), and the same K gives the same bytes run to run.
 * - Checkpoints (when a folder is given): the run's work folder OUT.partial
 *   (store/folder.h: rank 0 holds its lock for the whole run, and commits
 *   or aborts it). Every rank saves its state, and the source indices of
 *   the prompts it holds, in the store's checkpoint format
 *   (store/checkpoint.h: checksummed; contents checked on load) in
 *   OUT.partial/checkpoint/ (rank 0) or OUT.partial/checkpoint/rank<R>/,
 *   each state naming its epoch E. A resume, with any K, takes rank 0's
 *   epoch E: rank 0 merges every rank's checkpoint of E into its own
 *   state, all ranks skip those prompts, and rank 0 commits epoch E+1 at
 *   once (its checkpoint then holds everything earlier) before it removes
 *   the other ranks' folders. The commit of the result removes them all.
 * - No rank spins while it waits for another (dist_mpi.c): non-blocking
 *   calls completed by MPI_Test with a short sleep between tests.
 * - SIGTERM (common/terminate.h) stops every rank at its next prompt
 *   boundary, each saving its checkpoint of the same epoch first
 *   (ss_dist_stop_asked, ss_dist_stopped): a resume loses no finished
 *   prompt.
 * - A failure is reported naming the rank and the prompt under way
 *   (ss_dist_name_failure) and, in a job of several ranks, ends the whole
 *   job (ss_dist_abort: MPI_Abort), so no rank waits for a failed one.
 * Built with MPI (CMake SS_MPI) from dist_mpi.c, else from dist_none.c;
 * dist_state.c (deal, state buffers) and dist_checkpoint.c are common. */
#ifndef SS_DIST_DIST_H
#define SS_DIST_DIST_H

#include <stdint.h>

#include "analysis/analysis.h"
#include "common/error.h"

typedef struct {
    int rank, size;      /* 0 and 1 in a plain run */
    int mpi;             /* MPI was initialised (finalised by ss_dist_end) */
    int64_t current;     /* source index of the prompt last taken, -1: none */
    int in_prompt;       /* that prompt is under way (taken, not yet ended) */
    /* the deal */
    int64_t *skip;       /* sorted source indices a checkpoint already holds */
    int64_t n_skip, skip_at, remaining_seen;
    /* checkpoints: dir[0] == 0 for none */
    char dir[4096];      /* the work folder OUT.partial */
    char *settings;      /* what a resume must match (the command line), owned */
    int resume, every;   /* --resume; prompts between saves */
    double every_s, last_save;
    int64_t epoch, since_save;
    int64_t generation;  /* of this rank's checkpoint (store/checkpoint.h) */
    int64_t *held;       /* source indices of the prompts in this rank's state */
    int64_t n_held, cap_held;
    ss_analysis_share share; /* the hooks, ctx = this */
    int terminated;      /* stopped on request (SIGTERM here or on another rank) */
    int told;            /* the other ranks were told to stop */
} ss_dist;

/* argc/argv as main's (MPI may read them). */
ss_code ss_dist_init(ss_dist *d, int *argc, char ***argv, ss_error *err);
void ss_dist_end(ss_dist *d);
/* Whether the launcher environment names an MPI job (no MPI call). */
int ss_dist_launched(void);
/* Refuses an srun step of several tasks that carries no PMI environment
 * (srun without --mpi=pmix at a site whose MpiDefault is none): each task
 * would otherwise run the whole job alone and all but one stop on the lock.
 * For the commands that spread (the CLI checks it before ss_dist_init). */
ss_code ss_dist_check_srun(ss_error *err);

/* Checkpoints in the work folder `work` (OUT.partial, begun by rank 0)
 * every `every` prompts and at least every 5 minutes; settings: what a
 * resume must match (copied). Without resume, a checkpoint there is refused. */
ss_code ss_dist_checkpoints(ss_dist *d, const char *work, const char *settings, int resume,
                            int every, ss_error *err);
/* Adds words to the settings a resume must match (what the command line
 * does not pin down: the weights' and the prompts' digests). Before the
 * run starts. */
ss_code ss_dist_add_settings(ss_dist *d, const char *words, ss_error *err);
/* Whether the work folder holds the checkpoint of a distributed run. */
int ss_dist_has_checkpoints(const char *work);

/* In a job of several ranks: prefixes "rank R of K, prompt P of the
 * source: " to the message (P when a prompt was under way). */
void ss_dist_name_failure(const ss_dist *d, ss_error *err);
/* In a job of several ranks, after the message is printed: ends the whole
 * job with MPI_Abort(status). Otherwise returns. */
void ss_dist_abort(const ss_dist *d, int status);

/* Whether this rank is asked to stop: SIGTERM (common/terminate.h) here,
 * or a STOP message from another rank. Checked after every prompt and
 * while waiting for the reduction; the stop saves everything finished. */
int ss_dist_stop_asked(const ss_dist *d);
/* The stop: marks d terminated, tells every other rank (once) and fails
 * err with SS_STOP. The ranks do not MPI_Abort: they meet in ss_dist_end. */
ss_code ss_dist_stopped(ss_dist *d, ss_error *err);
void ss_dist_tell_stop(ss_dist *d);

/* Ready for another run in this process (study runs several commands):
 * the deal, the checkpoint settings and the held prompts forgotten, the
 * job (rank, size, MPI) kept. */
void ss_dist_reset(ss_dist *d);

/* ---- between the files of this unit ---- */

/* Every rank of the job meets here, asleep while it waits (no-op in one
 * process). */
void ss_dist_barrier(const ss_dist *d);
/* Rank 0's values to every rank (no-op in one process). */
void ss_dist_bcast_i64(const ss_dist *d, int64_t *v, int64_t n);
/* share.finish: the reduction. */
ss_code ss_dist_reduce(void *ctx, ss_analysis *const *an, int n, ss_error *err);
/* share.start and share.after_prompt (dist_checkpoint.c). */
ss_code ss_dist_ck_start(void *ctx, ss_analysis *const *an, int n, ss_error *err);
ss_code ss_dist_ck_after_prompt(void *ctx, ss_analysis *const *an, int n, ss_error *err);
/* Saves this rank's state now if prompts were added since the last save
 * (before the reduction: a rank's finished work survives a later kill). */
ss_code ss_dist_ck_save(ss_dist *d, ss_analysis *const *an, int n, ss_error *err);
/* Binds share's hooks to d (ss_dist_init calls it); releases what d owns
 * (ss_dist_end calls it). */
void ss_dist_bind(ss_dist *d);
void ss_dist_release(ss_dist *d);

/* The fields of the n analyses as one buffer (*bytes long, the caller
 * frees), and back into analyses of the same kinds and settings
 * (SS_ERR_INCOMPATIBLE when the sizes differ). */
ss_code ss_dist_pack(ss_analysis *const *an, int n, unsigned char **buf, size_t *bytes,
                     ss_error *err);
ss_code ss_dist_unpack(ss_analysis *const *an, int n, const unsigned char *buf, size_t bytes,
                       ss_error *err);
/* Unpacks buf into fresh copies of an[] and merges them into an[]; `what`
 * names the buffer in messages ("rank 2's state", a checkpoint file). */
ss_code ss_dist_fold(ss_analysis *const *an, int n, const unsigned char *buf, size_t bytes,
                     const char *what, ss_error *err);
/* The same with the fresh copies filled by fill (a checkpoint's arrays). */
typedef ss_code (*ss_dist_fill_fn)(void *ctx, ss_analysis *const *fresh, int n, ss_error *err);
ss_code ss_dist_fold_with(ss_analysis *const *an, int n, ss_dist_fill_fn fill, void *ctx,
                          const char *what, ss_error *err);
/* Every analysis's state fields in order into f (cap entries); -1 when one
 * has none or they do not fit. */
#define SS_DIST_MAX_FIELDS (4 * SS_STATE_MAX_FIELDS)
int ss_dist_fields(ss_analysis *const *an, int n, ss_state_field *f, int cap);

#endif
