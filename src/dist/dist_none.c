/* ss_dist without MPI: the single process a plain run is. A launcher's
 * environment is refused rather than run K times over the same prompts. */
#include <stdio.h>

#include "dist/dist.h"

ss_code ss_dist_init(ss_dist *d, int *argc, char ***argv, ss_error *err)
{
    (void)argc;
    (void)argv;
    *d = (ss_dist){.rank = 0, .size = 1, .current = -1};
    if (ss_dist_launched())
        return ss_fail(err, SS_ERR_USAGE, "started by mpirun/srun, but this slashscope was "
                       "built without MPI (rebuild with libopenmpi-dev installed: CMake "
                       "SS_MPI=ON; docs/cluster.md)");
    return SS_OK;
}

void ss_dist_end(ss_dist *d)
{
    (void)d;
}

ss_code ss_dist_reduce(ss_dist *d, ss_analysis *an, ss_error *err)
{
    (void)d;
    (void)an;
    (void)err;
    return SS_OK;
}

void ss_dist_abort(const ss_dist *d, int status)
{
    (void)d;
    (void)status;
}
