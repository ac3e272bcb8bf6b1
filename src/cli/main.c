/* slashscope: find and explain slash-dominant attention heads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/dist_cli.h"
#include "common/terminate.h"
#include "common/timing.h"
#include "engine/blas.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"info", cmd_info, "architecture, dimensions, dtype and RoPE schedule of a model"},
    {"tokenize", cmd_tokenize, "text to token ids with the model's tokenizer"},
    {"detokenize", cmd_detokenize, "token ids to the text they stand for"},
    {"logits", cmd_logits, "logits at every position of a sequence, as .npy"},
    {"ppl", cmd_ppl, "loss and perplexity of a prompt set (per prompt, per position)"},
    {"attn", cmd_attn, "one head's attention probabilities, as .npy"},
    {"scan", cmd_scan, "average slash scores of every head over a set of prompts; SDHs"},
    {"sdh", cmd_sdh, "the slash-dominant heads of a scan, by offset"},
    {"compare", cmd_compare, "SDH scores of an in-distribution scan vs an OOD scan, ratios"},
    {"merge", cmd_merge, "merge scans over disjoint prompt sets"},
    {"rank", cmd_rank, "low rank of pre-PE Q, K, hidden states and W_Q, W_K per head"},
    {"cone", cmd_cone, "layer-0 cone analysis over the vocabulary: r~, RV, bias share, alignment"},
    {"freq", cmd_freq, "RoPE frequencies of heads: InP, band ablation, active set, condition"},
    {"sparsity", cmd_sparsity, "sparsest vertical-and-slash pattern of every head; MInference config"},
    {"compress", cmd_compress, "low-rank W_Q/W_K compression plan from hidden-state energy"},
    {"sdh-effect", cmd_sdh_effect, "loss change when each SDH (and random control heads) is removed"},
    {"study", cmd_study, "the whole study of one or more models, in resumable stages; report.html"},
    {"theory", cmd_theory, "train the paper's two-layer RoPE model; does layer 1 become an SDH?"},
    {"demo", cmd_demo, "the theory lab with frequencies that satisfy and violate the condition"},
};

static void usage(FILE *out)
{
    fprintf(out, "slashscope %s: find and explain slash-dominant attention heads in RoPE models\n\n"
                 "usage: slashscope COMMAND [options]   (slashscope COMMAND --help for details)\n\n"
                 "commands:\n", SS_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nglobal options: --threads N, --quiet, --help\n");
}

/* OpenMP threads that spin while waiting (libgomp's default: ~3 ms) make
 * runs 5-20x slower when the machine is busy (a shared node, a parallel
 * build) and gain ~3% when it is idle. Purely passive waiting, though, puts
 * every thread to sleep at every barrier, and waking it costs more than
 * the small parallel loops take (softmax tasks, SiLU, RoPE): a short spin of
 * GOMP_SPINCOUNT=5000 (0.1-0.2 ms) before sleeping took a 2048-token scan
 * from 6.70 to 6.12 s (docs/benchmarks.md, sixth pass). libgomp reads both
 * once, when it loads, so choosing them takes a re-exec; a user's own
 * setting always wins. Returns 1 when it changed the environment. */
static int prefer_passive_waiting(void)
{
    if (getenv("OMP_WAIT_POLICY"))
        return 0;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    if (!getenv("GOMP_SPINCOUNT"))
        setenv("GOMP_SPINCOUNT", "5000", 1);
    return 1;
}

/* Both start-up choices (thread waiting, BLAS kernels: engine/blas.h) are
 * read by the libraries when they load: one re-exec applies them. A
 * selected BLAS core that fails its self-check costs one more. */
static void choose_runtime(char **argv)
{
    int again = ss_blas_select();
    again |= prefer_passive_waiting();
    if (again)
        execv("/proc/self/exe", argv);
    /* no /proc: run on with what the libraries chose (info shows it) */
}

int main(int argc, char **argv)
{
    ss_timing_start(); /* SLASHSCOPE_TIMINGS=1: phase times on stderr at exit */
    choose_runtime(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("slashscope %s\n", SS_VERSION);
        return 0;
    }
    /* under mpirun/srun: join the job (after the re-exec, once per process);
     * the commands that spread refuse an srun step without PMI, whose tasks
     * would each run the whole job (any other command may run in such a
     * step, e.g. one --out per task) */
    ss_error err = {0};
    int spreads = !strcmp(argv[1], "scan") || !strcmp(argv[1], "rank") ||
                  !strcmp(argv[1], "freq") || !strcmp(argv[1], "study");
    if ((spreads && ss_dist_check_srun(&err)) || ss_dist_init(&ss_cli_dist, &argc, &argv, &err)) {
        fprintf(stderr, "slashscope: %s\n", err.msg);
        return 1;
    }
    /* the others would run K times over: docs/cluster.md (study spreads
     * its scan, rank and freq stages and runs the rest on rank 0) */
    if (ss_cli_dist.mpi && !spreads) {
        fprintf(stderr, "slashscope %s: not spread over MPI ranks; under mpirun/srun run scan, "
                "rank, freq or study (docs/cluster.md)\n", argv[1]);
        ss_dist_end(&ss_cli_dist);
        return 2;
    }
    /* SIGTERM (Slurm's time limit, scancel): the prompt loops of these save
     * what is finished and stop (common/terminate.h); the rest keep the
     * default, ending at once */
    if (spreads)
        ss_terminate_catch();
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            int status = commands[i].run(argc - 1, argv + 1);
            ss_dist_end(&ss_cli_dist);
            return status;
        }
    ss_dist_end(&ss_cli_dist);
    fprintf(stderr, "slashscope: unknown command '%s' (see slashscope --help)\n", argv[1]);
    return 2;
}
