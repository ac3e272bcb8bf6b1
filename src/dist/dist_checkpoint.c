/* Per-rank checkpoints of a distributed run (dist/dist.h): one file per
 * rank and epoch, DIR/e<E>.r<R>.ck:
 *   "SSDIST1\n", int64 epoch, rank, ranks; uint64 settings length and the
 *   settings text; int64 n and the n source indices of the prompts held;
 *   uint64 state length and the state (ss_dist_pack of the analyses).
 * Native byte order: the ranks of one job run one build on one kind of
 * machine. Written to a temporary name and renamed (io/atomic_file.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/progress.h"
#include "dist/dist.h"
#include "io/atomic_file.h"

static const char MAGIC[8] = {'S', 'S', 'D', 'I', 'S', 'T', '1', '\n'};

ss_code ss_dist_checkpoints(ss_dist *d, const char *dir, const char *settings, int resume,
                            int every, ss_error *err)
{
    if (strlen(dir) >= sizeof d->dir - 64)
        return ss_fail(err, SS_ERR_USAGE, "%s: checkpoint folder path too long", dir);
    ss_code rc = ss_mkdirs(dir, err);
    if (rc)
        return rc;
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    free(d->settings);
    if (!(d->settings = ss_memdup(settings, strlen(settings) + 1, "settings", err)))
        return SS_ERR_NOMEM;
    d->resume = resume;
    d->every = every > 0 ? every : 8;
    d->every_s = 300;
    return SS_OK;
}

/* "e<E>.r<R>.ck" -> epoch and rank; 0 when the name is not ours. */
static int parse_name(const char *name, long long *epoch, int *rank)
{
    int used = 0;
    if (sscanf(name, "e%lld.r%d.ck%n", epoch, rank, &used) != 2 || name[used] != 0)
        return 0;
    return *epoch >= 0 && *rank >= 0;
}

typedef struct {
    long long resume_epoch; /* newest epoch with rank 0's file, -1: none */
    long long max_epoch;    /* largest epoch of any file, -1: none */
    int max_rank;           /* largest rank number, -1: none */
} ck_survey;

/* One pass over dir: the checkpoints it holds; with `remove`, also unlinks
 * every checkpoint not of epoch `keep` and what a killed save left. */
