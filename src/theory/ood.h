/* Out-of-distribution evaluation of a trained reduced model (section 5.5,
 * "OOD Generalization"): the error on tasks w outside the training
 * distribution and on longer prompts, next to the in-distribution error.
 *
 * Cases, each on its own seeded prompts:
 *   in_distribution  w ~ N(0, I), the training length
 *   w_scaled         w ~ N(0, 5^2 I)
 *   w_shifted        w ~ N(2 * 1, I)
 *   w_onehot         w = e_m, m uniform over the K features (y in {0, 1})
 *   longer_2x        w ~ N(0, I), 2 N_in demonstrations
 *   longer_4x        w ~ N(0, I), 4 N_in demonstrations
 * The relative error mse / mean(y_q^2) compares tasks of different scale:
 * 0 is perfect, 1 is no better than always answering 0. */
#ifndef SS_THEORY_OOD_H
#define SS_THEORY_OOD_H

#include <stdint.h>

#include "common/error.h"
#include "theory/icl.h"
#include "theory/rmodel.h"

#define SS_OOD_SCALE 5.0
#define SS_OOD_SHIFT 2.0
#define SS_OOD_CASES 6

typedef struct {
    const char *name;
    const char *task; /* in words */
    ss_task t;
    int n_in, N;
    double loss, mse, sq_target, rel_mse, s2_match;
} ss_ood_case;

/* Evaluates every case on n_eval prompts drawn from seed; out has
 * SS_OOD_CASES entries. */
ss_code ss_ood_evaluate(const ss_rmodel *m, const ss_icl_config *icl, uint64_t seed, int n_eval,
                        ss_ood_case out[SS_OOD_CASES], ss_error *err);

/* One case (0 = in_distribution): the same prompts as in ss_ood_evaluate. */
ss_code ss_ood_evaluate_case(const ss_rmodel *m, const ss_icl_config *icl, uint64_t seed,
                             int n_eval, int c, ss_ood_case *out, ss_error *err);

#endif
