/* The CLI's place in a distributed run (dist/dist.h): the job this process
 * is part of (rank 0 of 1 in a plain run), set up once in main. */
#ifndef SS_CLI_DIST_CLI_H
#define SS_CLI_DIST_CLI_H

#include "common/error.h"
#include "dist/dist.h"

extern ss_dist ss_cli_dist;

/* The exit status of a distributed command: 0 on success and on ranks > 0
 * whose part ended with the reduction (SS_STOP); else the message printed
 * naming the rank and prompt and, with several ranks, the whole job ended
 * (MPI_Abort) so none waits for this one. */
int ss_cli_dist_status(const char *cmd, ss_error *err);

#endif
