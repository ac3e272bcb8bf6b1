/* Allocation that reports failure through ss_error instead of returning NULL
 * silently, and overflow-checked size arithmetic for sizes read from files. */
#ifndef SS_COMMON_MEM_H
#define SS_COMMON_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* calloc(n, size) with overflow check; on failure records SS_ERR_NOMEM naming
 * `what` and returns NULL. */
void *ss_calloc(size_t n, size_t size, const char *what, ss_error *err);
/* 64-byte aligned, zeroed; free with free(). */
void *ss_aligned_calloc(size_t n, size_t size, const char *what, ss_error *err);
/* realloc to n elements with overflow check; the old block survives failure. */
void *ss_realloc_array(void *p, size_t n, size_t size, const char *what, ss_error *err);
char *ss_strdup(const char *s, ss_error *err);
/* A malloc'd copy of bytes [0, size) of p (NULL and SS_ERR_NOMEM on failure). */
void *ss_memdup(const void *p, size_t size, const char *what, ss_error *err);

/* One anonymous mapping carved into zeroed, 64-byte aligned buffers (a
 * pass's workspace): its pages come from the kernel already zero, so
 * nothing is written before use, and it asks for transparent huge pages,
 * so a 2 MiB page costs one fault where 4 KiB pages cost 512. */
typedef struct {
    char *base;   /* the mapping (NULL: none) */
    size_t size;  /* its bytes */
    size_t used;  /* bytes handed out (ss_arena_take) */
} ss_arena;

/* The bytes an arena needs for buffers of the given sizes (with their
 * alignment and guard gaps). */
size_t ss_arena_bytes(const size_t *sizes, int n);
/* Maps `bytes` (from ss_arena_bytes); SS_ERR_NOMEM naming `what` on failure. */
ss_code ss_arena_map(ss_arena *a, size_t bytes, const char *what, ss_error *err);
/* The next buffer of `bytes`, in the order ss_arena_bytes was given them.
 * Its piece is `bytes` rounded up to 64 plus a 64-byte guard gap; NULL when
 * that is more than the mapping still holds (the mapping is rounded up to
 * whole pages, so it may hold more than ss_arena_bytes was told). */
void *ss_arena_take(ss_arena *a, size_t bytes);
void ss_arena_unmap(ss_arena *a);

/* Bytes of memory this process can still use without swapping: the
 * kernel's MemAvailable (/proc/meminfo), lowered to RLIMIT_AS / RLIMIT_DATA
 * when those are set; 0 when unknown (then no check is made). */
uint64_t ss_mem_available(void);
/* SS_ERR_NOMEM naming `what` when `need` bytes exceed what is available
 * (with the two sizes in GiB, and `advice`); SS_OK when they fit or the
 * amount available is unknown. */
ss_code ss_mem_check(uint64_t need, const char *what, const char *advice, ss_error *err);

/* a*b and a+b for sizes from untrusted files: return 0 on overflow. */
int ss_mul_u64(uint64_t a, uint64_t b, uint64_t *out);
int ss_add_u64(uint64_t a, uint64_t b, uint64_t *out);

#endif
