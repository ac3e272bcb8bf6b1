/* ss_dist without MPI: the single process a plain run is (it can still
 * resume a distributed run's checkpoints). A launcher's environment is
 * refused rather than run K times over the same prompts. */
#include "common/terminate.h"
#include "dist/dist.h"

ss_code ss_dist_init(ss_dist *d, int *argc, char ***argv, ss_error *err)
{
    (void)argc;
    (void)argv;
    *d = (ss_dist){.rank = 0, .size = 1, .current = -1};
    ss_dist_bind(d);
    if (ss_dist_launched())
        return ss_fail(err, SS_ERR_USAGE, "started by mpirun/srun, but this slashscope was "
                       "built without MPI (install libopenmpi-dev and rebuild: CMake SS_MPI; "
                       "docs/cluster.md)");
    return SS_OK;
}

void ss_dist_end(ss_dist *d)
{
    ss_dist_release(d);
}

void ss_dist_abort(const ss_dist *d, int status)
{
    (void)d;
    (void)status;
}

void ss_dist_bcast_i64(const ss_dist *d, int64_t *v, int64_t n)
{
    (void)d;
    (void)v;
    (void)n;
}

ss_code ss_dist_reduce(void *ctx, ss_analysis *const *an, int n, ss_error *err)
{
    (void)ctx;
    (void)an;
    (void)n;
    (void)err;
    return SS_OK;
}

int ss_dist_stop_asked(const ss_dist *d)
{
    return ss_terminate_requested() || d->terminated;
}

void ss_dist_tell_stop(ss_dist *d)
{
    (void)d;
}

void ss_dist_barrier(const ss_dist *d)
{
    (void)d;
}
