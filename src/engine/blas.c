#include "engine/blas.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/* OpenBLAS's own queries (declared here too: the reference CBLAS header
 * lacks them). */
char *openblas_get_config(void);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);

/* Carries the decision across re-executions: "PID try TARGET CHOSEN ORIG"
 * while a selected core is on trial, "PID done TEXT" once settled. The pid
 * (kept by exec) makes an inherited value from another process void. */
#define STATE_VAR "SLASHSCOPE_BLAS_STATE"
#define USER_VAR "SLASHSCOPE_BLAS_CORE"
/* For the tests only: make the self-check report a wrong result. */
#define FAIL_VAR "SLASHSCOPE_BLAS_SELFCHECK_FAIL"

#if defined(__x86_64__) || defined(__i386__)
static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

void ss_cpu_features_get(ss_cpu_features *f)
{
    memset(f, 0, sizeof *f);
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return;
    unsigned max_leaf = a;
    f->amd = b == 0x68747541; /* "Auth"enticAMD */
    __get_cpuid(1, &a, &b, &c, &d);
    int osxsave = (c >> 27) & 1;
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    int ymm = (xcr0 & 0x6) == 0x6, zmm = ymm && (xcr0 & 0xE0) == 0xE0;
    f->avx = ymm && ((c >> 28) & 1);
    f->fma = f->avx && ((c >> 12) & 1);
    if (max_leaf >= 7) {
        __get_cpuid_count(7, 0, &a, &b, &c, &d);
        f->avx2 = f->avx && ((b >> 5) & 1);
        unsigned need = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
        f->avx512 = zmm && f->avx2 && (b & need) == need;
    }
#endif
}

const char *ss_blas_best_core(const ss_cpu_features *f)
{
    if (f->avx512)
        return "SkylakeX";
    if (f->avx2 && f->fma)
        return f->amd ? "Zen" : "Haswell";
    if (f->avx)
        return "Sandybridge";
    return NULL;
}

int ss_blas_core_level(const char *core)
{
    static const struct { const char *name; int level; } cores[] = {
        {"Prescott", 0}, {"Core2", 0}, {"Penryn", 0}, {"Dunnington", 0}, {"Nehalem", 0},
        {"Atom", 0}, {"Opteron", 0}, {"Opteron_SSE3", 0}, {"Barcelona", 0}, {"Bobcat", 0},
        {"Nano", 0}, {"Katmai", 0}, {"Coppermine", 0}, {"Northwood", 0}, {"Banias", 0},
        {"Athlon", 0}, {"Sandybridge", 1}, {"Bulldozer", 1}, {"Piledriver", 1},
        {"Steamroller", 1}, {"Excavator", 1}, {"Haswell", 2}, {"Zen", 2}, {"SkylakeX", 3},
        {"CooperLake", 3}, {"SapphireRapids", 3},
    };
    for (size_t i = 0; core && i < sizeof cores / sizeof cores[0]; i++)
        if (strcasecmp(core, cores[i].name) == 0)
            return cores[i].level;
    return -1;
}

/* ---- self-check ---- */

/* Largest |C - reference| / (|reference| + 1) over one SGEMM of the given
 * shape and transposes, C = alpha op(A) op(B) + beta C (row-major). */
static double sgemm_error(int m, int n, int k, int ta, int tb, float alpha, float beta)
{
    float *A = malloc(sizeof(float) * m * k), *B = malloc(sizeof(float) * k * n);
    float *C = malloc(sizeof(float) * m * n);
    double *R = malloc(sizeof(double) * m * n), worst = INFINITY;
    if (A && B && C && R) {
        for (int i = 0; i < m * k; i++)
            A[i] = (float)((i * 37 + 11) % 23) / 11.0f - 1.0f;
        for (int i = 0; i < k * n; i++)
            B[i] = (float)((i * 53 + 7) % 19) / 9.0f - 1.0f;
        for (int i = 0; i < m * n; i++)
            C[i] = (float)(i % 5) - 2.0f;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int x = 0; x < k; x++)
                    s += (double)(ta ? A[x * m + i] : A[i * k + x]) * (tb ? B[j * k + x] : B[x * n + j]);
                R[i * n + j] = alpha * s + beta * (double)C[i * n + j];
            }
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    m, n, k, alpha, A, ta ? m : k, B, tb ? k : n, beta, C, n);
        worst = 0;
        for (int i = 0; i < m * n; i++) {
            double e = fabs(C[i] - R[i]) / (fabs(R[i]) + 1.0);
            worst = isnan(e) || e > worst ? (isnan(e) ? INFINITY : e) : worst;
        }
    }
    free(A); free(B); free(C); free(R);
    return worst;
}

