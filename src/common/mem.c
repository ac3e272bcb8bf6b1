#include "common/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

uint64_t ss_mem_available(void)
{
    uint64_t avail = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                avail = (uint64_t)kb * 1024;
                break;
            }
        fclose(f);
    }
    int limits[2] = {RLIMIT_AS, RLIMIT_DATA};
    for (int i = 0; i < 2; i++) {
        struct rlimit rl;
        if (getrlimit(limits[i], &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            (avail == 0 || (uint64_t)rl.rlim_cur < avail))
            avail = (uint64_t)rl.rlim_cur;
    }
    return avail;
}

ss_code ss_mem_check(uint64_t need, const char *what, const char *advice, ss_error *err)
{
    uint64_t avail = ss_mem_available();
    if (avail == 0 || need <= avail)
        return SS_OK;
    return ss_fail(err, SS_ERR_NOMEM, "%s needs about %.2f GiB, more than the %.2f GiB this "
                   "machine has available%s%s", what, need / 1073741824.0, avail / 1073741824.0,
                   advice && *advice ? ": " : "", advice ? advice : "");
}

void *ss_calloc(size_t n, size_t size, const char *what, ss_error *err)
{
    if (n == 0 || size == 0)
        n = size = 1;
    if (size && n > SIZE_MAX / size) {
        ss_fail(err, SS_ERR_NOMEM, "%s: size overflow (%zu x %zu bytes)", what, n, size);
        return NULL;
    }
    void *p = calloc(n, size);
    if (!p)
        ss_fail(err, SS_ERR_NOMEM, "%s: out of memory allocating %zu bytes", what, n * size);
    return p;
}

void *ss_aligned_calloc(size_t n, size_t size, const char *what, ss_error *err)
{
    if (n == 0 || size == 0)
        n = size = 1;
    if (n > SIZE_MAX / size - 64) {
        ss_fail(err, SS_ERR_NOMEM, "%s: size overflow (%zu x %zu bytes)", what, n, size);
        return NULL;
    }
    size_t bytes = (n * size + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, bytes);
    if (!p) {
        ss_fail(err, SS_ERR_NOMEM, "%s: out of memory allocating %zu bytes", what, bytes);
        return NULL;
    }
    memset(p, 0, bytes);
    return p;
}

void *ss_realloc_array(void *p, size_t n, size_t size, const char *what, ss_error *err)
{
    if (n == 0)
        n = 1;
    if (size && n > SIZE_MAX / size) {
        ss_fail(err, SS_ERR_NOMEM, "%s: size overflow", what);
        return NULL;
    }
    void *q = realloc(p, n * size);
    if (!q)
        ss_fail(err, SS_ERR_NOMEM, "%s: out of memory allocating %zu bytes", what, n * size);
    return q;
}

char *ss_strdup(const char *s, ss_error *err)
{
    size_t n = strlen(s) + 1;
    char *d = ss_calloc(n, 1, "string", err);
    if (d)
        memcpy(d, s, n);
    return d;
}

int ss_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a && b > UINT64_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

int ss_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b > UINT64_MAX - a)
        return 0;
    *out = a + b;
    return 1;
}

void *ss_memdup(const void *p, size_t size, const char *what, ss_error *err)
{
    void *d = ss_calloc(size, 1, what, err);
    if (d && size)
        memcpy(d, p, size);
    return d;
}
