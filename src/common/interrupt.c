/* The process-wide stop request behind ss_interrupt (include/slashscope.h):
 * one lock-free atomic flag, so a SIGINT handler may set it and any thread
 * running a pass may read it. */
#include <stdatomic.h>

#include "common/error.h"

static atomic_int requested;

void ss_interrupt(void)
{
    atomic_store_explicit(&requested, 1, memory_order_relaxed);
}

int ss_interrupted(void)
{
    return atomic_load_explicit(&requested, memory_order_relaxed);
}

void ss_interrupt_clear(void)
{
    atomic_store_explicit(&requested, 0, memory_order_relaxed);
}
