/* SHA256SUMS: the SHA-256 of every file of a result folder, in the format of
 * `sha256sum` ("<64 hex>  <relative path>\n", paths in byte order), written
 * as the last file of a result and checked by every reader: a file changed,
 * missing, or added after the result was made is an error naming it. */
#ifndef SS_STORE_MANIFEST_H
#define SS_STORE_MANIFEST_H

#include "common/error.h"

/* Hashes every regular file under dir (but SHA256SUMS) into dir/SHA256SUMS. */
ss_code ss_manifest_write(const char *dir, ss_error *err);

/* Checks dir against its SHA256SUMS. *present = 0 (and SS_OK) when there is
 * none: a result written before manifests existed, accepted as it is. */
ss_code ss_manifest_verify(const char *dir, int *present, ss_error *err);

/* Removes the "*.tmp.*" files (io/atomic_file.h) that killed writes left
 * anywhere under dir. */
void ss_manifest_remove_temporaries(const char *dir);

#endif
