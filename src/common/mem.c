#include "common/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define SS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SS_ASAN 1
#endif
#endif
#ifdef SS_ASAN
#include <sanitizer/asan_interface.h>
#endif

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

/* Each buffer is followed by a gap of this many bytes; under ASan the gap
 * is poisoned, so an overrun into the next buffer is still caught as it
 * was when every buffer was its own allocation. */
#define ARENA_ALIGN 64
#define ARENA_GAP 64
#define HUGE_PAGE ((size_t)2 << 20)

static size_t arena_piece(size_t bytes)
{
    return ((bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1)) + ARENA_GAP;
}

size_t ss_arena_bytes(const size_t *sizes, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += arena_piece(sizes[i]);
    return total;
}

/* A mapping of `size` bytes (a multiple of HUGE_PAGE) that starts on a
 * HUGE_PAGE boundary, which THP needs: map one huge page more and trim. */
static void *map_aligned(size_t size)
{
    char *p = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    size_t head = (HUGE_PAGE - (uintptr_t)p % HUGE_PAGE) % HUGE_PAGE;
    if (head)
        munmap(p, head);
    munmap(p + head + size, HUGE_PAGE - head); /* head < HUGE_PAGE: never empty */
    return p + head;
}

ss_code ss_arena_map(ss_arena *a, size_t bytes, const char *what, ss_error *err)
{
    memset(a, 0, sizeof *a);
    /* small arenas (tiny models) stay on small pages: a huge page would be
     * mostly unused memory to zero */
    int huge = bytes >= HUGE_PAGE;
    size_t unit = huge ? HUGE_PAGE : 4096;
    size_t size = (bytes + unit - 1) & ~(unit - 1);
    if (size < bytes || size > SIZE_MAX - HUGE_PAGE)
        return ss_fail(err, SS_ERR_NOMEM, "%s: size overflow (%zu bytes)", what, bytes);
    if (size == 0)
        size = unit;
    void *p = huge ? map_aligned(size)
                   : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!p || p == MAP_FAILED)
        return ss_fail(err, SS_ERR_NOMEM, "%s: out of memory mapping %zu bytes: %s", what, size,
                       strerror(errno));
#ifdef MADV_HUGEPAGE
    /* a hint: where THP is off the pages are small and all works the same */
    if (huge)
        madvise(p, size, MADV_HUGEPAGE);
#endif
    a->base = p;
    a->size = size;
#ifdef SS_ASAN
    ASAN_POISON_MEMORY_REGION(a->base, a->size);
#endif
    return SS_OK;
}

void *ss_arena_take(ss_arena *a, size_t bytes)
{
    size_t piece = arena_piece(bytes);
    if (!a->base || piece > a->size - a->used)
        return NULL; /* more than the mapping still holds (a caller's bug: the
                      * mapping, rounded up to whole pages, holds at least
                      * what ss_arena_bytes was told) */
    char *p = a->base + a->used;
    a->used += piece;
#ifdef SS_ASAN
    ASAN_UNPOISON_MEMORY_REGION(p, bytes);
#endif
    return p;
}

void ss_arena_unmap(ss_arena *a)
{
    if (a->base) {
#ifdef SS_ASAN
        /* the address range may be mapped again for anything */
        ASAN_UNPOISON_MEMORY_REGION(a->base, a->size);
#endif
        munmap(a->base, a->size);
    }
    memset(a, 0, sizeof *a);
}
