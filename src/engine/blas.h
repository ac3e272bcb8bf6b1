/* Which BLAS kernels run, chosen on purpose and recorded.
 *
 * OpenBLAS (DYNAMIC_ARCH builds, as Debian's) picks its kernels when it
 * loads; on a CPU it does not know it silently falls back to old ones (an
 * AVX-512 Xeon running "Prescott" SSE3 kernels, 3x slower). The CLI asks
 * ss_blas_select at start-up whether the process should run again with
 * OPENBLAS_CORETYPE naming the best core the CPU supports (cpuid); a core
 * chosen that way must pass a self-check (a few small SGEMMs against a
 * plain loop, in a child process so an illegal instruction cannot kill the
 * run) or OpenBLAS's own choice is restored. SLASHSCOPE_BLAS_CORE overrides:
 * "auto" (default), "openblas" (keep OpenBLAS's choice, no check) or a core
 * name (use it if it passes the self-check). docs/benchmarks.md. */
#ifndef SS_ENGINE_BLAS_H
#define SS_ENGINE_BLAS_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Instruction sets the CPU and the OS both support. */
typedef struct {
    int avx, fma, avx2, avx512; /* avx512: F, CD, BW, DQ, VL and the OS saves zmm state */
    int amd;
} ss_cpu_features;

void ss_cpu_features_get(ss_cpu_features *f);

/* The best OpenBLAS x86-64 core for these features, or NULL when none
 * beats the generic ones (or on another architecture). */
const char *ss_blas_best_core(const ss_cpu_features *f);

/* The instruction-set level of an OpenBLAS core name: 0 SSE, 1 AVX, 2 AVX2,
 * 3 AVX-512; -1 for a name not known here. Case-insensitive. */
int ss_blas_core_level(const char *core);

/* Runs a few small SGEMMs of odd shapes (both transposes, alpha and beta)
 * in a child process and compares them with a plain double loop. Returns 1
 * when they agree; else 0 with the reason in why. */
int ss_blas_self_check(char *why, size_t len);

/* Start-up decision of a program that can re-execute itself (argv intact,
 * before any thread starts). Returns 1 when it has set the environment for
 * a new run and the caller must exec itself again; 0 to run on. May print
 * one note on stderr when a selected core failed its check. */
int ss_blas_select(void);

/* Provenance of the BLAS in use: library, version, build configuration,
 * core, thread count, CPU features and how the core was chosen. */
typedef struct {
    char library[32], version[32], config[160], core[32], cpu[64], selection[400];
    int threads;
} ss_blas_info;

void ss_blas_info_get(ss_blas_info *out);

/* The same as a JSON object (for info --json and every result's metadata). */
cJSON *ss_blas_info_json(void);

#endif
