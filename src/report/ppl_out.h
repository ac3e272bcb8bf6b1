/* ppl's result folder: ppl.json (settings, loss, perplexity, tokens,
 * per-prompt NLL), ppl.csv (prompt, tokens, nll, ppl: one row per prompt,
 * in source order) and loss_by_pos.npy (f64 [len], entry 0 NaN). One row
 * per prompt, not per head: not an explain table (report/explain_table.h). */
#ifndef SS_REPORT_PPL_OUT_H
#define SS_REPORT_PPL_OUT_H

#include "analysis/ppl.h"
#include "common/error.h"
#include "report/explain_out.h"

/* Writes the files above into dir (the result transaction's folder).
 * rec's model, provenance and prompts are taken over (freed here, also on
 * failure); a NULL provenance means its error is in err. */
ss_code ss_ppl_write(const char *dir, const ss_ppl_result *r, ss_explain_record *rec,
                     ss_error *err);

#endif
