/* Provenance: what a result folder records about how it was made, and the
 * comparisons that decide whether two results (or a result and a resumed
 * run) may be combined. The schema is in docs/results.md. */
#ifndef SS_STORE_PROVENANCE_H
#define SS_STORE_PROVENANCE_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* {"tool_version", "blas": {"library", "config", "core", "threads"},
 *  "threads", "host"}: the environment of this run. threads: the analysis's
 * thread count. */
cJSON *ss_prov_environment(int threads);

#include "common/error.h"

/* The current UTC time as ISO 8601 with seconds ("2026-12-01T18:23:15Z",
 * 20 characters), every result's "created"; "" if the clock cannot be read
 * or cap is below 21. */
void ss_prov_utc_now(char *buf, size_t cap);

/* Adds to prov "created" (ss_prov_utc_now) and
 * "command_line" (program, then argv[0..argc-1] as given): who ran what,
 * when. */
void ss_prov_add_run(cJSON *prov, const char *program, int argc, char *const *argv);

/* The digest that identifies a finished result folder read as an input:
 * {"path" (as given), "digest_of": "SHA256SUMS", "sha256": SHA-256 of
 * dir/SHA256SUMS}, which lists every file's SHA-256, so it covers the whole
 * folder; for a folder made before manifests, of dir/marker (its JSON, e.g.
 * "scan.json") instead. NULL on error (in err: the file and why). */
cJSON *ss_prov_folder_digest(const char *dir, const char *marker, ss_error *err);

/* The first member where a and b differ, as a dotted path ("model.weights"),
 * into buf; members of a first, then those only b has. Objects are compared
 * member by member, anything else whole. Keys listed in `ignore`
 * (NULL-terminated, may be NULL) are skipped at every depth. Returns 1 when
 * they differ, 0 when equal. */
int ss_json_first_difference(const cJSON *a, const cJSON *b, const char *const *ignore,
                             char *buf, size_t cap);

/* A member's value as short text for messages ("…" after 60 bytes). */
void ss_json_brief(const cJSON *v, char *buf, size_t cap);

/* The member at a dotted path, or NULL. */
const cJSON *ss_json_at(const cJSON *obj, const char *dotted);

#endif
