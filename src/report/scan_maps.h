/* Which heads a scan keeps pooled attention maps of, from a spec as
 * `scan --maps` takes it (docs/scan.md): "L0H1,L3H2", "all", "sdh" (this
 * scan's own SDHs, chosen at the end) or "sdh:DIR" (the SDHs that the scan
 * folder DIR, of the same model, lists). Shared by the program's flag and
 * the API's `maps` parameter. Here, beside the scan folder it reads
 * for "sdh:DIR". */
#ifndef SS_REPORT_SCAN_MAPS_H
#define SS_REPORT_SCAN_MAPS_H

#include "analysis/scan.h"
#include "common/error.h"
#include "model/model.h"

/* Sets o->maps, o->maps_spec and o->map_heads (a [L * H] flag array put in
 * *flags, the caller frees it; NULL when not needed) from spec (NULL: no
 * maps). model_path is what m was opened from (for the record); what names
 * the parameter in messages ("--maps", "maps"). */
ss_code ss_scan_maps_from_spec(const char *spec, const ss_model *m, const char *model_path,
                               const char *what, ss_scan_opts *o, unsigned char **flags,
                               ss_error *err);

#endif
