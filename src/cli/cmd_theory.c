/* slashscope theory: the paper's section 5 experiment (docs/theory.md). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "theory/lab.h"
#include "theory/sweep.h"

static const char usage[] =
    "usage: slashscope theory --out DIR [--n-in 32] [--features 8] [--dx K] [--dc 16]\n"
    "           [--delta 1] [--freqs high|low|standard|FILE] [--base 10000] [--p-rope P]\n"
    "           [--eta1 5] [--eta2 100] [--tau1 100] [--tau2 100] [--batch 1024] [--seed 1]\n"
    "           [--kappa 0.95] [--L L] [--eval-prompts 4096] [--sweep]\n\n"
    "Trains the reduced two-layer transformer of the paper's section 5 (eq. 21) on in-context\n"
    "linear regression with Algorithm 1 (stage I: layer 1 for tau1 steps, stage II: layer 2\n"
    "for tau2 steps; exact gradients, a fresh batch per step) and reports whether layer 1\n"
    "became slash-dominant at offset delta.\n\n"
    "  --n-in N        demonstrations per prompt, 1..512 (prompt length 2N+1)\n"
    "  --features K    orthonormal features x is drawn from\n"
    "  --dx D          feature dimension (even, >= K; default K rounded up to even)\n"
    "  --dc D          cone dimension (even): d_c/2 frequencies drive layer 1\n"
    "  --delta D       distance from x_i to y_i (must divide --n-in)\n"
    "  --freqs S       high (default: satisfies Assumption 5.1), low (violates it), standard\n"
    "                  (base^(-2(l-1)/d)), or a FILE with one frequency per line (d/2 lines,\n"
    "                  or d_c/2 for the cone only)\n"
    "  --base B        RoPE base for standard\n"
    "  --p-rope P      keep the int(P d/2) highest frequencies, leave the rest unrotated\n"
    "  --eta1/--eta2   learning rates of stage I/II;  --tau1/--tau2  their step counts\n"
    "  --batch B       prompts per gradient step\n"
    "  --seed S        the run is a function of its seed (0..2^53-1)\n"
    "  --kappa K       slash-dominant when the mean of S1[i][i-delta] reaches K\n"
    "  --L L           judge eps_FN <= L C1/N (Assumption 5.1) against this L\n"
    "  --eval-prompts  prompts per evaluation case (in and out of distribution)\n"
    "  --sweep         run a set of frequency choices (satisfying, violating, p-RoPE) with\n"
    "                  the other settings (--freqs and --p-rope are replaced) and print a\n"
    "                  comparison table; DIR/sweep.csv and one folder per choice\n\n"
    "Writes to DIR: trajectory.csv (step,stage,loss,s1_mean,s1_min,s2_match), layer1.npy\n"
    "(float64 [N,N]) and layer1.png, frequencies.json, ood.json, run.json.\n";

static const ss_flag flags[] = {
    {"--out", 1},   {"--n-in", 1},  {"--features", 1}, {"--dx", 1},    {"--dc", 1},
    {"--delta", 1}, {"--freqs", 1}, {"--base", 1},     {"--p-rope", 1}, {"--eta1", 1},
    {"--eta2", 1},  {"--tau1", 1},  {"--tau2", 1},     {"--batch", 1}, {"--seed", 1},
    {"--kappa", 1}, {"--L", 1},     {"--eval-prompts", 1}, {"--sweep", 0}, {NULL, 0}};

/* Fills c from the flags. */
static ss_code config_from_flags(const ss_args *a, ss_lab_config *c, ss_error *err)
{
    ss_lab_defaults(c);
    ss_train_config *t = &c->train;
    long long v;
    ss_code rc;
    if ((rc = ss_args_int(a, "--n-in", t->icl.n_in, 1, 512, &v, err)))
        return rc;
    t->icl.n_in = (int)v;
    if ((rc = ss_args_int(a, "--features", t->icl.K, 1, 1024, &v, err)))
        return rc;
    t->icl.K = (int)v;
    if ((rc = ss_args_int(a, "--dx", t->icl.K + t->icl.K % 2, 2, 1024, &v, err)))
        return rc;
    t->icl.d_x = (int)v;
    if ((rc = ss_args_int(a, "--dc", t->d_c, 2, 1024, &v, err)))
        return rc;
    t->d_c = (int)v;
    if ((rc = ss_args_int(a, "--delta", t->icl.delta, 1, 512, &v, err)))
        return rc;
    t->icl.delta = (int)v;
    if ((rc = ss_args_int(a, "--tau1", t->tau1, 0, 10000000, &v, err)))
        return rc;
    t->tau1 = (int)v;
    if ((rc = ss_args_int(a, "--tau2", t->tau2, 0, 10000000, &v, err)))
        return rc;
    t->tau2 = (int)v;
    if ((rc = ss_args_int(a, "--batch", t->batch, 1, 16384, &v, err)))
        return rc;
    t->batch = (int)v;
    if ((rc = ss_args_int(a, "--seed", (long long)t->seed, 0, 9007199254740991LL, &v, err)))
        return rc;
    t->seed = (uint64_t)v;
    if ((rc = ss_args_int(a, "--eval-prompts", c->n_eval, 1, 16384, &v, err)))
        return rc;
    c->n_eval = (int)v;
    if ((rc = ss_args_double(a, "--eta1", t->eta1, 0, 1e12, &t->eta1, err)) ||
        (rc = ss_args_double(a, "--eta2", t->eta2, 0, 1e12, &t->eta2, err)) ||
        (rc = ss_args_double(a, "--kappa", t->kappa, 0, 1, &t->kappa, err)) ||
        (rc = ss_args_double(a, "--base", c->base, 1.000001, 1e30, &c->base, err)) ||
        (rc = ss_args_double(a, "--p-rope", 1.0, 0, 1, &c->prope, err)) ||
        (rc = ss_args_double(a, "--L", 0.0, 1e-300, 1e300, &c->L, err)))
        return rc;
    if (ss_args_has(a, "--dc") && t->d_c % 2)
        return ss_fail(err, SS_ERR_USAGE, "--dc wants an even cone dimension, got %d", t->d_c);
    const char *f = ss_args_get(a, "--freqs");
    if (f) {
        if (!*f)
            return ss_fail(err, SS_ERR_USAGE, "--freqs needs high, low, standard or a file");
        c->freqs = ss_freqs_parse_kind(f);
        c->freqs_path = f;
        c->freqs_name = f;
    }
    t->quiet = a->quiet;
    t->label = "theory";
    return ss_icl_check(&t->icl, err);
}

