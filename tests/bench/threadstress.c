/* threadstress.c — many threads allocating from the same sites, for `make bench`.
 *
 * Every thread runs the same code, so all threads allocate from the same few call sites: the
 * case where a profiler's per-site state is shared and its locks or cache lines bounce between
 * cores. Each thread keeps a ring of 64 live blocks (so lifetimes vary and live counts move),
 * allocates from three sites per step (a 48-byte node, a 64..1087-byte buffer, a 4 KiB page
 * every 8th step), and hands every 16th block to the next thread through a one-slot mailbox, so
 * some frees happen on another thread than the allocation. The work per thread is fixed: compare
 * the ratio to native at 1 thread with the ratio at 8 threads.
 *
 * Usage: threadstress [steps-per-thread (default 1000000)] [threads (default 8, at most 64)]
 * Prints a checksum, the same with and without a profiler.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define RING 64
#define MAX_THREADS 64

static _Atomic(void *) mailbox[MAX_THREADS];
static int nthreads;

static NOINLINE void *new_node(uint32_t x)
{
    uint32_t *n = malloc(48);
    n[0] = x;
    return n;
}

static NOINLINE void *new_buffer(uint32_t x)
{
    size_t len = 64 + x % 1024;
    unsigned char *b = malloc(len);
    memset(b, (int)(x & 0xff), 32);
    return b;
}

static NOINLINE void *new_page(uint32_t x)
{
    uint32_t *p = calloc(1, 4096);
    p[0] = x;
    return p;
}

/* Give p to the next thread; free whatever was waiting in our own mailbox. */
static NOINLINE void hand_over(int self, void *p)
{
    void *old = atomic_exchange(&mailbox[(self + 1) % nthreads], p);
    free(old);
}

struct job {
    int self;
    long steps;
    uint64_t sum;
};

static void *run(void *arg)
{
    struct job *job = arg;
    void *ring[RING] = {0};
    uint32_t x = 2463534242u + (uint32_t)job->self;
    for (long i = 0; i < job->steps; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        void *p = (i & 7) == 7 ? new_page(x) : (i & 1) ? new_buffer(x) : new_node(x);
        job->sum += *(unsigned char *)p;
        unsigned k = x % RING;
        if ((i & 15) == 15) {
            hand_over(job->self, ring[k]);
        } else {
            free(ring[k]);
        }
        ring[k] = p;
    }
    for (unsigned k = 0; k < RING; k++)
        free(ring[k]);
    return NULL;
}

int main(int argc, char **argv)
{
    long steps = argc > 1 ? atol(argv[1]) : 1000000;
    nthreads = argc > 2 ? atoi(argv[2]) : 8;
    if (steps < 1 || nthreads < 1 || nthreads > MAX_THREADS) {
        fprintf(stderr, "usage: threadstress [steps-per-thread] [threads 1..%d]\n", MAX_THREADS);
        return 2;
    }
    struct job jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    for (int t = 0; t < nthreads; t++) {
        jobs[t] = (struct job){t, steps, 0};
        if (nthreads == 1)
            run(&jobs[t]);
        else
            pthread_create(&tids[t], NULL, run, &jobs[t]);
    }
    uint64_t total = 0;
    for (int t = 0; t < nthreads; t++) {
        if (nthreads > 1)
            pthread_join(tids[t], NULL);
        total += jobs[t].sum;
    }
    for (int t = 0; t < nthreads; t++)
        free(atomic_exchange(&mailbox[t], NULL));
    printf("threadstress: %ld steps x %d threads, checksum %llu\n", steps, nthreads,
           (unsigned long long)total);
    return 0;
}