/* Shapes that reach the kernels' edge cases: odd sizes, both transposes,
 * the projections' depth, a tall-skinny product. */
static int run_checks(void)
{
    static const struct { int m, n, k, ta, tb; float alpha, beta; } cases[] = {
        {37, 29, 67, 0, 0, 1.0f, 0.0f}, {24, 40, 576, 0, 1, 0.5f, 0.0f},
        {5, 100, 3, 1, 0, 1.0f, 1.0f},  {130, 17, 64, 1, 1, -2.0f, 0.25f},
        {1, 257, 33, 0, 1, 1.0f, 0.0f},
    };
    double worst = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double e = sgemm_error(cases[i].m, cases[i].n, cases[i].k, cases[i].ta, cases[i].tb,
                               cases[i].alpha, cases[i].beta);
        worst = e > worst ? e : worst;
    }
    if (getenv(FAIL_VAR))
        worst = 1.0;
    /* fp32 sums of at most 576 terms of size ~1: 1e-4 is ~100x the rounding */
    return worst < 1e-4 ? 0 : 1;
}

int ss_blas_self_check(char *why, size_t len)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, len, "could not start the self-check (fork failed)");
        return 0;
    }
    if (pid == 0)
        _exit(run_checks());
    int status;
    if (waitpid(pid, &status, 0) < 0) {
        snprintf(why, len, "could not wait for the self-check");
        return 0;
    }
    if (WIFSIGNALED(status)) {
        snprintf(why, len, "the self-check died of signal %d (%s): the CPU lacks an instruction "
                 "these kernels use", WTERMSIG(status), strsignal(WTERMSIG(status)));
        return 0;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, len, "the self-check's SGEMMs disagree with a plain loop by more than 1e-4");
        return 0;
    }
    return 1;
}

/* ---- start-up selection ---- */

static void set_state(const char *phase, const char *text)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%ld %s %.400s", (long)getpid(), phase, text);
    setenv(STATE_VAR, buf, 1);
}

/* This process's state: phase into phase, the rest into rest; 0 if none. */
static int get_state(char *phase, size_t plen, char *rest, size_t rlen)
{
    const char *s = getenv(STATE_VAR);
    char *end;
    if (!s || strtol(s, &end, 10) != (long)getpid() || *end != ' ')
        return 0;
    const char *p = end + 1, *sp = strchr(p, ' ');
    if (!sp)
        return 0;
    snprintf(phase, plen, "%.*s", (int)(sp - p), p);
    snprintf(rest, rlen, "%s", sp + 1);
    return 1;
}

/* A core on trial: keep it if OpenBLAS took it and it passes the check,
 * else restore the environment OpenBLAS chose under and run again. */
static int finish_trial(const char *rest)
{
    char target[64], chosen[64], orig[128], why[200], text[400];
    if (sscanf(rest, "%63s %63s %127s", target, chosen, orig) != 3)
        return 0;
    const char *now = openblas_get_corename();
    int took = now && strcasecmp(now, target) == 0;
    if (took && ss_blas_self_check(why, sizeof why)) {
        snprintf(text, sizeof text, "selected %s (OpenBLAS chose %s; the CPU supports %s); "
                 "self-check passed", target, chosen, target);
        set_state("done", text);
        return 0;
    }
    if (!took)
        snprintf(why, sizeof why, "this OpenBLAS build does not provide it (it runs %s)",
                 now ? now : "?");
    snprintf(text, sizeof text, "kept OpenBLAS's choice %s: %s rejected, %s", chosen, target, why);
    fprintf(stderr, "slashscope: note: BLAS core %s not used: %s\n", target, why);
    if (strcmp(orig, "-") == 0)
        unsetenv("OPENBLAS_CORETYPE");
    else
        setenv("OPENBLAS_CORETYPE", orig, 1);
    set_state("done", text);
    return 1;
}

