#include "analysis/merge.h"

#include <stdlib.h>
#include <string.h>

#include "analysis/scan_result.h"
#include "common/mem.h"
#include "common/sha256.h"
#include "store/provenance.h"

/* The SHA-256 of every prompt source of a scan ("sources" in scan.json). */
static const cJSON *sources_of(const ss_scan_result *r)
{
    return cJSON_GetObjectItemCaseSensitive(r->meta, "sources");
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Synthetic prompts are named by (kind, seed, vocab, bos, segment) and an
 * index range; two ranges of one sequence must not overlap. */
static ss_code check_synthetic_pair(const cJSON *x, const char *dx, const cJSON *y,
                                    const char *dy, ss_error *err)
{
    const char *kx = str_of(x, "source"), *ky = str_of(y, "source");
    const char *sx = str_of(x, "seed"), *sy = str_of(y, "seed");
    if (!kx || !ky || strcmp(kx, ky) != 0 || !sx || !sy || strcmp(sx, sy) != 0)
        return SS_OK;
    const char *same[3] = {"vocab", "bos", "segment"};
    for (int k = 0; k < 3; k++)
        if (num_of(x, same[k], -2) != num_of(y, same[k], -2))
            return SS_OK; /* another sequence of prompts */
    double fx = num_of(x, "first", 0), fy = num_of(y, "first", 0);
    double cx = num_of(x, "count", 0), cy = num_of(y, "count", 0);
    double lo = fx > fy ? fx : fy, hi = fx + cx < fy + cy ? fx + cx : fy + cy;
    if (lo >= hi)
        return SS_OK;
    return ss_fail(err, SS_ERR_INCOMPATIBLE,
                   "%s and %s both hold %s prompts %.0f to %.0f of seed %s: merging would count "
                   "them twice (extend a set with --ood-offset %.0f instead)", dx, dy, kx, lo,
                   hi - 1, sx, fx + cx > fy + cy ? fx + cx : fy + cy);
}

typedef struct {
    const char *hex;
    int input, index;
} prompt_ref;

static int by_hex(const void *a, const void *b)
{
    const prompt_ref *x = a, *y = b;
    int c = strcmp(x->hex, y->hex);
    return c ? c : x->input - y->input;
}

/* Text and id prompts are named by the SHA-256 of their ids: no prompt may
 * be in two inputs (two files sharing lines, one file scanned twice). */
static ss_code check_digests(const ss_scan_result *in, const char *const *dirs, int n, ss_error *err)
{
    size_t total = 0;
    for (int a = 0; a < n; a++) {
        const cJSON *x;
        cJSON_ArrayForEach(x, sources_of(&in[a]))
            total += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(x, "prompt_sha256"));
    }
    prompt_ref *refs = ss_calloc(total + 1, sizeof *refs, "prompt digests", err);
    if (!refs)
        return SS_ERR_NOMEM;
    size_t at = 0;
    for (int a = 0; a < n; a++) {
        const cJSON *x, *h;
        int k = 0;
        cJSON_ArrayForEach(x, sources_of(&in[a]))
            cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(x, "prompt_sha256"))
            {
                if (cJSON_IsString(h) && at < total)
                    refs[at++] = (prompt_ref){h->valuestring, a, k};
                k++;
            }
    }
    qsort(refs, at, sizeof *refs, by_hex);
    ss_code rc = SS_OK;
    for (size_t i = 1; i < at && !rc; i++)
        if (refs[i].input != refs[i - 1].input && strcmp(refs[i].hex, refs[i - 1].hex) == 0)
            rc = ss_fail(err, SS_ERR_INCOMPATIBLE,
                         "%s (prompt %d) and %s (prompt %d) hold the same prompt (ids SHA-256 "
                         "%.16s...): merging would count it twice", dirs[refs[i - 1].input],
                         refs[i - 1].index, dirs[refs[i].input], refs[i].index, refs[i].hex);
    free(refs);
    return rc;
}

/* No prompt may be counted twice: not the same source (same SHA-256), not
 * overlapping index ranges of one synthetic sequence, not one prompt of two
 * files. */
