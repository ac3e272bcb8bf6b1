/* Per-rank checkpoints of a distributed run (dist/dist.h), in the store's
 * checkpoint format (store/checkpoint.h: every array's SHA-256 and the
 * state's own digest are checked on load) inside the run's work folder
 * OUT.partial (store/folder.h):
 *   OUT.partial/checkpoint/         rank 0's (where a plain run keeps its
 *                                   checkpoint: the folder transaction keeps
 *                                   it on failure and removes it on commit)
 *   OUT.partial/checkpoint/rank<R>/ rank R's, R >= 1.
 * Each holds the analyses' state fields as arrays "<i>.<field>" (a typed
 * field as a 1-D array of its type, a struct field as its raw 8-byte words)
 * and the state {"dist": {epoch, rank, ranks}, "settings": the command line,
 * "held": the source indices of the prompts in that state}. */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/progress.h"
#include "dist/dist.h"
#include "io/json.h"
#include "store/checkpoint.h"
#include "store/folder.h"

#define CK_PATH 4400

ss_code ss_dist_checkpoints(ss_dist *d, const char *work, const char *settings, int resume,
                            int every, ss_error *err)
{
    if (strlen(work) >= sizeof d->dir - 300)
        return ss_fail(err, SS_ERR_USAGE, "%s: checkpoint folder path too long", work);
    snprintf(d->dir, sizeof d->dir, "%s", work);
    free(d->settings);
    if (!(d->settings = ss_memdup(settings, strlen(settings) + 1, "settings", err)))
        return SS_ERR_NOMEM;
    d->resume = resume;
    d->every = every > 0 ? every : 8;
    d->every_s = 300;
    return SS_OK;
}

ss_code ss_dist_add_settings(ss_dist *d, const char *words, ss_error *err)
{
    size_t a = d->settings ? strlen(d->settings) : 0, b = strlen(words);
    char *s = ss_realloc_array(d->settings, a + b + 2, 1, "settings", err);
    if (!s)
        return SS_ERR_NOMEM;
    s[a] = 0;
    if (a)
        strcat(s, " ");
    strcat(s, words);
    d->settings = s;
    return SS_OK;
}

/* The checkpoint folder of `rank` (0: OUT.partial/checkpoint itself). */
static void rank_dir(const char *work, int rank, char *out, size_t cap)
{
    if (rank == 0)
        snprintf(out, cap, "%s/%s", work, SS_FOLDER_CHECKPOINT);
    else
        snprintf(out, cap, "%s/%s/rank%d", work, SS_FOLDER_CHECKPOINT, rank);
}

/* The "dist" object of dir's state.json as saved (not yet verified), or
 * NULL: no checkpoint there, or not one of a distributed run. *root owns it. */
static const cJSON *peek_dist(const char *dir, cJSON **root)
{
    char p[CK_PATH + 32];
    snprintf(p, sizeof p, "%s/state.json", dir);
    *root = NULL;
    ss_error quiet = {0};
    if (access(p, F_OK) != 0 || ss_json_load(p, (size_t)64 << 20, root, &quiet))
        return NULL;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(*root, "state");
    const cJSON *dist = cJSON_GetObjectItemCaseSensitive(st, "dist");
    return cJSON_IsObject(dist) ? dist : NULL;
}

int ss_dist_has_checkpoints(const char *work)
{
    char dir[CK_PATH];
    rank_dir(work, 0, dir, sizeof dir);
    cJSON *root;
    int has = peek_dist(dir, &root) != NULL;
    cJSON_Delete(root);
    return has;
}

/* "slash_sum" of "a->slash_sum", "prompts" of "&a->prompts". */
static const char *field_stem(const char *expr)
{
    const char *s = expr, *p;
    while ((p = strstr(s, "->")))
        s = p + 2;
    const char *dot = strrchr(s, '.');
    return dot ? dot + 1 : s;
}