int ss_blas_select(void)
{
    char phase[16], rest[400], text[400];
    if (get_state(phase, sizeof phase, rest, sizeof rest))
        return strcmp(phase, "try") == 0 ? finish_trial(rest) : 0;
    const char *user = getenv(USER_VAR), *chosen = openblas_get_corename();
    if (!chosen)
        chosen = "unknown";
    if (user && strcasecmp(user, "openblas") == 0) {
        snprintf(text, sizeof text, "OpenBLAS's own choice (%s=openblas)", USER_VAR);
        set_state("done", text);
        return 0;
    }
    const char *target = NULL;
    if (user && *user && strcasecmp(user, "auto") != 0) {
        target = user;
    } else {
        ss_cpu_features f;
        ss_cpu_features_get(&f);
        const char *best = ss_blas_best_core(&f);
        int have = ss_blas_core_level(chosen);
        if (best && have >= 0 && have < ss_blas_core_level(best))
            target = best;
    }
    if (!target || strcasecmp(target, chosen) == 0) {
        if (target)
            snprintf(text, sizeof text, "%s, as %s asks (OpenBLAS's own choice too)", chosen,
                     USER_VAR);
        else
            snprintf(text, sizeof text, "OpenBLAS's own choice, %s, suits this CPU", chosen);
        set_state("done", text);
        return 0;
    }
    const char *orig = getenv("OPENBLAS_CORETYPE");
    snprintf(text, sizeof text, "%s %s %s", target, chosen, orig && *orig && !strchr(orig, ' ') ? orig : "-");
    set_state("try", text);
    setenv("OPENBLAS_CORETYPE", target, 1);
    return 1;
}

/* ---- provenance ---- */

void ss_blas_info_get(ss_blas_info *out)
{
    memset(out, 0, sizeof *out);
    const char *cfg = openblas_get_config(), *core = openblas_get_corename();
    snprintf(out->library, sizeof out->library, "OpenBLAS");
    snprintf(out->config, sizeof out->config, "%s", cfg ? cfg : "");
    /* "OpenBLAS 0.3.21 DYNAMIC_ARCH ...": the second word */
    if (cfg && sscanf(cfg, "OpenBLAS %31s", out->version) != 1)
        out->version[0] = '\0';
    snprintf(out->core, sizeof out->core, "%s", core ? core : "unknown");
    out->threads = omp_in_parallel() ? 1 : openblas_get_num_threads();
    ss_cpu_features f;
    ss_cpu_features_get(&f);
    snprintf(out->cpu, sizeof out->cpu, "%s%s%s%s%s", f.amd ? "AMD" : "x86-64",
             f.avx ? " avx" : "", f.fma ? " fma" : "", f.avx2 ? " avx2" : "",
             f.avx512 ? " avx512" : "");
    char phase[16], rest[400];
    if (get_state(phase, sizeof phase, rest, sizeof rest) && strcmp(phase, "done") == 0)
        snprintf(out->selection, sizeof out->selection, "%.*s", (int)sizeof out->selection - 1,
                 rest);
    else
        snprintf(out->selection, sizeof out->selection,
                 "OpenBLAS's own choice (no selection in this program)");
}

cJSON *ss_blas_info_json(void)
{
    ss_blas_info b;
    ss_blas_info_get(&b);
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "library", b.library);
    cJSON_AddStringToObject(j, "version", b.version);
    cJSON_AddStringToObject(j, "config", b.config);
    cJSON_AddStringToObject(j, "core", b.core);
    cJSON_AddNumberToObject(j, "threads", b.threads);
    cJSON_AddStringToObject(j, "cpu", b.cpu);
    cJSON_AddStringToObject(j, "selection", b.selection);
    return j;
}