static ss_code check_disjoint(const ss_scan_result *in, const char *const *dirs, int n, ss_error *err)
{
    for (int a = 0; a < n; a++) {
        const cJSON *sa = sources_of(&in[a]), *x;
        if (!cJSON_IsArray(sa) || cJSON_GetArraySize(sa) == 0)
            return ss_fail(err, SS_ERR_FORMAT, "%s/scan.json: no \"sources\" list", dirs[a]);
        cJSON_ArrayForEach(x, sa)
        {
            const char *hx = str_of(x, "sha256");
            if (!hx)
                return ss_fail(err, SS_ERR_FORMAT, "%s/scan.json: a source without \"sha256\"",
                               dirs[a]);
            for (int b = a + 1; b < n; b++) {
                const cJSON *y;
                cJSON_ArrayForEach(y, sources_of(&in[b]))
                {
                    const char *hy = str_of(y, "sha256");
                    if (hy && strcmp(hx, hy) == 0)
                        return ss_fail(err, SS_ERR_INCOMPATIBLE,
                                       "%s and %s share a prompt source (SHA-256 %.16s...): "
                                       "merging would count the same prompts twice",
                                       dirs[a], dirs[b], hx);
                    ss_code rc = check_synthetic_pair(x, dirs[a], y, dirs[b], err);
                    if (rc)
                        return rc;
                }
            }
        }
    }
    return check_digests(in, dirs, n, err);
}

/* Text in any form is one population; uniform random tokens and repeated
 * random segments are two others. */
static const char *family_of(const char *kind)
{
    if (strcmp(kind, "ood") == 0)
        return "uniform random tokens (--ood)";
    if (strcmp(kind, "repeat") == 0)
        return "repeated random segments (--repeat)";
    return "text or token files";
}

/* Averaging over two populations would blur exactly what `compare` keeps
 * apart (in-distribution against OOD): every source must be of one family. */
static ss_code check_same_family(const ss_scan_result *in, const char *const *dirs, int n, ss_error *err)
{
    const char *first = NULL, *first_dir = NULL;
    for (int a = 0; a < n; a++) {
        const cJSON *x;
        cJSON_ArrayForEach(x, sources_of(&in[a]))
        {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(x, "source");
            if (!cJSON_IsString(k))
                return ss_fail(err, SS_ERR_FORMAT, "%s/scan.json: a source without \"source\"",
                               dirs[a]);
            const char *f = family_of(k->valuestring);
            if (!first) {
                first = f;
                first_dir = dirs[a];
            } else if (strcmp(f, first) != 0) {
                return ss_fail(err, SS_ERR_INCOMPATIBLE,
                               "%s holds prompts of %s, %s of %s: a merge averages one prompt "
                               "population (compare them with 'slashscope compare' instead)",
                               first_dir, first, dirs[a], f);
            }
        }
    }
    return SS_OK;
}

static int has_head(const ss_scan_result *r, int x)
{
    for (int k = 0; k < r->n_maps; k++)
        if (r->map_heads[k] == x)
            return k + 1;
    return 0;
}

/* Maps of heads that every input has at the same size, summed. */
static ss_code merge_maps(const ss_scan_result *in, int n, ss_scan_result *out, int *dropped,
                          ss_error *err)
{
    int total = 0;
    for (int a = 0; a < n; a++)
        total += in[a].n_maps;
    out->map_size = in[0].map_size;
    out->bins = in[0].bins;
    int same = 1;
    for (int a = 1; a < n; a++)
        same &= in[a].map_size == out->map_size && in[a].bins == out->bins;
    if (!same || in[0].n_maps == 0) {
        out->map_size = out->bins = 0;
        *dropped = total;
        return SS_OK;
    }
    size_t bb = (size_t)out->bins * out->bins;
    out->map_heads = ss_calloc((size_t)in[0].n_maps, sizeof *out->map_heads, "map heads", err);
    out->map_sum = ss_calloc((size_t)in[0].n_maps * bb, sizeof *out->map_sum, "maps", err);
    if (!out->map_heads || !out->map_sum)
        return SS_ERR_NOMEM;
    for (int k = 0; k < in[0].n_maps; k++) {
        int x = in[0].map_heads[k], everywhere = 1;
        for (int a = 1; a < n; a++)
            everywhere &= has_head(&in[a], x) != 0;
        if (!everywhere)
            continue;
        double *dst = out->map_sum + (size_t)out->n_maps * bb;
        for (int a = 0; a < n; a++) {
            const double *src = in[a].map_sum + (size_t)(has_head(&in[a], x) - 1) * bb;
            for (size_t i = 0; i < bb; i++)
                dst[i] += src[i];
        }
        out->map_heads[out->n_maps++] = x;
    }
    *dropped = total - n * out->n_maps;
    if (out->n_maps == 0)
        out->map_size = out->bins = 0;
    return SS_OK;
}

/* scan.json of the merge: the first input's settings, every input's
 * sources, summed counts and times. */
