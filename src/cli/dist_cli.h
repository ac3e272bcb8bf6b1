/* The CLI's place in a distributed run (dist/dist.h): the job this process
 * is part of (rank 0 of 1 in a plain run), set up once in main. */
#ifndef SS_CLI_DIST_CLI_H
#define SS_CLI_DIST_CLI_H

#include "cli/args.h"
#include "common/error.h"
#include "dist/dist.h"

extern ss_dist ss_cli_dist;

/* The flags of a distributed run's checkpoints (scan has its own). */
#define SS_DIST_FLAGS {"--resume", 0}, {"--checkpoint-every", 1}
#define SS_DIST_USAGE \
    "under mpirun/srun (docs/cluster.md): the prompts are dealt to the ranks, rank 0 writes\n" \
    "  the results; every rank checkpoints to OUT/checkpoint-mpi every --checkpoint-every K\n" \
    "  prompts (default 8); --resume continues a killed run with any number of ranks.\n"

/* Whether this command runs as a distributed run: under mpirun/srun, or
 * when out/checkpoint-mpi holds such a run's checkpoints (a plain run can
 * resume them). Then sets up those checkpoints with the command line
 * (argv, less --resume, --quiet, --threads and --checkpoint-every) as the
 * settings a resume must match. *on = 0 for a plain run. */
ss_code ss_cli_dist_setup(const ss_args *a, int argc, char **argv, const char *out, int *on,
                          ss_error *err);
/* Whether ss_cli_dist_setup turned it on. */
int ss_cli_dist_on(void);

/* The exit status of a command: 0 on success (rank 0 then removes the
 * checkpoints) and on ranks > 0 whose part ended with the reduction
 * (SS_STOP); else the message printed naming the rank and prompt and, with
 * several ranks, the whole job ended (MPI_Abort) so none waits for this
 * one. */
int ss_cli_dist_status(const char *cmd, ss_error *err);

#endif
