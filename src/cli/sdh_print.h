/* SDH lists for people: a table (offset, head, score) and the paper's
 * listing style ("Δ = 1: L0H0, L0H1, ..."), heads at each offset strongest
 * first. Shared by `sdh` and `scan`. */
#ifndef SS_CLI_SDH_PRINT_H
#define SS_CLI_SDH_PRINT_H

#include <stdio.h>

#include "analysis/sdh.h"
#include "cli/args.h"

/* list as ss_sdh_find orders it (offset ascending, score descending). */
void ss_print_sdh_regime(FILE *out, const ss_sdh_regime *r, const ss_sdh *list, int n);
void ss_print_sdh_listing(FILE *out, const ss_sdh *list, int n);

/* Parses --kappa / --delta into regimes (out has room for 2): neither
 * given gives the paper's two; --kappa alone applies to both; --delta A:B
 * is one custom regime (kappa default 0.1). */
ss_code ss_regimes_from_args(const ss_args *a, ss_sdh_regime *out, int *n, ss_error *err);

#endif
