/* --out DIR of the commands that write a result folder (rank, freq, cone,
 * compare): one transaction each (store/folder.h), so a re-run never leaves
 * the old run's files behind and a finished result is replaced only with
 * --force. */
#ifndef SS_CLI_OUT_FOLDER_H
#define SS_CLI_OUT_FOLDER_H

#include <cjson/cJSON.h>

#include "cli/args.h"
#include "common/error.h"
#include "model/model.h"
#include "store/folder.h"

#define SS_OUT_FOLDER_FLAGS {"--out", 1}, {"--force", 0}

/* Takes --out (required) and --force; *work is where the command writes
 * (a buffer inside f). marker: the command's JSON file (e.g. "rank.json"). */
ss_code ss_out_folder_begin(ss_folder *f, const ss_args *a, const char *marker,
                            const char **work, ss_error *err);
/* Commits when err holds no error, else aborts; returns err->code. */
ss_code ss_out_folder_end(ss_folder *f, ss_error *err);

/* {"weights": the fingerprint, "environment": ...} for a result JSON; NULL
 * on error (in err). */
cJSON *ss_out_provenance(const ss_model *m, int threads, ss_error *err);

#endif
