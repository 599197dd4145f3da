/* robust_output.c — a program that works for a while and then ends in a chosen way.
 *
 * robust_output work MS END [progress]
 *     For MS milliseconds of wall time: malloc(64) at work_alloc and free it, pausing 100 us
 *     every 20 allocations (a steady rate). Then ends by END:
 *       exit   returns 0 from main          _exit   _exit(5) (no exit-time write)
 *       abort  abort()                      segv    writes through a null pointer
 *       hang   never ends (keeps working; the test kills it)
 *     With "progress", prints "second S: allocs N" (flushed) each time S full seconds have
 *     passed, N the work_alloc calls made so far; without it the output is deterministic:
 *     one line before the work and one after.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) void *work_alloc(unsigned long i)
{
    unsigned char *p = malloc(64);
    if (p)
        p[0] = (unsigned char)i;
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[1], "work") != 0) {
        fprintf(stderr, "usage: robust_output work MS exit|_exit|abort|segv|hang [progress]\n");
        return 2;
    }
    double ms = atof(argv[2]);
    const char *end = argv[3];
    int progress = argc > 4 && !strcmp(argv[4], "progress");
    int hang = !strcmp(end, "hang");
    printf("work: %s ms, then %s\n", argv[2], end);
    fflush(stdout);
    double start = now_ms();
    unsigned long n = 0;
    int second = 0;
    for (;;) {
        double t = now_ms() - start;
        if (t >= ms && !hang)
            break;
        if (progress && t >= (second + 1) * 1000.0) {
            second++;
            printf("second %d: allocs %lu\n", second, n);
            fflush(stdout);
        }
        void *p = work_alloc(n++);
        escape(p);
        free(p);
        if (n % 20 == 0)
            usleep(100);
    }
    printf("work: done, ending with %s\n", end);
    fflush(stdout);
    if (!strcmp(end, "_exit"))
        _exit(5);
    if (!strcmp(end, "abort"))
        abort();
    if (!strcmp(end, "segv")) {
        volatile int *null = NULL;
        *null = 1;
    }
    return 0;
}