static int run_sweep(const ss_lab_config *c, const char *out, ss_error *err)
{
    ss_sweep_row *rows;
    int n;
    if (ss_sweep_run(c, out, &rows, &n, err))
        return ss_cli_fail("theory", err);
    printf("frequency sweep: n_in %d, features %d, d_c %d, delta %d, eta1 %g x %d, eta2 %g x "
           "%d, batch %d, seed %llu\n\n",
           c->train.icl.n_in, c->train.icl.K, c->train.d_c, c->train.icl.delta, c->train.eta1,
           c->train.tau1, c->train.eta2, c->train.tau2, c->train.batch,
           (unsigned long long)c->train.seed);
    ss_sweep_print(stdout, rows, n);
    printf("\noutputs: %s/sweep.csv and one folder per choice\n", out);
    free(rows);
    return 0;
}

int cmd_theory(int argc, char **argv)
{
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "theory", usage, flags, argc, argv, &err))
        return ss_cli_fail("theory", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (a.n_positional) {
        ss_fail(&err, SS_ERR_USAGE, "unexpected argument '%s' (see --help)", a.positional[0]);
        return ss_cli_fail("theory", &err);
    }
    if (a.threads > 0)
        omp_set_num_threads(a.threads);
    const char *out;
    ss_lab_config c;
    if (ss_args_out(&a, 1, &out, &err) || config_from_flags(&a, &c, &err))
        return ss_cli_fail("theory", &err);
    if (ss_args_has(&a, "--sweep"))
        return run_sweep(&c, out, &err);
    ss_lab_result r;
    if (ss_lab_run(&c, &r, &err) || ss_lab_write(out, &c, &r, &err)) {
        ss_lab_free(&r);
        return ss_cli_fail("theory", &err);
    }
    ss_lab_print_verdict(stdout, &c, &r);
    printf("outputs: %s/{trajectory.csv,layer1.npy,layer1.png,frequencies.json,ood.json,"
           "run.json}\n", out);
    ss_lab_free(&r);
    return 0;
}
