/* The storage layer (src/store) and the weights' fingerprint
 * (model/fingerprint.c): result-folder transactions, the lock, --force,
 * SHA256SUMS, checkpoints that refuse damaged or edited state. */
#include <fcntl.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "harness.h"
#include "io/atomic_file.h"
#include "model/fingerprint.h"
#include "model/model.h"
#include "store/checkpoint.h"
#include "store/folder.h"
#include "store/manifest.h"
#include "store/provenance.h"

static const char *tmpdir(const char *name)
{
    const char *p = ss_test_path("%s/store_%s.%d", ss_test_tmp(), name, (int)getpid());
    ss_test_sh("rm -rf '%s' '%s.partial' '%s.lock'; mkdir -p '%s'", p, p, p, ss_test_tmp());
    return p;
}

static int exists(const char *fmt, const char *a, const char *b)
{
    char p[16384];
    snprintf(p, sizeof p, fmt, a, b);
    struct stat st;
    return lstat(p, &st) == 0;
}

static void put(const char *dir, const char *name, const char *text)
{
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    ss_error e = {0};
    ss_test_sh("mkdir -p \"$(dirname '%s')\"", p);
    CHECK(ss_write_file_atomic(p, text, strlen(text), &e) == SS_OK);
}

/* one finished result holding the given file */
static void make_result(const char *out, const char *file, int force)
{
    ss_folder f;
    ss_error e = {0};
    ss_folder_opts o = {.force = force, .marker = "scan.json"};
    CHECK_MSG(ss_folder_begin(&f, out, &o, &e) == SS_OK, "%s", e.msg);
    char p[8192];
    put(ss_folder_file(&f, NULL, p, sizeof p), file, file);
    put(p, "scan.json", "{}\n");
    CHECK_MSG(ss_folder_commit(&f, &e) == SS_OK, "%s", e.msg);
}

static void test_commit_and_refuse(void)
{
    const char *out = tmpdir("commit");
    char outc[4096];
    snprintf(outc, sizeof outc, "%s", out);
    make_result(outc, "a.npy", 0);
    CHECK(exists("%s/a.npy%s", outc, ""));
    CHECK(exists("%s/SHA256SUMS%s", outc, ""));
    CHECK(!exists("%s.partial%s", outc, ""));
    CHECK(!exists("%s.lock%s", outc, ""));
    int present = 0;
    ss_error e = {0};
    CHECK(ss_manifest_verify(outc, &present, &e) == SS_OK && present);

    /* a second run is refused, naming the folder and --force */
    ss_folder f;
    ss_folder_opts o = {.marker = "scan.json"};
    memset(&e, 0, sizeof e);
    CHECK(ss_folder_begin(&f, outc, &o, &e) == SS_ERR_USAGE);
    CHECK(strstr(e.msg, outc) && strstr(e.msg, "--force"));
    CHECK(!exists("%s.lock%s", outc, ""));

    /* --force replaces it whole: the old run's file is gone */
    make_result(outc, "b.npy", 1);
    CHECK(exists("%s/b.npy%s", outc, ""));
    CHECK(!exists("%s/a.npy%s", outc, ""));
    CHECK(ss_manifest_verify(outc, &present, &e) == SS_OK && present);
    CHECK(ss_test_sh("ls -d '%s'.old.* >/dev/null 2>&1 && exit 1; exit 0", outc) == 0);
}

/* A transaction's files are made durable together at its commit (one
 * syncfs before the rename), not one fsync each; a checkpoint's files,
 * which commit by their own rename, still sync one by one. */
