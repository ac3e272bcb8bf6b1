/* cone's result folder (docs/explain.md): cone.csv (one row per layer-0
 * query head, K columns from its KV head), alignment.csv (head, delta,
 * ratio statistics) and cone.json (settings, the same numbers, averages over
 * the listed heads and over all layer-0 heads). */
#ifndef SS_REPORT_CONE_OUT_H
#define SS_REPORT_CONE_OUT_H

#include <cjson/cJSON.h>

#include "analysis/cone_vocab.h"
#include "common/error.h"
#include "report/explain_out.h"

/* Writes the files above into dir (created if needed). listed: [n_head]
 * flags of the chosen layer-0 heads; ignored: a JSON array of the named
 * heads outside layer 0. ignored and rec's parts are taken over (freed
 * here, also on failure); a NULL provenance means its error is in err. */
ss_code ss_cone_write(const char *dir, const ss_cone_opts *o, const ss_cone_report *r,
                      const unsigned char *listed, cJSON *ignored, ss_explain_record *rec,
                      ss_error *err);

#endif
