/* A minimal test harness: CHECK records a failure and goes on, so one run
 * shows every broken case; test_main prints "N passed, N failed". */
#ifndef SS_TESTS_HARNESS_H
#define SS_TESTS_HARNESS_H

#include <stdio.h>
#include <math.h>

extern int ss_test_failures;
extern int ss_test_checks;

#define CHECK(cond) do { ss_test_checks++; if (!(cond)) { ss_test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_MSG(cond, ...) do { ss_test_checks++; if (!(cond)) { ss_test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); ss_test_checks++; \
    if (!(fabs(a_ - b_) <= (tol))) { ss_test_failures++; \
    fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.10g, %s = %.10g, tol %g\n", \
            __FILE__, __LINE__, #a, a_, #b, b_, (double)(tol)); } } while (0)

typedef struct { const char *name; void (*fn)(void); } ss_test_case;

/* Runs the cases (all, or those named on the command line) and returns the
 * process exit status. */
int ss_test_run(int argc, char **argv, const ss_test_case *cases, int n);

/* Paths: SS_SHARED (../shared), SS_BIN (the CLI), SS_TMP (scratch folder). */
const char *ss_test_shared(void);
const char *ss_test_bin(void);
const char *ss_test_tmp(void);
/* snprintf into a static rotating buffer: "shared path" helper. */
const char *ss_test_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs a shell command, returns its exit status (or -1). */
int ss_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Loads a float32/float64 .npy (returns doubles); *shape gets up to 4 dims. */
double *ss_test_load_npy(const char *path, int *ndim, long shape[4]);
/* Parses a JSON file (cJSON; NULL if unreadable or malformed). */
struct cJSON *ss_test_load_json(const char *path);
/* A copy of SS_SHARED/<dir>/hf under SS_TMP/<tag> whose config.json has the
 * fields of `fields` (a JSON object text) replaced; the weights are linked.
 * Returns the folder (static rotating buffer) or NULL. */
const char *ss_test_edited_hf(const char *dir, const char *tag, const char *fields);

/* An RGB image read back from a PNG (libpng's simplified API); rgb is
 * [h][w][3], free it. Returns 0 (and rgb NULL) when the file is not a
 * readable PNG. */
typedef struct {
    int w, h;
    unsigned char *rgb;
} ss_test_image;
int ss_test_read_png(const char *path, ss_test_image *im);

#define TEST_MAIN(...) int main(int argc, char **argv) { \
    static const ss_test_case cases_[] = { __VA_ARGS__ }; \
    return ss_test_run(argc, argv, cases_, (int)(sizeof cases_ / sizeof cases_[0])); }
#define TEST(fn) { #fn, fn }

#endif