/* The fields of an as checkpoint arrays (names in names[][64]); zero-byte
 * fields are left out. Returns the count, or -1 with err. */
static int fields_as_arrays(ss_analysis *const *an, int n, ss_ck_array *a,
                            char (*names)[64], int *raw, ss_error *err)
{
    ss_state_field f[SS_DIST_MAX_FIELDS];
    int k = ss_dist_fields(an, n, f, SS_DIST_MAX_FIELDS), m = 0;
    if (k < 0) {
        ss_fail(err, SS_ERR_USAGE, "these analyses cannot be checkpointed (at most 4, each "
                "with state fields)");
        return -1;
    }
    for (int i = 0; i < k; i++) {
        if (f[i].bytes == 0)
            continue;
        ss_npy_type t = f[i].type == SS_STATE_RAW ? SS_NPY_I64 : (ss_npy_type)f[i].type;
        size_t es = ss_npy_elem_size(t);
        if (f[i].bytes % es != 0) {
            ss_fail(err, SS_ERR_USAGE, "state field %s: %zu bytes are not whole %zu-byte words",
                    f[i].name, f[i].bytes, es);
            return -1;
        }
        snprintf(names[m], 64, "%d.%s", i, field_stem(f[i].name));
        a[m] = (ss_ck_array){.name = names[m], .type = t, .ndim = 1,
                             .shape = {(int64_t)(f[i].bytes / es)}, .data = f[i].data};
        raw[m++] = f[i].type == SS_STATE_RAW; /* covered by the checksum only */
    }
    return m;
}

/* What the numbers must satisfy whatever the checksums say: no NaN in a
 * float field, no negative integer (counts, prompt numbers). */
static ss_code check_contents(const char *dir, const ss_ck_array *a, const int *raw, int m,
                              ss_error *err)
{
    for (int i = 0; i < m; i++) {
        if (raw[i])
            continue;
        for (int64_t j = 0; j < a[i].shape[0]; j++) {
            int bad = 0;
            switch (a[i].type) {
            case SS_NPY_F32: bad = isnan(((const float *)a[i].data)[j]); break;
            case SS_NPY_F64: bad = isnan(((const double *)a[i].data)[j]); break;
            case SS_NPY_I32: bad = ((const int32_t *)a[i].data)[j] < 0; break;
            case SS_NPY_I64: bad = ((const int64_t *)a[i].data)[j] < 0; break;
            }
            if (bad)
                return ss_fail(err, SS_ERR_FORMAT, "%s: array %s, element %lld is %s: the "
                               "checkpoint is damaged; start afresh with --force", dir,
                               a[i].name, (long long)j,
                               a[i].type == SS_NPY_F32 || a[i].type == SS_NPY_F64 ? "NaN"
                                                                                  : "negative");
        }
    }
    return SS_OK;
}