static void test_deferred_sync(void)
{
    const char *out = tmpdir("sync");
    char outc[4096], p[8192];
    snprintf(outc, sizeof outc, "%s/r", out);
    ss_folder f;
    ss_error e = {0};
    ss_folder_opts o = {0};
    CHECK(!ss_atomic_sync_deferred(ss_test_path("%s.partial/a.csv", outc)));
    CHECK_MSG(ss_folder_begin(&f, outc, &o, &e) == SS_OK, "%s", e.msg);
    CHECK(ss_atomic_sync_deferred(ss_test_path("%s/a.csv", f.work)));
    CHECK(ss_atomic_sync_deferred(ss_test_path("%s/inp/L0H0.npy", f.work)));
    CHECK(!ss_atomic_sync_deferred(ss_test_path("%s/checkpoint/state.json", f.work)));
    CHECK(!ss_atomic_sync_deferred(ss_test_path("%s/checkpoint/rank1/x.npy", f.work)));
    CHECK(ss_atomic_sync_deferred(ss_test_path("%s/checkpointy.csv", f.work)));
    CHECK(!ss_atomic_sync_deferred(ss_test_path("%sX/a.csv", f.work)));
    CHECK(!ss_atomic_sync_deferred(ss_test_path("%s/a.csv", outc)));
    CHECK(!ss_atomic_sync_deferred(f.work));
    put(ss_folder_file(&f, NULL, p, sizeof p), "sub/a.csv", "x\n");
    CHECK_MSG(ss_folder_commit(&f, &e) == SS_OK, "%s", e.msg);
    CHECK(exists("%s/sub/a.csv%s", outc, ""));
    CHECK(!ss_atomic_sync_deferred(ss_test_path("%s/b.csv", f.work))); /* ended by the commit */
    o.force = 1;
    CHECK_MSG(ss_folder_begin(&f, outc, &o, &e) == SS_OK, "%s", e.msg);
    CHECK(ss_atomic_sync_deferred(ss_test_path("%s/b.csv", f.work)));
    ss_folder_abort(&f);
    CHECK(!ss_atomic_sync_deferred(ss_test_path("%s/b.csv", f.work))); /* and by an abort */
}

static void test_not_a_result_is_kept(void)
{
    const char *out = tmpdir("foreign");
    char outc[4096];
    snprintf(outc, sizeof outc, "%s", out);
    ss_test_sh("mkdir -p '%s' && echo precious > '%s/notes.txt'", outc, outc);
    ss_folder f;
    ss_error e = {0};
    ss_folder_opts o = {.force = 1, .marker = "scan.json"};
    CHECK(ss_folder_begin(&f, outc, &o, &e) == SS_ERR_USAGE);
    CHECK(strstr(e.msg, "not a slashscope result") != NULL);
    CHECK(exists("%s/notes.txt%s", outc, ""));
    /* the unfinished scan of an earlier version (checkpoint inside DIR) is named as such */
    ss_test_sh("mkdir -p '%s/checkpoint' && echo '{}' > '%s/checkpoint/state.json'", outc, outc);
    memset(&e, 0, sizeof e);
    CHECK(ss_folder_begin(&f, outc, &o, &e) == SS_ERR_USAGE);
    CHECK_MSG(strstr(e.msg, "earlier slashscope") != NULL, "%s", e.msg);
    ss_test_sh("rm -rf '%s/checkpoint'", outc);
    /* an empty folder is fine */
    ss_test_sh("rm -f '%s/notes.txt'", outc);
    memset(&e, 0, sizeof e);
    CHECK_MSG(ss_folder_begin(&f, outc, &o, &e) == SS_OK, "%s", e.msg);
    char p[8192];
    put(ss_folder_file(&f, NULL, p, sizeof p), "x", "1");
    CHECK_MSG(ss_folder_commit(&f, &e) == SS_OK, "%s", e.msg);
    CHECK(exists("%s/x%s", outc, ""));
}

static void test_lock(void)
{
    const char *out = tmpdir("lock");
    char outc[4096];
    snprintf(outc, sizeof outc, "%s", out);
    ss_folder a, b;
    ss_error e = {0};
    ss_folder_opts o = {.marker = "scan.json"};
    CHECK(ss_folder_begin(&a, outc, &o, &e) == SS_OK);
    /* flock is per open file: a second begin in this process conflicts too */
    CHECK(ss_folder_begin(&b, outc, &o, &e) == SS_ERR_USAGE);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    CHECK_MSG(strstr(e.msg, "another run") && strstr(e.msg, pid), "%s", e.msg);
    ss_folder_abort(&a);
    CHECK(!exists("%s.partial%s", outc, ""));
    CHECK(!exists("%s.lock%s", outc, ""));
    /* a lock file left by a killed run (no flock held) does not block */
    ss_test_sh("echo 999999 > '%s.lock'", outc);
    memset(&e, 0, sizeof e);
    CHECK_MSG(ss_folder_begin(&a, outc, &o, &e) == SS_OK, "%s", e.msg);
    ss_folder_abort(&a);
}

