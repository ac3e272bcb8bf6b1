/* Version, memory and error helpers of the public API. */
#include <stdlib.h>

#include "common/error.h"

const char *ss_version(void)
{
    return SS_VERSION;
}

void ss_free(void *p)
{
    free(p);
}
