/* Perplexity of a prompt set (issue 14): the negative log-likelihood of
 * every token given the ones before it, from the logits of the forward
 * pass (an analysis with on_logits, analysis/analysis.h).
 *
 * Token p of a prompt (p >= 1) is scored by row p - 1 of the logits:
 *   nll_p = logsumexp(logits[p - 1]) - logits[p - 1][ids[p]]   (nats, double).
 * The first token is never scored (nothing predicts it). Per prompt the mean
 * over its scored tokens; per position p the sum over prompts long enough
 * to have one; overall the mean over every scored token (prompts of one
 * length weigh equally). Sums and counts merge exactly. */
#ifndef SS_ANALYSIS_PPL_H
#define SS_ANALYSIS_PPL_H

#include <stdint.h>

#include "analysis/analysis.h"
#include "common/error.h"

typedef struct {
    int64_t prompts;
    double *prompt_nll;   /* [prompts] mean NLL of each prompt's scored tokens, in run order */
    int64_t *prompt_len;  /* [prompts] tokens of each prompt */
    int max_len;          /* longest prompt */
    /* [max_len]: entry p (p >= 1) is the mean NLL of token p over the prompts
     * that have it; entry 0 is NaN (never scored). */
    double *loss_by_pos;
    int64_t *count_by_pos;
    int64_t tokens;       /* scored tokens */
    double loss;          /* mean NLL over every scored token (NaN when none) */
    double perplexity;    /* exp(loss) */
} ss_ppl_result;

/* A ppl analysis; finish fills an ss_ppl_result. */
ss_code ss_ppl_analysis_new(ss_analysis *an, ss_error *err);
void ss_ppl_result_free(ss_ppl_result *r);

/* The NLL in nats of token `target` under one row of logits [vocab]. */
double ss_ppl_token_nll(const float *logits, int vocab, int32_t target);

#endif
