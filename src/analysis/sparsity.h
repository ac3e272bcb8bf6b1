/* Each head's vertical-and-slash pattern from its measured coverage
 * (analysis/coverage.h): the cheapest grid point whose mean coverage reaches
 * the target.
 *
 * Cheapest means the smallest mean kept fraction ("sparsity": kept entries
 * / causal entries N (N + 1) / 2 at this N, so 1 is dense); ties go to the
 * smaller v + s, then the smaller v. When no grid point reaches the target
 * (a target of 1 on attention whose rows sum to 1 - 1e-7 in float), the
 * point of highest coverage is taken (ties: the cheapest) and `reached` is 0. */
#ifndef SS_ANALYSIS_SPARSITY_H
#define SS_ANALYSIS_SPARSITY_H

#include "analysis/coverage.h"

typedef struct {
    int layer, head;
    int a, b;          /* grid indices of the choice */
    int v, s;          /* its sizes */
    double coverage;   /* mean over prompts */
    double sparsity;   /* mean kept fraction */
    int reached;       /* coverage >= target */
} ss_sparsity_head;

/* out has L * H entries, head x = layer * H + head. target in [0, 1]. */
ss_code ss_sparsity_choose(const ss_coverage_result *r, double target, ss_sparsity_head *out,
                           ss_error *err);

#endif
