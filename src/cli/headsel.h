/* Which heads an explain command (rank, cone, freq) looks at:
 *   --heads L0H1,L3H2   a list (layer, head, 0-based), or "all";
 *   --sdh DIR           the SDHs a scan wrote to DIR/sdh.csv (columns
 *                       regime,kappa,delta,layer,head,name,score; the
 *                       regime chosen by --regime small|large|all, default
 *                       small), each with the offset it was found at;
 *   neither             every head.
 * The SDH rows are kept (head, delta, score) so band ablation can report the
 * ratio at the offset each head is slash-dominant at. */
#ifndef SS_CLI_HEADSEL_H
#define SS_CLI_HEADSEL_H

#include <cjson/cJSON.h>

#include "analysis/sdh.h"
#include "cli/args.h"
#include "common/error.h"
#include "model/model.h"

#define SS_HEADSEL_FLAGS {"--heads", 1}, {"--sdh", 1}, {"--regime", 1}

typedef struct {
    int n_layer, n_head;
    unsigned char *flags; /* [L * H]: 1 for a chosen head */
    int n;                /* heads chosen */
    ss_sdh *sdh;          /* --sdh rows of the chosen regime(s), in file order */
    int n_sdh;
    char source[64];      /* "all", "list" or "sdh" (for the record) */
} ss_headsel;

/* --sdh DIR must be a scan of model m (its recorded config and weights'
 * fingerprint; analysis/scan_result.h), else SS_ERR_INCOMPATIBLE naming the
 * field. */
ss_code ss_headsel_from_args(const ss_args *a, const ss_model *m, ss_headsel *out,
                             ss_error *err);
/* Reads DIR/sdh.csv; regime "small", "large" or "all". */
ss_code ss_headsel_read_sdh(const char *dir, const char *regime, int n_layer, int n_head,
                            ss_headsel *out, ss_error *err);
void ss_headsel_free(ss_headsel *s);
/* The head selection for the record: source, and the chosen heads as names. */
cJSON *ss_headsel_json(const ss_headsel *s);

#endif
