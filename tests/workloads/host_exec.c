/* host_exec.c — images that end without exit(): exec, _exit, _Exit, abort (t_host_exec.sh).
 *
 *   host_exec chain K N        allocates N blocks at chain_alloc, then execs itself as
 *                              `chain K-1 N` while K > 0: K + 1 images of one process, each
 *                              with exactly N allocations
 *   host_exec forkexec N WAIT [M]  forks; the child allocates N blocks at child_alloc (with
 *                              WAIT ms between the two halves) and execs `chain 0 M` (M: 7);
 *                              the parent waits for it and prints its status
 *   host_exec end HOW N        allocates N blocks at end_alloc (kept), then leaves by HOW:
 *                              _exit (status 3), _Exit (status 4) or abort
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

__attribute__((noinline)) void *chain_alloc(void) { return malloc(24); }
__attribute__((noinline)) void *child_alloc(void) { return malloc(40); }
__attribute__((noinline)) void *end_alloc(void) { return malloc(56); }

static void allocate(void *(*site)(void), long n, int keep)
{
    for (long i = 0; i < n; i++) {
        void *p = site();
        escape(p);
        if (!keep)
            free(p);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int chain(int k, long n)
{
    allocate(chain_alloc, n, 0);
    if (k <= 0)
        return 0;
    char ks[16], ns[24];
    snprintf(ks, sizeof ks, "%d", k - 1);
    snprintf(ns, sizeof ns, "%ld", n);
    execl("/proc/self/exe", "host_exec", "chain", ks, ns, (char *)NULL);
    perror("host_exec: exec");
    return 127;
}

static int forkexec(long n, long wait_ms, const char *m)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        allocate(child_alloc, n / 2, 1);
        sleep_ms(wait_ms);
        allocate(child_alloc, n - n / 2, 1);
        execl("/proc/self/exe", "host_exec", "chain", "0", m, (char *)NULL);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return 2;
    printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}

static int end(const char *how, long n)
{
    allocate(end_alloc, n, 1);
    fflush(stdout);
    if (!strcmp(how, "_exit"))
        _exit(3);
    if (!strcmp(how, "_Exit"))
        _Exit(4);
    if (!strcmp(how, "abort"))
        abort();
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "chain"))
        return chain(atoi(argv[2]), atol(argv[3]));
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "forkexec"))
        return forkexec(atol(argv[2]), atol(argv[3]), argc == 5 ? argv[4] : "7");
    if (argc == 4 && !strcmp(argv[1], "end"))
        return end(argv[2], atol(argv[3]));
    fprintf(stderr, "usage: host_exec chain K N | forkexec N WAIT_MS [M] | end HOW N\n");
    return 2;
}