static void merged_meta(const ss_scan_result *in, const char *const *dirs, int n, ss_scan_result *out)
{
    out->meta = cJSON_Duplicate(in[0].meta, 1);
    cJSON *sources = cJSON_CreateArray();
    ss_sha256 h;
    ss_sha256_init(&h);
    double wall = 0, tokens = 0;
    for (int a = 0; a < n; a++) {
        const cJSON *x;
        cJSON_ArrayForEach(x, sources_of(&in[a]))
        {
            cJSON_AddItemToArray(sources, cJSON_Duplicate(x, 1));
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(x, "sha256");
            ss_sha256_update(&h, s->valuestring, strlen(s->valuestring));
        }
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(in[a].meta, "wall_seconds");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(in[a].meta, "tokens");
        wall += cJSON_IsNumber(w) ? w->valuedouble : 0;
        tokens += cJSON_IsNumber(t) ? t->valuedouble : 0;
    }
    char hex[65];
    ss_sha256_hex(&h, hex);
    cJSON *pr = cJSON_CreateObject();
    cJSON_AddStringToObject(pr, "source", "merged");
    cJSON_AddStringToObject(pr, "sha256", hex); /* of the parts' hashes, in order */
    cJSON_AddNumberToObject(pr, "parts", cJSON_GetArraySize(sources));
    cJSON *from = cJSON_CreateArray();
    for (int a = 0; a < n; a++)
        cJSON_AddItemToArray(from, cJSON_CreateString(dirs[a]));
    cJSON_ReplaceItemInObjectCaseSensitive(out->meta, "prompts", pr);
    cJSON_ReplaceItemInObjectCaseSensitive(out->meta, "sources", sources);
    cJSON_DeleteItemFromObjectCaseSensitive(out->meta, "merged_from");
    cJSON_AddItemToObject(out->meta, "merged_from", from);
    cJSON_DeleteItemFromObjectCaseSensitive(out->meta, "wall_seconds");
    cJSON_DeleteItemFromObjectCaseSensitive(out->meta, "tokens");
    cJSON_DeleteItemFromObjectCaseSensitive(out->meta, "tokens_per_second");
    cJSON_DeleteItemFromObjectCaseSensitive(out->meta, "created");
    cJSON_AddNumberToObject(out->meta, "wall_seconds", wall);
    cJSON_AddNumberToObject(out->meta, "tokens", tokens);
    cJSON_AddNumberToObject(out->meta, "tokens_per_second", wall > 0 ? tokens / wall : 0);
    char when[32];
    ss_prov_utc_now(when, sizeof when);
    cJSON_AddStringToObject(out->meta, "created", when);
    cJSON *maps = cJSON_GetObjectItemCaseSensitive(out->meta, "maps");
    if (cJSON_IsObject(maps)) {
        cJSON_DeleteItemFromObjectCaseSensitive(maps, "selection");
        cJSON_AddStringToObject(maps, "selection", "merged");
    }
}

ss_code ss_scan_merge_results(const ss_scan_result *in, const char *const *names, int n,
                              ss_scan_result *out, int *maps_dropped, ss_error *err)
{
    int dropped_local;
    if (!maps_dropped)
        maps_dropped = &dropped_local;
    *maps_dropped = 0;
    memset(out, 0, sizeof *out);
    if (n < 2)
        return ss_fail(err, SS_ERR_USAGE, "merge needs at least two scans");
    ss_code rc = SS_OK;
    for (int a = 1; a < n && !rc; a++)
        rc = ss_scan_result_compatible(&in[0], names[0], &in[a], names[a], 1, err);
    if (!rc)
        rc = check_disjoint(in, names, n, err);
    if (!rc)
        rc = check_same_family(in, names, n, err);
    if (!rc) {
        out->n_layer = in[0].n_layer;
        out->n_head = in[0].n_head;
        out->n = in[0].n;
        out->skip = in[0].skip;
        size_t cells = (size_t)out->n_layer * out->n_head * out->n;
        out->slash_sum = ss_calloc(cells, sizeof *out->slash_sum, "slash sums", err);
        out->slash_count = ss_calloc(cells, sizeof *out->slash_count, "slash counts", err);
        /* sums of squares only when every input has them */
        int all_sq = 1;
        for (int a = 0; a < n; a++)
            all_sq &= in[a].slash_sumsq != NULL;
        if (all_sq)
            out->slash_sumsq = ss_calloc(cells, sizeof *out->slash_sumsq,
                                         "slash sums of squares", err);
        if (!out->slash_sum || !out->slash_count || (all_sq && !out->slash_sumsq))
            rc = SS_ERR_NOMEM;
        for (int a = 0; a < n && !rc; a++) {
            for (size_t i = 0; i < cells; i++) {
                out->slash_sum[i] += in[a].slash_sum[i];
                if (out->slash_sumsq)
                    out->slash_sumsq[i] += in[a].slash_sumsq[i];
                out->slash_count[i] += in[a].slash_count[i];
            }
            out->prompts += in[a].prompts;
        }
    }
    if (!rc)
        rc = merge_maps(in, n, out, maps_dropped, err);
    if (!rc)
        merged_meta(in, names, n, out);
    if (rc)
        ss_scan_result_free(out);
    return rc;
}
