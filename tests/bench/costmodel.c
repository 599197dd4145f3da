/* costmodel.c — what a pool saves over malloc+free, by size, on this machine.
 *
 * The "big enough" row of poolprobe's checklist rests on these figures (see README, "The
 * checklist"). For each size we time, per object:
 *   malloc   — malloc(size), write one byte per 4 KiB page (a real user touches its buffer),
 *              free; 16 objects in flight so the allocator is not only replaying one block;
 *   pool     — the same with a free list behind a mutex (what a C program would share between
 *              threads), pre-filled so every get hits;
 *   pool-tls — the same with a thread-local free list (no lock: the cheapest pool there is).
 * Sizes straddle glibc's tcache limit (1032 B), its fastbins and its mmap threshold (128 KiB,
 * raised dynamically after the first free of a mapped chunk).
 *
 * Usage: costmodel [iterations-scale]   (prints a table; a figure is ns per get+put)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define IN_FLIGHT 16

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void touch(volatile char *p, size_t size)
{
    for (size_t off = 0; off < size; off += 4096)
        p[off] = (char)off;
    p[size - 1] = 1;
}

struct pool {
    pthread_mutex_t lock;
    void *items[IN_FLIGHT];
    int n;
};

static void *pool_get(struct pool *pl, size_t size)
{
    pthread_mutex_lock(&pl->lock);
    void *p = pl->n ? pl->items[--pl->n] : NULL;
    pthread_mutex_unlock(&pl->lock);
    return p ? p : malloc(size);
}

static void pool_put(struct pool *pl, void *p)
{
    pthread_mutex_lock(&pl->lock);
    if (pl->n < IN_FLIGHT) {
        pl->items[pl->n++] = p;
        p = NULL;
    }
    pthread_mutex_unlock(&pl->lock);
    free(p);
}

static __thread void *tls_items[IN_FLIGHT];
static __thread int tls_n;

static double run_malloc(size_t size, long iters)
{
    void *live[IN_FLIGHT];
    double t0 = now_ns();
    for (long i = 0; i < iters; i += IN_FLIGHT) {
        for (int k = 0; k < IN_FLIGHT; k++) {
            live[k] = malloc(size);
            touch(live[k], size);
        }
        for (int k = 0; k < IN_FLIGHT; k++)
            free(live[k]);
    }
    return (now_ns() - t0) / iters;
}

static double run_pool(size_t size, long iters)
{
    static struct pool pl = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};
    void *live[IN_FLIGHT];
    for (int k = 0; k < IN_FLIGHT; k++)
        pool_put(&pl, malloc(size));
    double t0 = now_ns();
    for (long i = 0; i < iters; i += IN_FLIGHT) {
        for (int k = 0; k < IN_FLIGHT; k++) {
            live[k] = pool_get(&pl, size);
            touch(live[k], size);
        }
        for (int k = 0; k < IN_FLIGHT; k++)
            pool_put(&pl, live[k]);
    }
    double t = (now_ns() - t0) / iters;
    while (pl.n)
        free(pl.items[--pl.n]);
    return t;
}

static double run_pool_tls(size_t size, long iters)
{
    void *live[IN_FLIGHT];
    for (int k = 0; k < IN_FLIGHT; k++)
        tls_items[tls_n++] = malloc(size);
    double t0 = now_ns();
    for (long i = 0; i < iters; i += IN_FLIGHT) {
        for (int k = 0; k < IN_FLIGHT; k++) {
            live[k] = tls_n ? tls_items[--tls_n] : malloc(size);
            touch(live[k], size);
        }
        for (int k = 0; k < IN_FLIGHT; k++)
            tls_items[tls_n++] = live[k];
    }
    double t = (now_ns() - t0) / iters;
    while (tls_n)
        free(tls_items[--tls_n]);
    return t;
}

static double median3(double (*fn)(size_t, long), size_t size, long iters)
{
    double a = fn(size, iters), b = fn(size, iters), c = fn(size, iters);
    if (a > b) { double t = a; a = b; b = t; }
    if (b > c) { double t = b; b = c; c = t; }
    if (a > b) { double t = a; a = b; b = t; }
    return b;
}

int main(int argc, char **argv)
{
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    static const size_t sizes[] = {16, 64, 256, 1024, 2048, 4096, 16384, 65536,
                                   131072, 262144, 1048576};
    printf("%10s %12s %12s %12s %10s\n", "size", "malloc ns", "pool ns", "pool-tls ns",
           "malloc/pool");
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t size = sizes[i];
        long iters = (long)(scale * (size <= 4096 ? 4000000 : size <= 65536 ? 400000 : 40000));
        iters -= iters % IN_FLIGHT;
        if (iters < IN_FLIGHT)
            iters = IN_FLIGHT;
        double m = median3(run_malloc, size, iters);
        double p = median3(run_pool, size, iters);
        double t = median3(run_pool_tls, size, iters);
        printf("%10zu %12.1f %12.1f %12.1f %9.2fx\n", size, m, p, t, m / p);
    }
    return 0;
}
