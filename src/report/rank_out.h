/* rank's result folder (docs/explain.md): rank.csv (every query head,
 * listed = 1 for the chosen ones), rank_summary.csv (means over listed and
 * over all heads), rank.json (the record, the same numbers) and the mean
 * spectra spectra_{q,k,h,wq,wk}.npy with spectra.svg. */
#ifndef SS_REPORT_RANK_OUT_H
#define SS_REPORT_RANK_OUT_H

#include "analysis/rank_result.h"
#include "common/error.h"
#include "report/explain_out.h"

/* Writes every file above into dir (created if needed); listed: [L * H]
 * flags of the chosen heads. rec's parts are taken over (freed here, also
 * on failure); a NULL provenance means its error is in err. */
ss_code ss_rank_write(const char *dir, const ss_rank_result *res, const unsigned char *listed,
                      ss_explain_record *rec, ss_error *err);

#endif
