#include "analysis/sparsity.h"

#include <math.h>

/* Whether grid point (a, b) is a cheaper pattern than the best so far. */
static int cheaper(const ss_vs_grid *g, double kept, int a, int b, double best_kept, int ba,
                   int bb)
{
    if (kept != best_kept)
        return kept < best_kept;
    int size = g->v[a] + g->s[b], best = g->v[ba] + g->s[bb];
    if (size != best)
        return size < best;
    return g->v[a] < g->v[ba];
}

static void choose_head(const ss_coverage_result *r, int l, int h, double target,
                        ss_sparsity_head *o)
{
    const ss_vs_grid *g = &r->grid;
#define COV(a, b) r->coverage[ss_coverage_at(r, l, h, a, b)]
#define KEPT(a, b) r->kept[ss_coverage_at(r, l, h, a, b)]
    int ba = -1, bb = -1;      /* cheapest reaching the target */
    int ma = 0, mb = 0;        /* highest coverage */
    for (int a = 0; a < g->n_v; a++)
        for (int b = 0; b < g->n_s; b++) {
            double cov = COV(a, b), kept = KEPT(a, b);
            if (cov > COV(ma, mb) || (cov == COV(ma, mb) && cheaper(g, kept, a, b, KEPT(ma, mb),
                                                                    ma, mb))) {
                ma = a;
                mb = b;
            }
            if (cov >= target && (ba < 0 || cheaper(g, kept, a, b, KEPT(ba, bb), ba, bb))) {
                ba = a;
                bb = b;
            }
        }
    o->layer = l;
    o->head = h;
    o->reached = ba >= 0;
    o->a = o->reached ? ba : ma;
    o->b = o->reached ? bb : mb;
    o->v = g->v[o->a];
    o->s = g->s[o->b];
    o->coverage = COV(o->a, o->b);
    o->sparsity = KEPT(o->a, o->b);
#undef COV
#undef KEPT
}

ss_code ss_sparsity_choose(const ss_coverage_result *r, double target, ss_sparsity_head *out,
                           ss_error *err)
{
    if (!(target >= 0 && target <= 1))
        return ss_fail(err, SS_ERR_USAGE, "coverage target %g: expected a fraction in [0, 1]",
                       target);
    if (r->prompts == 0)
        return ss_fail(err, SS_ERR_VALUE, "sparsity: no prompt was measured");
    for (int l = 0; l < r->n_layer; l++)
        for (int h = 0; h < r->n_head; h++)
            choose_head(r, l, h, target, out + (size_t)l * r->n_head + h);
    return SS_OK;
}
