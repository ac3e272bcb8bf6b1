#include "analysis/ppl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

typedef struct {
    const int32_t *ids; /* the prompt under way (the source keeps it until the next one) */
    int n;
    /* growing arrays */
    double *prompt_nll;
    int64_t *prompt_len;
    int64_t prompts, prompts_cap;
    double *pos_sum;
    int64_t *pos_cnt;
    int pos_cap;
} ppl_state;

double ss_ppl_token_nll(const float *logits, int vocab, int32_t target)
{
    double mx = -INFINITY;
    for (int v = 0; v < vocab; v++)
        mx = logits[v] > mx ? logits[v] : mx;
    double s = 0;
    for (int v = 0; v < vocab; v++)
        s += exp((double)logits[v] - mx);
    return mx + log(s) - logits[target];
}

static ss_code grow_pos(ppl_state *st, int n, ss_error *err)
{
    if (n <= st->pos_cap)
        return SS_OK;
    double *s = realloc(st->pos_sum, (size_t)n * sizeof *s);
    if (s)
        st->pos_sum = s;
    int64_t *c = realloc(st->pos_cnt, (size_t)n * sizeof *c);
    if (c)
        st->pos_cnt = c;
    if (!s || !c)
        return ss_fail(err, SS_ERR_NOMEM, "ppl: out of memory for %d positions", n);
    memset(st->pos_sum + st->pos_cap, 0, (size_t)(n - st->pos_cap) * sizeof *s);
    memset(st->pos_cnt + st->pos_cap, 0, (size_t)(n - st->pos_cap) * sizeof *c);
    st->pos_cap = n;
    return SS_OK;
}

static ss_code push_prompt(ppl_state *st, double nll, int64_t len, ss_error *err)
{
    if (st->prompts == st->prompts_cap) {
        int64_t cap = st->prompts_cap ? 2 * st->prompts_cap : 64;
        double *a = realloc(st->prompt_nll, (size_t)cap * sizeof *a);
        if (a)
            st->prompt_nll = a;
        int64_t *b = realloc(st->prompt_len, (size_t)cap * sizeof *b);
        if (b)
            st->prompt_len = b;
        if (!a || !b)
            return ss_fail(err, SS_ERR_NOMEM, "ppl: out of memory for %lld prompts",
                           (long long)cap);
        st->prompts_cap = cap;
    }
    st->prompt_nll[st->prompts] = nll;
    st->prompt_len[st->prompts++] = len;
    return SS_OK;
}

static ss_code ppl_begin(void *self, const int32_t *ids, int n, ss_error *err)
{
    ppl_state *st = self;
    st->ids = ids;
    st->n = n;
    return grow_pos(st, n, err);
}

static ss_code ppl_on_logits(void *self, const float *logits, int n, int vocab, ss_error *err)
{
    ppl_state *st = self;
    if (n != st->n)
        return ss_fail(err, SS_ERR_USAGE, "ppl: logits for %d tokens, prompt has %d", n, st->n);
    double sum = 0;
    for (int p = 1; p < n; p++) {
        double l = ss_ppl_token_nll(logits + (size_t)(p - 1) * vocab, vocab, st->ids[p]);
        st->pos_sum[p] += l;
        st->pos_cnt[p]++;
        sum += l;
    }
    return push_prompt(st, n > 1 ? sum / (n - 1) : NAN, n, err);
}

static ss_code ppl_finish(void *self, void *result, ss_error *err)
{
    ppl_state *st = self;
    ss_ppl_result *r = result;
    memset(r, 0, sizeof *r);
    int64_t np = st->prompts, L = st->pos_cap;
    r->prompt_nll = ss_calloc((size_t)(np ? np : 1), sizeof *r->prompt_nll, "ppl result", err);
    r->prompt_len = ss_calloc((size_t)(np ? np : 1), sizeof *r->prompt_len, "ppl result", err);
    r->loss_by_pos = ss_calloc((size_t)(L ? L : 1), sizeof *r->loss_by_pos, "ppl result", err);
    r->count_by_pos = ss_calloc((size_t)(L ? L : 1), sizeof *r->count_by_pos, "ppl result", err);
    if (!r->prompt_nll || !r->prompt_len || !r->loss_by_pos || !r->count_by_pos) {
        ss_ppl_result_free(r);
        return SS_ERR_NOMEM;
    }
    r->prompts = np;
    if (np) {
        memcpy(r->prompt_nll, st->prompt_nll, (size_t)np * sizeof *r->prompt_nll);
        memcpy(r->prompt_len, st->prompt_len, (size_t)np * sizeof *r->prompt_len);
    }
    double total = 0;
    for (int64_t p = 0; p < L; p++) {
        if (st->pos_cnt[p])
            r->max_len = (int)p + 1;
        r->count_by_pos[p] = st->pos_cnt[p];
        r->loss_by_pos[p] = st->pos_cnt[p] ? st->pos_sum[p] / st->pos_cnt[p] : NAN;
        total += st->pos_sum[p];
        r->tokens += st->pos_cnt[p];
    }
    for (int64_t i = 0; i < np; i++)
        if (r->prompt_len[i] > r->max_len)
            r->max_len = (int)r->prompt_len[i];
    r->loss = r->tokens ? total / r->tokens : NAN;
    r->perplexity = exp(r->loss);
    return SS_OK;
}

static ss_code ppl_merge(void *self, const void *other, ss_error *err)
{
    ppl_state *a = self;
    const ppl_state *b = other;
    ss_code rc = grow_pos(a, b->pos_cap, err);
    for (int p = 0; !rc && p < b->pos_cap; p++) {
        a->pos_sum[p] += b->pos_sum[p];
        a->pos_cnt[p] += b->pos_cnt[p];
    }
    for (int64_t i = 0; !rc && i < b->prompts; i++)
        rc = push_prompt(a, b->prompt_nll[i], b->prompt_len[i], err);
    return rc;
}

static void ppl_free(void *self)
{
    ppl_state *st = self;
    if (!st)
        return;
    free(st->prompt_nll);
    free(st->prompt_len);
    free(st->pos_sum);
    free(st->pos_cnt);
    free(st);
}

static const ss_analysis_vtable ppl_vt = {
    .name = "ppl",
    .begin = ppl_begin,
    .on_logits = ppl_on_logits,
    .finish = ppl_finish,
    .merge = ppl_merge,
    .free = ppl_free,
};

ss_code ss_ppl_analysis_new(ss_analysis *an, ss_error *err)
{
    an->vt = &ppl_vt;
    an->self = ss_calloc(1, sizeof(ppl_state), "ppl analysis", err);
    return an->self ? SS_OK : SS_ERR_NOMEM;
}

void ss_ppl_result_free(ss_ppl_result *r)
{
    if (!r)
        return;
    free(r->prompt_nll);
    free(r->prompt_len);
    free(r->loss_by_pos);
    free(r->count_by_pos);
    memset(r, 0, sizeof *r);
}