static ck_survey survey(const char *dir, int remove, long long keep)
{
    ck_survey s = {-1, -1, -1};
    DIR *dp = opendir(dir);
    if (!dp)
        return s;
    struct dirent *e;
    long long ep;
    int r;
    char path[4400];
    while ((e = readdir(dp))) {
        int ours = parse_name(e->d_name, &ep, &r);
        if (ours) {
            s.max_epoch = ep > s.max_epoch ? ep : s.max_epoch;
            s.resume_epoch = r == 0 && ep > s.resume_epoch ? ep : s.resume_epoch;
            s.max_rank = r > s.max_rank ? r : s.max_rank;
        }
        if (remove && ((ours && ep != keep) || strstr(e->d_name, ".ck.tmp."))) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(dp);
    return s;
}

int ss_dist_has_checkpoints(const char *dir)
{
    return survey(dir, 0, 0).max_epoch >= 0;
}

static void file_name(const ss_dist *d, int64_t epoch, int rank, char *out, size_t cap)
{
    snprintf(out, cap, "%s/e%lld.r%d.ck", d->dir, (long long)epoch, rank);
}

static ss_code save(ss_dist *d, ss_analysis *const *an, int n, ss_error *err)
{
    unsigned char *state;
    size_t bytes;
    ss_code rc = ss_dist_pack(an, n, &state, &bytes, err);
    if (rc)
        return rc;
    char path[4200];
    file_name(d, d->epoch, d->rank, path, sizeof path);
    ss_atomic_file f;
    if (!(rc = ss_atomic_open(&f, path, err))) {
        int64_t head[3] = {d->epoch, d->rank, d->size};
        uint64_t slen = strlen(d->settings), sbytes = bytes;
        int64_t held = d->n_held;
        fwrite(MAGIC, 1, sizeof MAGIC, f.fp);
        fwrite(head, sizeof head, 1, f.fp);
        fwrite(&slen, sizeof slen, 1, f.fp);
        fwrite(d->settings, 1, slen, f.fp);
        fwrite(&held, sizeof held, 1, f.fp);
        if (held > 0)
            fwrite(d->held, sizeof *d->held, (size_t)held, f.fp);
        fwrite(&sbytes, sizeof sbytes, 1, f.fp);
        fwrite(state, 1, bytes, f.fp);
        rc = ss_atomic_commit(&f, err); /* reports a failed write */
    }
    free(state);
    d->since_save = 0;
    d->last_save = ss_now_seconds();
    return rc;
}

/* A bounded reader over a checkpoint file's bytes. */
typedef struct {
    const unsigned char *p;
    size_t n, at;
} reader;

static int take_bytes(reader *r, void *out, size_t k)
{
    if (k > r->n - r->at)
        return 0;
    memcpy(out, r->p + r->at, k);
    r->at += k;
    return 1;
}

static ss_code add_held(ss_dist *d, const int64_t *idx, int64_t n, ss_error *err)
{
    if (d->n_held + n > d->cap_held) {
        int64_t cap = (d->n_held + n) * 2 + 64;
        int64_t *p = ss_realloc_array(d->held, (size_t)cap, sizeof *p, "checkpoint prompts", err);
        if (!p)
            return SS_ERR_NOMEM;
        d->held = p;
        d->cap_held = cap;
    }
    memcpy(d->held + d->n_held, idx, (size_t)n * sizeof *idx);
    d->n_held += n;
    return SS_OK;
}

/* Rank 0: one file of the epoch resumed, checked and folded into an. */
static ss_code load_file(ss_dist *d, const char *path, ss_analysis *const *an, int n,
                         ss_error *err)
{
    char *data;
    size_t size;
    ss_code rc = ss_read_file(path, (size_t)1 << 40, &data, &size, err);
    if (rc)
        return rc;
    reader r = {(const unsigned char *)data, size, 0};
    char magic[8];
    int64_t head[3], held = 0;
    uint64_t slen = 0, sbytes = 0;
    int ok = take_bytes(&r, magic, 8) && memcmp(magic, MAGIC, 8) == 0 &&
             take_bytes(&r, head, sizeof head) && take_bytes(&r, &slen, sizeof slen) &&
             slen <= size - r.at;
    if (ok && (slen != strlen(d->settings) || memcmp(r.p + r.at, d->settings, slen) != 0))
        rc = ss_fail(err, SS_ERR_INCOMPATIBLE, "%s: made by another command line (%.*s); "
                     "resume with the same model, prompts and options", path,
                     (int)(slen < 300 ? slen : 300), (const char *)r.p + r.at);
    r.at += ok ? slen : 0;
    ok = ok && take_bytes(&r, &held, sizeof held) && held >= 0 &&
         (uint64_t)held <= (size - r.at) / sizeof(int64_t);
    size_t held_at = r.at;
    r.at += ok ? (size_t)held * sizeof(int64_t) : 0;
    ok = ok && take_bytes(&r, &sbytes, sizeof sbytes) && sbytes == size - r.at;
    if (!rc && !ok)
        rc = ss_fail(err, SS_ERR_FORMAT, "%s: not a whole slashscope checkpoint (expected "
                     "header, settings, prompt list and state)", path);
    if (!rc && held > 0) {
        int64_t *idx = ss_memdup(data + held_at, (size_t)held * sizeof *idx,
                                 "checkpoint prompts", err);
        rc = idx ? add_held(d, idx, held, err) : SS_ERR_NOMEM;
        free(idx);
    }
    if (!rc)
        rc = ss_dist_fold(an, n, r.p + r.at, (size_t)sbytes, path, err);
    free(data);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Rank 0's part of the start: survey, load, commit the new epoch. */
static ss_code start_root(ss_dist *d, ss_analysis *const *an, int n, ss_error *err)
{
    ck_survey sv = survey(d->dir, 0, 0);
    long long resume_epoch = sv.resume_epoch, max_epoch = sv.max_epoch;
    int max_rank = sv.max_rank;
    if (max_epoch >= 0 && !d->resume)
        return ss_fail(err, SS_ERR_USAGE, "%s holds the checkpoints of an unfinished run: add "
                       "--resume to continue it (any number of ranks), or delete %s to start "
                       "afresh", d->dir, d->dir);
    ss_code rc = SS_OK;
    char path[4200];
    for (int r = 0; resume_epoch >= 0 && r <= max_rank && !rc; r++) {
        file_name(d, resume_epoch, r, path, sizeof path);
        if (access(path, F_OK) == 0)
            rc = load_file(d, path, an, n, err);
    }
    if (rc)
        return rc;
    if (d->n_held > 1)
        qsort(d->held, (size_t)d->n_held, sizeof *d->held, cmp_i64);
    for (int64_t i = 1; i < d->n_held; i++)
        if (d->held[i] == d->held[i - 1])
            return ss_fail(err, SS_ERR_FORMAT, "%s: prompt %lld is in two checkpoint files "
                           "(mixed runs?): delete the folder to start afresh", d->dir,
                           (long long)d->held[i]);
    d->epoch = max_epoch + 1;
    /* the commit: from here on the new epoch holds everything earlier */
    if ((rc = save(d, an, n, err)))
        return rc;
    survey(d->dir, 1, d->epoch);
    return SS_OK;
}

ss_code ss_dist_ck_start(void *ctx, ss_analysis *const *an, int n, ss_error *err)
{
    ss_dist *d = ctx;
    if (!d->dir[0])
        return SS_OK;
    d->last_save = ss_now_seconds();
    ss_code rc = d->rank == 0 ? start_root(d, an, n, err) : SS_OK;
    /* every rank learns the verdict, the epoch and the prompts already held */
    int64_t head[3] = {rc != SS_OK, d->epoch, d->n_held};
    ss_dist_bcast_i64(d, head, 3);
    if (head[0])
        return d->rank == 0 ? rc : ss_fail(err, SS_STOP, "rank 0 refused the checkpoints");
    d->epoch = head[1];
    d->n_skip = head[2];
    if (d->n_skip > 0 &&
        !(d->skip = ss_calloc((size_t)d->n_skip, sizeof *d->skip, "checkpoint prompts", err)))
        return SS_ERR_NOMEM; /* fails this rank, which ends the job */
    if (d->rank == 0 && d->n_skip > 0)
        memcpy(d->skip, d->held, (size_t)d->n_skip * sizeof *d->skip);
    ss_dist_bcast_i64(d, d->skip, d->n_skip);
    return SS_OK;
}

ss_code ss_dist_ck_after_prompt(void *ctx, ss_analysis *const *an, int n, ss_error *err)
{
    ss_dist *d = ctx;
    d->in_prompt = 0;
    if (!d->dir[0])
        return SS_OK;
    ss_code rc = add_held(d, &d->current, 1, err);
    if (rc)
        return rc;
    if (++d->since_save >= d->every || ss_now_seconds() - d->last_save >= d->every_s)
        return save(d, an, n, err);
    return SS_OK;
}

ss_code ss_dist_ck_save(ss_dist *d, ss_analysis *const *an, int n, ss_error *err)
{
    return d->dir[0] && d->since_save > 0 ? save(d, an, n, err) : SS_OK;
}

void ss_dist_remove_checkpoints(const ss_dist *d)
{
    if (!d->dir[0])
        return;
    survey(d->dir, 1, -1);
    rmdir(d->dir);
}
