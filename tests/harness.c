#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <png.h>
#include <cjson/cJSON.h>

#include "io/npy.h"

int ss_test_failures;
int ss_test_checks;

int ss_test_run(int argc, char **argv, const ss_test_case *cases, int n)
{
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], cases[i].name) == 0)
                wanted = 1;
        if (!wanted)
            continue;
        int before = ss_test_failures;
        cases[i].fn();
        if (ss_test_failures == before) {
            passed++;
            fprintf(stderr, "ok   %s\n", cases[i].name);
        } else {
            failed++;
            fprintf(stderr, "FAIL %s\n", cases[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

const char *ss_test_shared(void) { return env_or("SS_SHARED", "../shared"); }
const char *ss_test_bin(void) { return env_or("SS_BIN", "./slashscope"); }

const char *ss_test_tmp(void)
{
    static char made[4096];
    if (!made[0]) {
        snprintf(made, sizeof made, "%s", env_or("SS_TMP", "/tmp/slashscope-test"));
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", made);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot create %s\n", made);
    }
    return made;
}

const char *ss_test_path(const char *fmt, ...)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, 4096, fmt, ap);
    va_end(ap);
    return b;
}

int ss_test_sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc == -1)
        return -1;
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

double *ss_test_load_npy(const char *path, int *ndim, long shape[4])
{
    ss_error err = {0};
    ss_npy a;
    if (ss_npy_read(path, &a, &err) != SS_OK) {
        fprintf(stderr, "load %s: %s\n", path, err.msg);
        return NULL;
    }
    *ndim = a.ndim;
    for (int i = 0; i < 4; i++)
        shape[i] = i < a.ndim ? (long)a.shape[i] : 0;
    double *d = ss_npy_as_f64(&a, &err);
    ss_npy_free(&a);
    return d;
}

int ss_test_read_png(const char *path, ss_test_image *im)
{
    memset(im, 0, sizeof *im);
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&pi, path))
        return 0;
    pi.format = PNG_FORMAT_RGB;
    im->rgb = malloc(PNG_IMAGE_SIZE(pi));
    if (!im->rgb || !png_image_finish_read(&pi, NULL, im->rgb, 0, NULL)) {
        png_image_free(&pi);
        free(im->rgb);
        im->rgb = NULL;
        return 0;
    }
    im->w = (int)pi.width;
    im->h = (int)pi.height;
    return 1;
}

cJSON *ss_test_load_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return cJSON_Parse(buf);
}

const char *ss_test_edited_hf(const char *dir, const char *tag, const char *fields)
{
    const char *out = ss_test_path("%s/%s", ss_test_tmp(), tag);
    const char *src = ss_test_path("%s/%s/hf", ss_test_shared(), dir);
    if (ss_test_sh("rm -rf '%s' && mkdir -p '%s' && ln -s '%s'/model*.safetensors* '%s/'", out, out,
                   src, out) != 0)
        return NULL;
    cJSON *cfg = ss_test_load_json(ss_test_path("%s/config.json", src)), *edit = cJSON_Parse(fields);
    if (!cfg || !edit) {
        cJSON_Delete(cfg);
        cJSON_Delete(edit);
        return NULL;
    }
    cJSON *e;
    cJSON_ArrayForEach(e, edit) {
        cJSON_DeleteItemFromObject(cfg, e->string);
        cJSON_AddItemToObject(cfg, e->string, cJSON_Duplicate(e, 1));
    }
    char *text = cJSON_Print(cfg);
    FILE *f = fopen(ss_test_path("%s/config.json", out), "w");
    int ok = f && text && fputs(text, f) >= 0;
    if (f)
        ok &= fclose(f) == 0;
    free(text);
    cJSON_Delete(cfg);
    cJSON_Delete(edit);
    return ok ? out : NULL;
}
