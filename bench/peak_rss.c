/* Runs a command and prints its wall time, peak resident memory and CPU
 * time (user + system, all threads) as one JSON line on stderr:
 * {"seconds": S, "peak_rss_mib": M, "cpu_seconds": C}. On a busy machine the
 * CPU time is the steadier measure of work done. Usage: peak_rss CMD... */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: peak_rss CMD [ARGS...]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror(argv[1]);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("wait4");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    double cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
                 (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    fprintf(stderr, "{\"seconds\": %.3f, \"peak_rss_mib\": %.1f, \"cpu_seconds\": %.3f}\n", s,
            ru.ru_maxrss / 1024.0, cpu);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
