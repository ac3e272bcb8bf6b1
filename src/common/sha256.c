#include "common/sha256.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/path.h"

_Static_assert(sizeof(struct sha256_ctx) <= sizeof(((ss_sha256 *)0)->opaque),
               "ss_sha256 too small for nettle's sha256_ctx");

void ss_sha256_init(ss_sha256 *s)
{
    sha256_init((struct sha256_ctx *)s->opaque);
}

void ss_sha256_update(ss_sha256 *s, const void *data, size_t n)
{
    sha256_update((struct sha256_ctx *)s->opaque, n, data);
}

void ss_sha256_update_i32le(ss_sha256 *s, const int32_t *v, size_t n)
{
    unsigned char le[4096];
    for (size_t t = 0; t < n;) {
        size_t m = 0;
        for (; t < n && m < sizeof le; t++, m += 4) {
            uint32_t x = (uint32_t)v[t];
            le[m] = (unsigned char)x;
            le[m + 1] = (unsigned char)(x >> 8);
            le[m + 2] = (unsigned char)(x >> 16);
            le[m + 3] = (unsigned char)(x >> 24);
        }
        ss_sha256_update(s, le, m);
    }
}

void ss_sha256_hex(ss_sha256 *s, char hex[65])
{
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest((struct sha256_ctx *)s->opaque, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

ss_code ss_sha256_file(const char *path, char hex[65], ss_error *err)
{
    int fd = ss_open_regular(path, err);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        if (fd >= 0)
            close(fd);
        return ss_fail(err, SS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    ss_sha256 s;
    ss_sha256_init(&s);
    unsigned char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        ss_sha256_update(&s, buf, got);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return ss_fail(err, SS_ERR_IO, "%s: read error while hashing", path);
    ss_sha256_hex(&s, hex);
    return SS_OK;
}