static void test_checkpoint_and_resume(void)
{
    const char *out = tmpdir("ck");
    char outc[4096], work[4096];
    snprintf(outc, sizeof outc, "%s", out);
    ss_folder f;
    ss_error e = {0};
    ss_folder_opts o = {.marker = "scan.json"};
    CHECK(ss_folder_begin(&f, outc, &o, &e) == SS_OK);
    ss_folder_file(&f, NULL, work, sizeof work);
    ss_checkpoint c;
    CHECK(ss_checkpoint_init(&c, work, &e) == SS_OK);
    double sum[6] = {1, 2, 3, 4, 5, 6.5};
    int64_t cnt[6] = {2, 2, 2, 2, 0, 0};
    ss_ck_array arr[2] = {{"sum", SS_NPY_F64, 2, {2, 3}, sum},
                          {"count", SS_NPY_I64, 2, {2, 3}, cnt}};
    cJSON *state = cJSON_CreateObject();
    cJSON_AddNumberToObject(state, "prompts", 2);
    CHECK_MSG(ss_checkpoint_save(&c, arr, 2, state, &e) == SS_OK, "%s", e.msg);
    sum[0] = 10;
    CHECK(ss_checkpoint_save(&c, arr, 2, state, &e) == SS_OK);
    CHECK(c.generation == 2);
    CHECK(!exists("%s/checkpoint/sum.1.npy%s", work, ""));
    ss_test_sh("touch '%s/checkpoint/sum.3.npy.tmp.123'", work);
    ss_folder_abort(&f); /* a failure after a checkpoint: kept for --resume */
    CHECK(exists("%s/checkpoint/state.json%s", work, ""));

    /* without --resume: refused; with it: the state comes back */
    CHECK(ss_folder_begin(&f, outc, &o, &e) == SS_ERR_USAGE);
    CHECK(strstr(e.msg, "--resume") != NULL);
    o.resume = 1;
    memset(&e, 0, sizeof e);
    CHECK_MSG(ss_folder_begin(&f, outc, &o, &e) == SS_OK, "%s", e.msg);
    CHECK(f.resumed);
    CHECK(!exists("%s/checkpoint/sum.3.npy.tmp.123%s", work, "")); /* temporaries cleaned */
    double s2[6] = {0};
    int64_t c2[6] = {0};
    ss_ck_array back[2] = {{"sum", SS_NPY_F64, 2, {2, 3}, s2},
                           {"count", SS_NPY_I64, 2, {2, 3}, c2}};
    ss_checkpoint c3;
    ss_checkpoint_init(&c3, work, &e);
    cJSON *st = NULL;
    int found = 0;
    CHECK_MSG(ss_checkpoint_load(&c3, back, 2, &st, &found, &e) == SS_OK && found, "%s", e.msg);
    CHECK(memcmp(s2, sum, sizeof sum) == 0 && memcmp(c2, cnt, sizeof cnt) == 0);
    CHECK(c3.generation == 2);
    CHECK(cJSON_Compare(st, state, 1));
    cJSON_Delete(st);

    /* a hand-edited record is refused */
    ss_test_sh("cp '%s/checkpoint/state.json' '%s/keep' && sed -i 's/\"prompts\":\\s*2/\"prompts\": 3/' "
               "'%s/checkpoint/state.json'", work, work, work);
    memset(&e, 0, sizeof e);
    CHECK(ss_checkpoint_load(&c3, back, 2, &st, &found, &e) == SS_ERR_FORMAT);
    CHECK_MSG(strstr(e.msg, "edited") != NULL, "%s", e.msg);
    /* so is a flipped byte in an array */
    ss_test_sh("mv '%s/keep' '%s/checkpoint/state.json' && printf '\\x7f' | dd of='%s/checkpoint/"
               "count.2.npy' bs=1 seek=130 conv=notrunc 2>/dev/null", work, work, work);
    memset(&e, 0, sizeof e);
    CHECK(ss_checkpoint_load(&c3, back, 2, &st, &found, &e) == SS_ERR_FORMAT);
    CHECK_MSG(strstr(e.msg, "count.2.npy") && strstr(e.msg, "SHA-256"), "%s", e.msg);
    /* committing drops the checkpoint from the result */
    put(work, "scan.json", "{}");
    CHECK(ss_folder_commit(&f, &e) == SS_OK);
    CHECK(!exists("%s/checkpoint%s", outc, ""));
    cJSON_Delete(state);
}

