/* The vertical-and-slash patterns chosen per head (analysis/sparsity.h) in
 * MInference's config format: a JSON list with one object per layer, each
 * mapping the head index as a string to ["vertical_and_slash", v, s,
 * coverage]: the shape of the best_pattern files in MInference's
 * minference/configs, whose fourth field is their search's score (here it
 * is the measured coverage). */
#ifndef SS_REPORT_MINFERENCE_H
#define SS_REPORT_MINFERENCE_H

#include <cjson/cJSON.h>

#include "analysis/sparsity.h"

/* patterns [L * H], head x = layer * H + head. NULL when out of memory. */
cJSON *ss_minference_config(const ss_sparsity_head *patterns, int n_layer, int n_head);

#endif
