/* The CLI's place in a distributed run (dist/dist.h): the job this process
 * is part of (rank 0 of 1 in a plain run), set up once in main. */
#ifndef SS_CLI_DIST_CLI_H
#define SS_CLI_DIST_CLI_H

#include "analysis/prompts.h"
#include "cli/args.h"
#include "cli/model_run.h"
#include "common/error.h"
#include "dist/dist.h"
#include "model/model.h"
#include "store/folder.h"

extern ss_dist ss_cli_dist;

/* The flags of a distributed run's checkpoints (scan has its own). */
#define SS_DIST_FLAGS {"--resume", 0}, {"--checkpoint-every", 1}
#define SS_DIST_USAGE \
    "Checkpoints: every --checkpoint-every K prompts (default 8; also every 5 minutes) and\n" \
    "  on SIGTERM (after the prompt under way) into DIR.partial; --resume continues a killed\n" \
    "  run (the same command line), as one process or under mpirun/srun with any number of\n" \
    "  ranks (docs/cluster.md: the prompts dealt to the ranks, rank 0 writes the results).\n"

/* Whether this command runs as a distributed run: always when `always`
 * (rank and freq: a plain run is the job of one rank, with the same
 * checkpoints), else under mpirun/srun or when OUT.partial holds such a
 * run's checkpoint (a plain scan, which has its own checkpoint, can resume
 * it). *on = 0 for a plain scan (on may be NULL when `always`): f then
 * only names --out's paths and the command begins its own transaction.
 * Otherwise rank 0 begins the transaction on f (--force, --resume; marker: the command's JSON file,
 * store/folder.h) and every rank sets up its checkpoints in f->work, with
 * the command line (argv, less --resume, --quiet, --force, --threads and
 * --checkpoint-every) as the settings a resume must match. */
ss_code ss_cli_dist_setup(ss_folder *f, const ss_args *a, int argc, char **argv,
                          const char *marker, int always, int *on, ss_error *err);
/* Adds to the settings a resume must match what the command line does not
 * pin down: "version=<SS_VERSION>" (this slashscope) and, since the same
 * paths may hold other contents on a later run, "weights=xxh3-128:<the
 * fingerprint of r's model>", "prompts=sha256:<digest>" (of the source p,
 * or without one of r's single sequence ids), for a text
 * source "tokenizer=sha256:<vocabulary digest>", and with --lowrank
 * "lowrank=sha256:<the plan folder's digest>". As words, so a refusal
 * names the one that differs. After ss_cli_dist_setup turned the run on,
 * before it starts; a no-op without checkpoints. */
ss_code ss_cli_dist_identify(const ss_model_run *r, const ss_prompts *p,
                             const ss_prompt_opts *popts, ss_error *err);
/* The end of a distributed run's transaction: rank 0 commits f when err
 * holds no error (the checkpoints go with it), else aborts it (keeping the
 * checkpoint for --resume); other ranks leave it to rank 0. Returns
 * err->code. */
ss_code ss_cli_dist_end(ss_folder *f, ss_error *err);
/* Whether ss_cli_dist_setup turned it on. */
int ss_cli_dist_on(void);

/* The exit status of a command: 0 on success and on ranks > 0 whose part ended with the reduction
 * (SS_STOP); else the message printed naming the rank and prompt and, with
 * several ranks, the whole job ended (MPI_Abort) so none waits for this
 * one. */
int ss_cli_dist_status(const char *cmd, ss_error *err);

#endif