static void test_manifest_catches_changes(void)
{
    const char *out = tmpdir("manifest");
    char outc[4096];
    snprintf(outc, sizeof outc, "%s", out);
    make_result(outc, "maps/L0H1.npy", 0);
    ss_error e = {0};
    int present;
    CHECK(ss_manifest_verify(outc, &present, &e) == SS_OK && present);
    CHECK(ss_test_sh("cd '%s' && sha256sum --quiet -c SHA256SUMS", outc) == 0);
    ss_test_sh("echo stale > '%s/maps/L1H3.npy'", outc);
    CHECK(ss_manifest_verify(outc, &present, &e) == SS_ERR_FORMAT);
    CHECK_MSG(strstr(e.msg, "maps/L1H3.npy") && strstr(e.msg, "not part"), "%s", e.msg);
    ss_test_sh("rm '%s/maps/L1H3.npy' && echo '{ }' > '%s/scan.json'", outc, outc);
    memset(&e, 0, sizeof e);
    CHECK(ss_manifest_verify(outc, &present, &e) == SS_ERR_FORMAT);
    CHECK_MSG(strstr(e.msg, "scan.json") && strstr(e.msg, "SHA-256"), "%s", e.msg);
    ss_test_sh("rm '%s/scan.json'", outc);
    memset(&e, 0, sizeof e);
    CHECK(ss_manifest_verify(outc, &present, &e) == SS_ERR_MISSING);
    ss_test_sh("rm '%s/SHA256SUMS'", outc);
    CHECK(ss_manifest_verify(outc, &present, &e) == SS_OK && !present);
}

