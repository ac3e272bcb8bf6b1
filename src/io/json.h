/* Reading JSON files (config.json, tokenizer.json, safetensors index) with
 * cJSON, and field getters whose errors name the file and the field. */
#ifndef SS_IO_JSON_H
#define SS_IO_JSON_H

#include <cjson/cJSON.h>

#include "common/error.h"

/* Parses n bytes as one JSON value (what: "JSON", "JSON header"): malformed
 * input reports the byte offset, nesting beyond cJSON's limit says so, and
 * anything but whitespace after the value is an error. name labels messages. */
ss_code ss_json_parse(const char *name, const char *what, const char *buf, size_t n, cJSON **out,
                      ss_error *err);
/* Parses a whole file the same way. */
ss_code ss_json_load(const char *path, size_t max_bytes, cJSON **out, ss_error *err);

/* Getters: `required` non-zero makes absence an SS_ERR_MISSING error;
 * otherwise *v keeps its value (the default). A present field of the wrong
 * type or out of range is always an error. */
ss_code ss_json_int(const cJSON *obj, const char *file, const char *key, int required,
                    long long min, long long max, long long *v, ss_error *err);
ss_code ss_json_num(const cJSON *obj, const char *file, const char *key, int required,
                    double *v, ss_error *err);
ss_code ss_json_str(const cJSON *obj, const char *file, const char *key, int required,
                    const char **v, ss_error *err);
ss_code ss_json_bool(const cJSON *obj, const char *file, const char *key, int required,
                     int *v, ss_error *err);

#endif