static ss_code save(ss_dist *d, ss_analysis *const *an, int n, ss_error *err)
{
    ss_ck_array a[SS_DIST_MAX_FIELDS];
    char names[SS_DIST_MAX_FIELDS][64];
    int raw[SS_DIST_MAX_FIELDS];
    int m = fields_as_arrays(an, n, a, names, raw, err);
    if (m < 0)
        return err->code;
    char dir[CK_PATH];
    rank_dir(d->dir, d->rank, dir, sizeof dir);
    ss_checkpoint c;
    ss_code rc = ss_checkpoint_init_dir(&c, dir, err);
    if (rc)
        return rc;
    c.generation = d->generation;
    cJSON *st = cJSON_CreateObject();
    cJSON *dist = cJSON_AddObjectToObject(st, "dist");
    cJSON_AddNumberToObject(dist, "epoch", (double)d->epoch);
    cJSON_AddNumberToObject(dist, "rank", d->rank);
    cJSON_AddNumberToObject(dist, "ranks", d->size);
    cJSON_AddStringToObject(st, "settings", d->settings);
    cJSON *held = cJSON_AddArrayToObject(st, "held");
    for (int64_t i = 0; i < d->n_held; i++)
        cJSON_AddItemToArray(held, cJSON_CreateNumber((double)d->held[i]));
    rc = ss_checkpoint_save(&c, a, m, st, err);
    cJSON_Delete(st);
    if (!rc)
        d->generation = c.generation;
    d->since_save = 0;
    d->last_save = ss_now_seconds();
    return rc;
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

/* The items of a command line as saved: a flag with its value ("--len 64":
 * a word starting with "--" and the next word when that does not), or one
 * other word (the command, the model). At most cap; returns the count. */
typedef struct {
    const char *s;
    int len;
} cl_item;

/* A word the run adds for its inputs' contents (ss_dist_add_settings:
 * "weights=...", "prompts=...", "tokenizer=...", "lowrank=...",
 * "heads=...") and for the tool ("version=..."), never a flag's value. */
static int is_input_word(const char *w)
{
    static const char *const kinds[] = {"version=", "weights=", "prompts=", "tokenizer=",
                                        "lowrank=", "heads="};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strncmp(w, kinds[i], strlen(kinds[i])))
            return 1;
    return 0;
}

static int cl_items(const char *s, cl_item *it, int cap)
{
    int n = 0;
    while (n < cap) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        const char *start = s;
        s += strcspn(s, " ");
        if (!strncmp(start, "--", 2)) {
            const char *v = s + strspn(s, " ");
            if (*v && strncmp(v, "--", 2) && !is_input_word(v))
                s = v + strcspn(v, " ");
        }
        it[n++] = (cl_item){start, (int)(s - start)};
    }
    return n;
}

/* The first item of a[] that b[] lacks, or NULL. */
static const cl_item *cl_missing(const cl_item *a, int na, const cl_item *b, int nb)
{
    for (int i = 0; i < na; i++) {
        int found = 0;
        for (int j = 0; j < nb && !found; j++)
            found = a[i].len == b[j].len && !memcmp(a[i].s, b[j].s, (size_t)a[i].len);
        if (!found)
            return &a[i];
    }
    return NULL;
}

/* The item of it[n] that starts with kind ("weights="), or NULL. */
static const cl_item *cl_word(const cl_item *it, int n, const char *kind)
{
    size_t k = strlen(kind);
    for (int i = 0; i < n; i++)
        if ((size_t)it[i].len >= k && !strncmp(it[i].s, kind, k))
            return &it[i];
    return NULL;
}

/* What to do about inputs that differ: the --sdh scan lists other SDHs,
 * the --lowrank plan is another, or a model / prompt / tokenizer path
 * holds other contents. */
static const char *input_advice(const cl_item *w)
{
    if (!strncmp(w->s, "heads=", 6))
        return "the --sdh scan lists other heads now; resume with the scan of that run";
    if (!strncmp(w->s, "lowrank=", 8))
        return "the --lowrank plan folder holds another plan now; resume with the plan of that "
               "run";
    return "the same paths hold other contents now; resume with the model, prompts and "
           "tokenizer of that run";
}

/* A checkpoint made by another command line, naming what differs: the
 * first option (with its value) of the line then that the line now lacks,
 * and the other way round; the whole line then. The caller's prefix names
 * the checkpoint folder. */
