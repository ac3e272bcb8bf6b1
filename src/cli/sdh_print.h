/* SDH lists for people: a table (offset, head, score) and the paper's
 * listing style ("Δ = 1: L0H0, L0H1, ..."), heads at each offset strongest
 * first. Shared by `sdh` and `scan`. */
#ifndef SS_CLI_SDH_PRINT_H
#define SS_CLI_SDH_PRINT_H

#include <stdio.h>

#include "analysis/sdh.h"
#include "cli/args.h"

/* Heads shown per offset on a terminal (the paper lists three); the rest
 * are counted, and every one is in the files (sdh.csv, --json). */
#define SS_SDH_SHOWN 3

/* list as ss_sdh_find orders it (offset ascending, score descending): the
 * strongest SS_SDH_SHOWN per offset and a count of the others. */
void ss_print_sdh_regime(FILE *out, const ss_sdh_regime *r, const ss_sdh *list, int n);
void ss_print_sdh_listing(FILE *out, const ss_sdh *list, int n);

#define SS_REGIME_FLAGS {"--kappa", 1}, {"--kappa-small", 1}, {"--kappa-large", 1}, {"--delta", 1}

/* Regimes from the flags (out has room for 2): the paper's two, Δ 0..4 with
 * κ --kappa-small (0.1) and Δ 500..5000 with κ --kappa-large (1e-3); or
 * with --delta A:B one regime whose κ is --kappa, by default the κ of the
 * regime its range belongs to (A >= 500: the large one). --kappa without
 * --delta is refused: it would silently change both regimes. */
/* dflt (2 regimes, NULL: the paper's) gives the κ the flags do not: a
 * scan's recorded regimes (ss_sdh_regimes_from_json), so `sdh DIR` lists
 * what the scan listed. */
ss_code ss_regimes_from_args(const ss_args *a, const ss_sdh_regime *dflt, ss_sdh_regime *out,
                             int *n, ss_error *err);

/* A large-offset regime (from Δ 500 on) with κ below 5x uniform attention
 * (1/N) at this prompt length finds noise:
 * warns on `out`, saying what 5x uniform is at this N and which flag sets
 * it. Returns whether it warned. */
int ss_sdh_kappa_warn(FILE *out, const char *cmd, const ss_sdh_regime *r, int n);

#endif