static void test_json_difference(void)
{
    cJSON *a = cJSON_Parse("{\"model\":{\"path\":\"/a\",\"weights\":{\"digest\":\"01\"}},\"len\":4}");
    cJSON *b = cJSON_Parse("{\"model\":{\"path\":\"/b\",\"weights\":{\"digest\":\"02\"}},\"len\":4}");
    char buf[256];
    const char *ign[] = {"path", NULL};
    CHECK(ss_json_first_difference(a, b, ign, buf, sizeof buf) == 1);
    CHECK_MSG(strcmp(buf, "model.weights.digest") == 0, "%s", buf);
    CHECK(strcmp(ss_json_at(b, "model.weights.digest")->valuestring, "02") == 0);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "model"), "weights"),
                              "digest", cJSON_CreateString("01"));
    CHECK(ss_json_first_difference(a, b, ign, buf, sizeof buf) == 0);
    CHECK(ss_json_first_difference(a, b, NULL, buf, sizeof buf) == 1);
    cJSON_AddNumberToObject(b, "extra", 1);
    CHECK(ss_json_first_difference(a, b, ign, buf, sizeof buf) == 1 && strcmp(buf, "extra") == 0);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON *env = ss_prov_environment(2);
    CHECK(cJSON_GetObjectItem(env, "blas") && cJSON_GetObjectItem(env, "tool_version"));
    cJSON_Delete(env);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (the closed form of
 * Hinnant's "days_from_civil"): the reference the timestamp is checked by. */
static long days_from_civil(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void test_utc_now_and_digest_path(void)
{
    /* "created": ISO 8601 UTC, to the second, within the two clock readings */
    long t0 = (long)time(NULL);
    char when[32];
    ss_prov_utc_now(when, sizeof when);
    long t1 = (long)time(NULL);
    int y, mo, d, h, mi, s, n = 0;
    CHECK_MSG(strlen(when) == 20 && sscanf(when, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h,
                                           &mi, &s, &n) == 6 && n == 20, "%s", when);
    long at = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    CHECK_MSG(at >= t0 && at <= t1, "%s = %ld, clock %ld..%ld", when, at, t0, t1);
    char small[8] = "x";
    ss_prov_utc_now(small, sizeof small);
    CHECK(small[0] == '\0');
    /* a folder path too long for the digest's buffer is an error, not a cut path */
    char dir[5000];
    memset(dir, 'a', sizeof dir - 1);
    dir[sizeof dir - 1] = '\0';
    ss_error e = {0};
    CHECK(ss_prov_folder_digest(dir, "scan.json", &e) == NULL);
    CHECK_MSG(e.code == SS_ERR_USAGE && strstr(e.msg, "too long"), "%s", e.msg);
}

static void test_fingerprint(void)
{
    /* a tensor spanning three 64 MiB pieces and two small ones */
    size_t big = ((size_t)64 << 20) * 2 + 12345;
    unsigned char *w = malloc(big);
    float small[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (size_t k = 0; k < big; k++)
        w[k] = (unsigned char)(k * 2654435761u >> 13);
    ss_tensor t[3] = {
        {.name = "b.weight", .dtype = SS_DT_F32, .ndim = 1, .shape = {8}, .data = small, .nbytes = 32},
        {.name = "a.weight", .dtype = SS_DT_Q8_0, .ndim = 1, .shape = {(int64_t)big}, .data = w,
         .nbytes = big},
        {.name = "c.bias", .dtype = SS_DT_F32, .ndim = 1, .shape = {2}, .data = small, .nbytes = 8}};
    ss_weights_fingerprint f1, f2, f3;
    ss_error e = {0};
    omp_set_num_threads(1);
    CHECK(ss_tensors_fingerprint(t, 3, &f1, &e) == SS_OK);
    omp_set_num_threads(2);
    CHECK(ss_tensors_fingerprint(t, 3, &f2, &e) == SS_OK);
    CHECK(strcmp(f1.digest, f2.digest) == 0 && strlen(f1.digest) == 32);
    /* pinned: computed by libxxhash's own XXH3 (before fingerprint.c
     * compiled the hash inline, with AVX2); a digest may never change */
    CHECK_MSG(strcmp(f1.digest, "5f337b076db6172285174ee7eeab19de") == 0, "%s", f1.digest);
    CHECK(f1.tensors == 3 && f1.bytes == big + 40);
    /* order of the list (sharding) does not matter */
    ss_tensor r[3] = {t[2], t[0], t[1]};
    CHECK(ss_tensors_fingerprint(r, 3, &f3, &e) == SS_OK && strcmp(f1.digest, f3.digest) == 0);
    /* one byte in the last piece, a renamed tensor, another shape: all differ */
    w[big - 7] ^= 1;
    CHECK(ss_tensors_fingerprint(t, 3, &f3, &e) == SS_OK && strcmp(f1.digest, f3.digest) != 0);
    w[big - 7] ^= 1;
    t[0].shape[0] = 4, t[0].ndim = 2, t[0].shape[1] = 2;
    CHECK(ss_tensors_fingerprint(t, 3, &f3, &e) == SS_OK && strcmp(f1.digest, f3.digest) != 0);
    t[0].ndim = 1, t[0].shape[0] = 8;
    t[2].name = "c.bia";
    CHECK(ss_tensors_fingerprint(t, 3, &f3, &e) == SS_OK && strcmp(f1.digest, f3.digest) != 0);
    free(w);

    /* a real model: stable across opens, different between models */
    ss_model *m;
    CHECK(ss_model_open(ss_test_path("%s/models/stories260K/hf", ss_test_shared()), &m, &e) == SS_OK);
    CHECK(ss_model_fingerprint(m, &f1, &e) == SS_OK && f1.tensors == m->tensors.count);
    ss_model_close(m);
    CHECK(ss_model_open(ss_test_path("%s/models/stories260K/hf", ss_test_shared()), &m, &e) == SS_OK);
    CHECK(ss_model_fingerprint(m, &f2, &e) == SS_OK && strcmp(f1.digest, f2.digest) == 0);
    ss_model_close(m);
    CHECK(ss_model_open(ss_test_path("%s/models/aidreams260K/hf", ss_test_shared()), &m, &e) == SS_OK);
    CHECK(ss_model_fingerprint(m, &f2, &e) == SS_OK && strcmp(f1.digest, f2.digest) != 0);
    ss_model_close(m);
}

TEST_MAIN(TEST(test_commit_and_refuse), TEST(test_deferred_sync), TEST(test_not_a_result_is_kept), TEST(test_lock),
          TEST(test_checkpoint_and_resume), TEST(test_manifest_catches_changes),
          TEST(test_json_difference), TEST(test_utc_now_and_digest_path), TEST(test_fingerprint))
