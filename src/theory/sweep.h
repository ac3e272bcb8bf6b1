/* `slashscope theory --sweep`: the same experiment over frequency choices
 * that satisfy and violate Assumption 5.1, and over p-RoPE fractions of the
 * standard schedule, side by side.
 *
 *   high             the default: a pulse on the cone, semantic <= N^-2
 *   standard         base^(-2(l-1)/d) over all of d
 *   low              everything low: no pulse (violates part 2)
 *   high+fast-sem    the high cone with semantic frequencies as fast as the
 *                    cone's (violates part 1)
 *   standard p=...   p-RoPE of the standard schedule for p = 0.75, 0.5,
 *                    0.25 and 0 (NoPE) */
#ifndef SS_THEORY_SWEEP_H
#define SS_THEORY_SWEEP_H

#include <stdio.h>

#include "common/error.h"
#include "theory/lab.h"

typedef struct {
    char name[48];
    double peak_gap, L_min, sem_alpha;
    int sem_pass;
    int slash_step;
    double s1_mean, loss_init, loss_final, rel_ood_longer, rel_ood_scaled;
    int slash_dominant, converged;
    double seconds;
} ss_sweep_row;

/* Runs every choice with base's other settings (its freqs fields are
 * replaced); out_dir (may be NULL) receives sweep.csv and one folder of
 * outputs per choice. *rows is malloc'd. */
ss_code ss_sweep_run(const ss_lab_config *base, const char *out_dir, ss_sweep_row **rows,
                     int *n_rows, ss_error *err);
void ss_sweep_print(FILE *out, const ss_sweep_row *rows, int n);

#endif
