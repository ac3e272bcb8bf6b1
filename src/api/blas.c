/* The program's start-up BLAS core selection (engine/blas.h) for callers
 * of the library that load it themselves: the Python package runs it in a
 * child process before it loads libslashscope (python/slashscope/_blas.py). */
#include "common/error.h"
#include "engine/blas.h"

int ss_blas_select_core(void)
{
    return ss_blas_select();
}