static ss_code other_command_line(const char *then, const char *now, ss_error *err)
{
    cl_item a[256], b[256];
    int na = cl_items(then, a, 256), nb = cl_items(now, b, 256);
    /* a slashscope from before the inputs' digests: the words it lacks
     * say nothing about its inputs */
    if (cl_word(b, nb, "weights=") && !cl_word(a, na, "weights="))
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "made by a slashscope that did not record its "
                       "inputs' digests (weights, prompts, tokenizer), so this one cannot tell "
                       "whether they are the same: start afresh with --force");
    /* another version may keep other sums or words: resume with the one
     * that made it */
    const cl_item *vt = cl_word(a, na, "version="), *vn = cl_word(b, nb, "version=");
    if (vn && !vt)
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "made by an earlier slashscope, which did not "
                       "record its version (this is %.*s): start afresh with --force",
                       vn->len - 8, vn->s + 8);
    if (vn && (vt->len != vn->len || memcmp(vt->s, vn->s, (size_t)vn->len)))
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "made by slashscope %.*s, this is %.*s: resume "
                       "it with slashscope %.*s, or start afresh with --force", vt->len - 8,
                       vt->s + 8, vn->len - 8, vn->s + 8, vt->len - 8, vt->s + 8);
    const cl_item *x = cl_missing(a, na, b, nb), *y = cl_missing(b, nb, a, na);
    const cl_item *one = x ? x : y;
    char what[700];
    if (x && y)
        snprintf(what, sizeof what, "\"%.*s\" then, \"%.*s\" now", x->len > 300 ? 300 : x->len,
                 x->s, y->len > 300 ? 300 : y->len, y->s);
    else if (one)
        snprintf(what, sizeof what, "\"%.*s\" %s", one->len > 300 ? 300 : one->len, one->s,
                 x ? "then, not now" : "now, not then");
    else
        snprintf(what, sizeof what, "the same options in another order or repeated");
    if (one && is_input_word(one->s))
        return ss_fail(err, SS_ERR_INCOMPATIBLE, "made from other inputs: %s (%s, or start "
                       "afresh with --force)", what, input_advice(one));
    return ss_fail(err, SS_ERR_INCOMPATIBLE, "made by another command line: %s (then: %.300s); "
                   "resume with the same model, prompts and options", what, then);
}

/* The saved state's records, checked against this run. */
static ss_code take_state(ss_dist *d, const char *dir, const cJSON *st, long long epoch,
                          int rank, int64_t generation, ss_error *err)
{
    char p[CK_PATH + 32];
    snprintf(p, sizeof p, "%s/state.json", dir);
    const cJSON *dist = cJSON_GetObjectItemCaseSensitive(st, "dist");
    const cJSON *held = cJSON_GetObjectItemCaseSensitive(st, "held");
    const char *settings = NULL;
    long long ep = -1, r = -1;
    ss_code rc;
    if (!cJSON_IsObject(dist))
        return ss_fail(err, SS_ERR_USAGE, "%s: the checkpoint of a scan run as one process "
                       "(without mpirun): resume it the same way", p);
    if ((rc = ss_json_int(dist, p, "epoch", 1, 0, LLONG_MAX, &ep, err)) ||
        (rc = ss_json_int(dist, p, "rank", 1, 0, INT_MAX, &r, err)) ||
        (rc = ss_json_str(st, p, "settings", 1, &settings, err)))
        return rc;
    if (r != rank || (epoch >= 0 && ep != epoch))
        return ss_fail(err, SS_ERR_FORMAT, "%s: \"dist\" says rank %lld, epoch %lld; expected "
                       "rank %d%s: mixed runs? start afresh with --force", p, r, ep, rank,
                       epoch >= 0 ? " of the epoch resumed" : "");
    if (strcmp(settings, d->settings) != 0)
        return other_command_line(settings, d->settings, err);
    if (!cJSON_IsArray(held))
        return ss_fail(err, SS_ERR_FORMAT, "%s: \"held\" (the prompts in this state) missing", p);
    const cJSON *e;
    cJSON_ArrayForEach(e, held)
    {
        double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (!(v >= 0 && v < 9e15 && v == floor(v)))
            return ss_fail(err, SS_ERR_FORMAT, "%s: \"held\": expected prompt indices >= 0", p);
        int64_t idx = (int64_t)v;
        if ((rc = add_held(d, &idx, 1, err)))
            return rc;
    }
    if (rank == 0) {
        d->epoch = ep;
        d->generation = generation;
    }
    return SS_OK;
}

