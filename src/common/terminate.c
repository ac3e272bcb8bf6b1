#include "common/terminate.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t requested;

static void on_term(int sig)
{
    (void)sig;
    requested = 1; /* all a handler may safely do; the loops act on it */
}

void ss_terminate_catch(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* a read or write under way completes */
    sigaction(SIGTERM, &sa, NULL);
}

int ss_terminate_requested(void)
{
    return requested != 0;
}
