/* robust_threads.c — threads under the shim: every allocation function, cross-thread frees,
 * threads that exit holding blocks, and exit() while other threads still allocate.
 *
 * robust_threads mix N
 *     8 threads; each calls N times each of the nine allocation functions, one site per
 *     function (mix_malloc, mix_calloc, mix_realloc = realloc(NULL, n) then grown by
 *     realloc, mix_reallocarray = reallocarray(NULL, ...), mix_posix_memalign,
 *     mix_aligned_alloc, mix_memalign, mix_valloc, mix_pvalloc). After a barrier every thread
 *     frees the blocks of the next thread (all frees cross-thread).
 *     Expected per site: allocs 8N, frees 8N, live_at_exit 0.
 *     Then 8 more threads allocate K = N blocks each at hold_alloc (40 bytes) and exit
 *     without freeing them; main frees the even-numbered half after joining them.
 *     Expected for hold_alloc: allocs 8N, frees 8N/2 (N even), live_at_exit 8N/2.
 *     Prints one deterministic line. With "no-pvalloc" the mix_pvalloc site is left out (for
 *     allocators such as jemalloc that do not define pvalloc: glibc's would then hand out a
 *     block that the other allocator's free cannot take).
 *
 * robust_threads exit-race MS STATUS
 *     4 threads allocate and free in a loop (race_alloc) forever; main sleeps MS milliseconds,
 *     prints a line and calls exit(STATUS) while they are still running.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define THREADS 8
#define KINDS 9
#define MAX_N 10000

static void *must(void *p)
{
    if (!p) {
        fprintf(stderr, "robust_threads: allocation failed: %s\n", strerror(errno));
        abort();
    }
    return p;
}

__attribute__((noinline)) void *mix_malloc(void) { return must(malloc(24)); }
__attribute__((noinline)) void *mix_calloc(void) { return must(calloc(4, 12)); }
__attribute__((noinline)) void *mix_realloc(void)
{
    void *p = must(realloc(NULL, 16));
    return must(realloc(p, 200)); /* grows the block: a realloc, not a new allocation */
}
__attribute__((noinline)) void *mix_reallocarray(void) { return must(reallocarray(NULL, 8, 10)); }
__attribute__((noinline)) void *mix_posix_memalign(void)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, 100) != 0)
        must(NULL);
    return p;
}
__attribute__((noinline)) void *mix_aligned_alloc(void) { return must(aligned_alloc(32, 96)); }
__attribute__((noinline)) void *mix_memalign(void) { return must(memalign(128, 130)); }
__attribute__((noinline)) void *mix_valloc(void) { return must(valloc(300)); }
__attribute__((noinline)) void *mix_pvalloc(void) { return must(pvalloc(5000)); }

static void *(*const kinds[KINDS])(void) = {
    mix_malloc, mix_calloc, mix_realloc, mix_reallocarray, mix_posix_memalign,
    mix_aligned_alloc, mix_memalign, mix_valloc, mix_pvalloc,
};

static unsigned long n;
static unsigned nkinds = KINDS; /* KINDS - 1 without pvalloc (the last kind) */
static void *blocks[THREADS][MAX_N * KINDS]; /* blocks[t][i * KINDS + k] */
static pthread_barrier_t barrier;
static unsigned long sums[THREADS];

static void *mixer(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    void **mine = blocks[t];
    for (unsigned long i = 0; i < n; i++)
        for (unsigned k = 0; k < nkinds; k++) {
            unsigned char *p = kinds[k]();
            p[0] = (unsigned char)(i + k);
            mine[i * nkinds + k] = p;
        }
    pthread_barrier_wait(&barrier);
    /* Free the next thread's blocks: every free is cross-thread. */
    void **theirs = blocks[(t + 1) % THREADS];
    unsigned long sum = 0;
    for (unsigned long i = 0; i < n * nkinds; i++) {
        sum += ((unsigned char *)theirs[i])[0];
        free(theirs[i]);
    }
    sums[t] = sum;
    return NULL;
}

__attribute__((noinline)) void *hold_alloc(unsigned long i)
{
    unsigned char *p = must(malloc(40));
    memset(p, (int)(i & 0xff), 40);
    return p;
}

static void *holders[THREADS][MAX_N];

static void *holder(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    for (unsigned long i = 0; i < n; i++)
        holders[t][i] = hold_alloc(i);
    return NULL; /* exits holding n blocks */
}

static int run_mix(void)
{
    pthread_t th[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (unsigned t = 0; t < THREADS; t++)
        if (pthread_create(&th[t], NULL, mixer, (void *)(uintptr_t)t) != 0)
            must(NULL);
    unsigned long sum = 0;
    for (unsigned t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        sum += sums[t];
    }
    for (unsigned t = 0; t < THREADS; t++)
        if (pthread_create(&th[t], NULL, holder, (void *)(uintptr_t)t) != 0)
            must(NULL);
    for (unsigned t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    /* The owners have exited; free every even-numbered block they left. */
    unsigned long freed = 0;
    for (unsigned t = 0; t < THREADS; t++)
        for (unsigned long i = 0; i < n; i += 2) {
            sum += ((unsigned char *)holders[t][i])[1];
            free(holders[t][i]);
            freed++;
        }
    printf("mix: threads=%d n=%lu per_site=%lu hold=%lu held_freed=%lu sum=%lu\n", THREADS, n,
           THREADS * n, THREADS * n, freed, sum);
    return 0;
}

/* ---- exit-race ---- */

__attribute__((noinline)) void *race_alloc(unsigned long i)
{
    return malloc(16 + (i % 64) * 8);
}

static void *racer(void *arg)
{
    (void)arg;
    void *keep[64] = {0};
    for (unsigned long i = 0;; i++) {
        unsigned slot = (unsigned)(i % 64);
        free(keep[slot]);
        keep[slot] = race_alloc(i);
        escape(keep[slot]);
    }
    return NULL;
}

static int run_exit_race(unsigned long ms, int status)
{
    pthread_t th;
    for (int t = 0; t < 4; t++)
        if (pthread_create(&th, NULL, racer, NULL) != 0)
            must(NULL);
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    printf("exit-race: calling exit(%d) while 4 threads allocate\n", status);
    exit(status);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "mix")) {
        n = strtoul(argv[2], NULL, 10);
        if (n > MAX_N)
            n = MAX_N;
        if (argc > 3 && !strcmp(argv[3], "no-pvalloc"))
            nkinds = KINDS - 1;
        return run_mix();
    }
    if (argc >= 4 && !strcmp(argv[1], "exit-race"))
        return run_exit_race(strtoul(argv[2], NULL, 10), atoi(argv[3]));
    fprintf(stderr, "usage: robust_threads mix N [no-pvalloc] | exit-race MS STATUS\n");
    return 2;
}