typedef struct {
    ss_dist *d;
    const char *dir;
    long long epoch; /* expected, -1: rank 0's, any */
    int rank;
} load_ctx;

/* Before the arrays are loaded: a checkpoint of a plain run, or of another
 * command line, says so (its arrays would only fail to match, naming an
 * array). The state is read unverified here; the load checks its digest
 * and take_state the whole of it. */
static ss_code precheck(const load_ctx *l, ss_error *err)
{
    cJSON *root;
    const cJSON *dist = peek_dist(l->dir, &root);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "state");
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(st, "settings");
    ss_code rc = SS_OK;
    if (root && !dist)
        rc = ss_fail(err, SS_ERR_USAGE, "%s: the checkpoint of a scan run as one process "
                     "(without mpirun): resume it the same way", l->dir);
    else if (cJSON_IsString(set) && strcmp(set->valuestring, l->d->settings) != 0)
        rc = other_command_line(set->valuestring, l->d->settings, err);
    cJSON_Delete(root);
    return rc;
}

/* Fills fresh copies of the analyses from one rank's checkpoint. */
static ss_code fill_from_checkpoint(void *ctx, ss_analysis *const *fresh, int n, ss_error *err)
{
    load_ctx *l = ctx;
    ss_ck_array a[SS_DIST_MAX_FIELDS];
    char names[SS_DIST_MAX_FIELDS][64];
    int raw[SS_DIST_MAX_FIELDS];
    int m = fields_as_arrays(fresh, n, a, names, raw, err);
    if (m < 0)
        return err->code;
    ss_checkpoint c;
    cJSON *st = NULL;
    int found = 0;
    ss_code rc = precheck(l, err);
    if (!rc)
        rc = ss_checkpoint_init_dir(&c, l->dir, err);
    if (!rc)
        rc = ss_checkpoint_load(&c, a, m, &st, &found, err);
    if (!rc && !found)
        rc = ss_fail(err, SS_ERR_MISSING, "%s: no state.json", l->dir);
    if (!rc)
        rc = check_contents(l->dir, a, raw, m, err);
    if (!rc)
        rc = take_state(l->d, l->dir, st, l->epoch, l->rank, c.generation, err);
    cJSON_Delete(st);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Calls fn(work, rank) for every rank<R> folder in OUT.partial/checkpoint. */
static ss_code each_rank_dir(const ss_dist *d, ss_code (*fn)(void *, const char *, int),
                             void *ctx)
{
    char top[CK_PATH];
    rank_dir(d->dir, 0, top, sizeof top);
    DIR *dp = opendir(top);
    if (!dp)
        return SS_OK;
    struct dirent *e;
    ss_code rc = SS_OK;
    while (!rc && (e = readdir(dp))) {
        int r, used = 0;
        if (sscanf(e->d_name, "rank%d%n", &r, &used) == 1 && e->d_name[used] == 0 && r > 0) {
            char dir[CK_PATH + 300];
            snprintf(dir, sizeof dir, "%s/%s", top, e->d_name);
            rc = fn(ctx, dir, r);
        }
    }
    closedir(dp);
    return rc;
}

typedef struct {
    ss_dist *d;
    ss_analysis *const *an;
    int n;
    ss_error *err;
} fold_ctx;

static ss_code fold_rank(void *ctx, const char *dir, int rank)
{
    fold_ctx *f = ctx;
    /* a rank killed before its first save leaves an empty folder: it held no
     * prompt, so there is nothing to fold (its prompts are dealt again) */
    char state[CK_PATH + 320];
    snprintf(state, sizeof state, "%s/state.json", dir);
    if (access(state, F_OK) != 0)
        return SS_OK;
    cJSON *root;
    const cJSON *dist = peek_dist(dir, &root);
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(dist, "epoch");
    /* another epoch: already in rank 0's state (older) or a save that rank 0's commit of
     * this epoch never saw; it is removed below */
    int stale = dist && cJSON_IsNumber(ep) && ep->valuedouble != (double)f->d->epoch;
    cJSON_Delete(root);
    if (stale)
        return SS_OK;
    load_ctx l = {f->d, dir, f->d->epoch, rank};
    return ss_dist_fold_with(f->an, f->n, fill_from_checkpoint, &l, dir, f->err);
}

static ss_code remove_rank(void *ctx, const char *dir, int rank)
{
    (void)ctx;
    (void)rank;
    ss_remove_tree(dir);
    return SS_OK;
}

/* Rank 0's part of the start: load every rank's checkpoint of the epoch
 * rank 0's names, commit the next epoch holding all of it, drop the rest. */
static ss_code start_root(ss_dist *d, ss_analysis *const *an, int n, ss_error *err)
{
    char dir0[CK_PATH];
    rank_dir(d->dir, 0, dir0, sizeof dir0);
    char state0[CK_PATH + 32];
    snprintf(state0, sizeof state0, "%s/state.json", dir0);
    int has = access(state0, F_OK) == 0;
    if (has && !d->resume)
        return ss_fail(err, SS_ERR_USAGE, "%s holds the checkpoint of an unfinished run: add "
                       "--resume to continue it (any number of ranks), or --force to start "
                       "afresh", dir0);
    d->epoch = -1;
    d->generation = 0;
    ss_code rc = SS_OK;
    if (has) {
        load_ctx l = {d, dir0, -1, 0};
        rc = ss_dist_fold_with(an, n, fill_from_checkpoint, &l, dir0, err);
        fold_ctx f = {d, an, n, err};
        if (!rc)
            rc = each_rank_dir(d, fold_rank, &f);
    }
    if (rc)
        return rc;
    if (d->n_held > 1)
        qsort(d->held, (size_t)d->n_held, sizeof *d->held, cmp_i64);
    for (int64_t i = 1; i < d->n_held; i++)
        if (d->held[i] == d->held[i - 1])
            return ss_fail(err, SS_ERR_FORMAT, "%s: prompt %lld is in two ranks' checkpoints "
                           "(mixed runs?): start afresh with --force", dir0,
                           (long long)d->held[i]);
    d->epoch++;
    /* a fresh job of one rank (a plain rank or freq) has nothing to commit
     * yet: its first save is its first prompts, and a run that fails
     * before then leaves no checkpoint to be refused over (as a plain
     * scan). With several ranks, rank 0 commits epoch 0 at once: a resume
     * folds the other ranks' saves only when rank 0's checkpoint is there. */
    if (!has && d->size == 1)
        return SS_OK;
    /* the commit: from here on rank 0's checkpoint holds everything earlier */
    if ((rc = save(d, an, n, err)))
        return rc;
    return each_rank_dir(d, remove_rank, NULL);
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

/* After every prompt: the periodic save, or on a stop asked (SIGTERM here
 * or on another rank) a save of everything finished and the stop. */
ss_code ss_dist_ck_after_prompt(void *ctx, ss_analysis *const *an, int n, ss_error *err)
{
    ss_dist *d = ctx;
    d->in_prompt = 0;
    int stop = ss_dist_stop_asked(d);
    ss_code rc = SS_OK;
    if (d->dir[0] && !(rc = add_held(d, &d->current, 1, err)) &&
        (++d->since_save >= d->every || ss_now_seconds() - d->last_save >= d->every_s || stop))
        rc = save(d, an, n, err);
    return !rc && stop ? ss_dist_stopped(d, err) : rc;
}

ss_code ss_dist_ck_save(ss_dist *d, ss_analysis *const *an, int n, ss_error *err)
{
    return d->dir[0] && d->since_save > 0 ? save(d, an, n, err) : SS_OK;
}
