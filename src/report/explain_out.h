/* Output helpers shared by the explain writers (rank, cone, freq): JSON
 * written atomically, CSV numbers that load in any reader ("nan" for NaN),
 * and paths inside the output folder. */
#ifndef SS_REPORT_EXPLAIN_OUT_H
#define SS_REPORT_EXPLAIN_OUT_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "common/error.h"

/* Prints root (formatted) to path atomically; does not free root. */
ss_code ss_json_write_file(const char *path, const cJSON *root, ss_error *err);
/* A number or null (cJSON would print NaN as null anyway; this says so). */
cJSON *ss_json_num_or_null(double v);
/* "%.10g", or "nan". */
void ss_csv_num(FILE *f, double v);
/* dir + "/" + name into buf; error if it does not fit. */
ss_code ss_out_path(char *buf, size_t cap, const char *dir, const char *name, ss_error *err);

/* The parts of an explain result's JSON that only its caller knows (the
 * model as run, the provenance, the prompt source, the head selection),
 * built by the caller and taken over by the writer. */
typedef struct {
    cJSON *model, *provenance, *prompts, *selection;
    cJSON *interventions; /* --ablate / --head-rope-remove / --lowrank as given, or NULL */
} ss_explain_record;

/* Moves rec's "interventions" (when the run had any) into root. */
void ss_explain_add_interventions(cJSON *root, ss_explain_record *rec);

/* The head every explain result's JSON starts with: "command", "version",
 * the model as run, the provenance, with with_blas the BLAS in use, then
 * the prompts and the interventions when rec has them (rec's parts are
 * taken over). *prov_ok is 0 when the caller could not build the
 * provenance (its error is in the caller's err). */
cJSON *ss_explain_root(ss_explain_record *rec, const char *command, int with_blas, int *prov_ok);

/* *part, leaving NULL behind (the writer's JSON tree owns it now). */
cJSON *ss_explain_take(cJSON **part);
/* Frees the parts not taken. */
void ss_explain_record_free(ss_explain_record *r);

#endif
