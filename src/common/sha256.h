/* SHA-256 (from Nettle, Debian package nettle-dev) behind a small
 * interface: incremental hashing and the hex digest of a whole file, used
 * to fingerprint the prompt sources a scan reads. */
#ifndef SS_COMMON_SHA256_H
#define SS_COMMON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Room for Nettle's struct sha256_ctx (checked at compile time). */
typedef struct {
    _Alignas(8) unsigned char opaque[128];
} ss_sha256;

void ss_sha256_init(ss_sha256 *s);
void ss_sha256_update(ss_sha256 *s, const void *data, size_t n);
/* Token ids as little-endian int32, the byte order every prompt digest uses. */
void ss_sha256_update_i32le(ss_sha256 *s, const int32_t *v, size_t n);
/* Writes 64 lowercase hex digits and a NUL. */
void ss_sha256_hex(ss_sha256 *s, char hex[65]);

/* The digest of a file's bytes, read in pieces (any size). */
ss_code ss_sha256_file(const char *path, char hex[65], ss_error *err);

#endif
