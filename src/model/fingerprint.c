#include "model/fingerprint.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* the hash compiled here with the build's flags (AVX2 with SS_NATIVE):
 * Debian's libxxhash is built for baseline x86-64 (SSE2) and hashed the
 * weights at 9 GB/s per core, this at 12 (docs/benchmarks.md "startup");
 * XXH3 is one function whatever the vector width, so digests do not change */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common/mem.h"
#include "common/progress.h"
#include "common/timing.h"
#include "model/model.h"

#define PIECE ((uint64_t)64 << 20)

typedef struct {
    int tensor;
    uint64_t offset, len;
} piece;

static int by_name(const void *a, const void *b, void *ctx)
{
    const ss_tensor *t = ctx;
    return strcmp(t[*(const int *)a].name, t[*(const int *)b].name);
}

static void put_hash(XXH3_state_t *s, XXH128_hash_t h)
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    XXH3_128bits_update(s, c.digest, sizeof c.digest);
}

static void put_u64(XXH3_state_t *s, uint64_t v)
{
    unsigned char b[8];
    for (int k = 0; k < 8; k++)
        b[k] = (unsigned char)(v >> (8 * k)); /* little-endian on every host */
    XXH3_128bits_update(s, b, 8);
}

ss_code ss_tensors_fingerprint(const ss_tensor *t, int n, ss_weights_fingerprint *fp,
                               ss_error *err)
{
    ss_timing_mark("before the fingerprint");
    memset(fp, 0, sizeof *fp);
    double start = ss_now_seconds();
    int *order = ss_calloc((size_t)n + 1, sizeof *order, "fingerprint order", err);
    int64_t n_pieces = 0;
    for (int k = 0; k < n; k++)
        n_pieces += t[k].nbytes ? (int64_t)((t[k].nbytes + PIECE - 1) / PIECE) : 1;
    piece *pc = ss_calloc((size_t)n_pieces + 1, sizeof *pc, "fingerprint pieces", err);
    XXH128_hash_t *h = ss_calloc((size_t)n_pieces + 1, sizeof *h, "fingerprint digests", err);
    XXH3_state_t *s = XXH3_createState();
    if (!order || !pc || !h || !s) {
        free(order);
        free(pc);
        free(h);
        XXH3_freeState(s);
        return s ? SS_ERR_NOMEM : ss_fail(err, SS_ERR_NOMEM, "fingerprint: out of memory");
    }
    for (int k = 0; k < n; k++)
        order[k] = k;
    qsort_r(order, (size_t)n, sizeof *order, by_name, (void *)t);
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        const ss_tensor *x = &t[order[i]];
        uint64_t off = 0;
        do {
            uint64_t len = x->nbytes - off < PIECE ? x->nbytes - off : PIECE;
            pc[at++] = (piece){order[i], off, len};
            off += len;
        } while (off < x->nbytes);
    }
    /* the pieces are independent: the digest does not depend on the threads */
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t k = 0; k < n_pieces; k++) {
        const unsigned char *base = t[pc[k].tensor].data;
        h[k] = XXH3_128bits(base ? (const void *)(base + pc[k].offset) : (const void *)"",
                            (size_t)pc[k].len);
    }
    XXH3_128bits_reset(s);
    at = 0;
    for (int i = 0; i < n; i++) {
        const ss_tensor *x = &t[order[i]];
        XXH3_128bits_update(s, x->name, strlen(x->name) + 1);
        const char *dt = ss_dtype_name(x->dtype);
        XXH3_128bits_update(s, dt, strlen(dt) + 1);
        put_u64(s, (uint64_t)x->ndim);
        for (int d = 0; d < x->ndim; d++)
            put_u64(s, (uint64_t)x->shape[d]);
        put_u64(s, x->nbytes);
        for (; at < n_pieces && pc[at].tensor == order[i]; at++)
            put_hash(s, h[at]);
        fp->bytes += x->nbytes;
    }
    XXH128_hash_t all = XXH3_128bits_digest(s);
    snprintf(fp->digest, sizeof fp->digest, "%016llx%016llx", (unsigned long long)all.high64,
             (unsigned long long)all.low64);
    fp->tensors = n;
    fp->seconds = ss_now_seconds() - start;
    ss_timing_mark("weights fingerprint");
    XXH3_freeState(s);
    free(order);
    free(pc);
    free(h);
    return SS_OK;
}

/* The API lets threads share one model (a scan and a ppl at once): the
 * first computation and its store happen under this lock. */
static pthread_mutex_t fingerprint_lock = PTHREAD_MUTEX_INITIALIZER;

ss_code ss_model_fingerprint(const ss_model *m, ss_weights_fingerprint *fp, ss_error *err)
{
    /* a derived model's digest is of its source's stored tensors (the
     * program's scan.json records the same under --lowrank): ask the source,
     * which computes it once for itself and every model made from it */
    while (m->source)
        m = m->source;
    pthread_mutex_lock(&fingerprint_lock);
    ss_code rc = SS_OK;
    if (!m->has_fingerprint) {
        /* m points to the heap object ss_model_open made (never a const
         * one), so keeping the result in it through a cast is defined; the
         * callers see a model that does not change */
        ss_model *w = (ss_model *)m;
        rc = ss_tensors_fingerprint(m->tensors.items, m->tensors.count, &w->fingerprint, err);
        if (!rc)
            w->has_fingerprint = 1;
    }
    if (!rc)
        *fp = m->fingerprint;
    pthread_mutex_unlock(&fingerprint_lock);
    return rc;
}

void ss_model_copy_struct(struct ss_model *dst, const struct ss_model *src)
{
    /* another thread's first ss_model_fingerprint may be storing src's
     * kept fingerprint right now: read it under the same lock */
    pthread_mutex_lock(&fingerprint_lock);
    *dst = *src;
    pthread_mutex_unlock(&fingerprint_lock);
}

cJSON *ss_weights_fingerprint_json(const ss_weights_fingerprint *fp)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "algorithm", "xxh3-128");
    cJSON_AddStringToObject(j, "digest", fp->digest);
    cJSON_AddNumberToObject(j, "tensors", (double)fp->tensors);
    cJSON_AddNumberToObject(j, "bytes", (double)fp->bytes);
    return j;
}
