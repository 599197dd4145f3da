/* clockcost.c — what reading a clock costs next to a malloc/free pair, for `make bench`.
 *
 * An exact lifetime in nanoseconds needs two clock readings per block: at its allocation and at
 * its free. This measures each clock the shim could read (the TSC, CLOCK_MONOTONIC through the
 * vDSO, CLOCK_MONOTONIC_COARSE) in ns per reading, and a malloc(16)/free pair alone and with two
 * TSC readings beside it, the way the shim takes them (the reading's value stored, as the
 * side table would). The pair loops alternate, ROUNDS times, and the medians are printed: the
 * ratio of the two pair loops is the floor of any profiler that keeps exact lifetimes in ns on
 * this machine, however little else it does.
 *
 * Usage: clockcost [MILLIONS (default 10)]
 * Output: one "name value" line each: rdtsc_ns, monotonic_ns, coarse_ns, pair_ns,
 * pair_with_clock_ns, clock_ratio.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#define ROUNDS 7

static volatile uint64_t sink;
static void *volatile keep; /* so the compiler cannot drop the pair */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t read_tsc(void)
{
#if HAVE_TSC
    return __rdtsc();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_nsec;
#endif
}

static uint64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_nsec;
}

/* ns per iteration of each loop */
static double tsc_loop(long n)
{
    double a = now_s();
    uint64_t s = 0;
    for (long i = 0; i < n; i++)
        s += read_tsc();
    sink = s;
    return (now_s() - a) / (double)n * 1e9;
}

static double clock_loop(long n, clockid_t id)
{
    double a = now_s();
    uint64_t s = 0;
    for (long i = 0; i < n; i++)
        s += read_clock(id);
    sink = s;
    return (now_s() - a) / (double)n * 1e9;
}

static double pair_loop(long n, int with_clock)
{
    uint64_t born[64] = {0}, s = 0;
    double a = now_s();
    for (long i = 0; i < n; i++) {
        void *p = malloc(16);
        keep = p;
        if (with_clock)
            born[i & 63] = read_tsc();
        free(p);
        if (with_clock)
            s += read_tsc() - born[i & 63];
    }
    sink = s;
    return (now_s() - a) / (double)n * 1e9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v)
{
    qsort(v, ROUNDS, sizeof *v, by_value);
    return v[ROUNDS / 2];
}

int main(int argc, char **argv)
{
    long n = (argc > 1 ? atol(argv[1]) : 10) * 1000000L / ROUNDS;
    if (n <= 0) {
        fprintf(stderr, "usage: clockcost [MILLIONS]\n");
        return 2;
    }
    double tsc[ROUNDS], mono[ROUNDS], coarse[ROUNDS], pair[ROUNDS], timed[ROUNDS];
    pair_loop(n / 10, 0); /* warm the heap and the caches */
    for (int r = 0; r < ROUNDS; r++) {
        /* Alternate the order so drift on a shared machine hits both pair loops alike. */
        if (r & 1) {
            timed[r] = pair_loop(n, 1);
            pair[r] = pair_loop(n, 0);
        } else {
            pair[r] = pair_loop(n, 0);
            timed[r] = pair_loop(n, 1);
        }
        tsc[r] = tsc_loop(n);
        mono[r] = clock_loop(n, CLOCK_MONOTONIC);
        coarse[r] = clock_loop(n, CLOCK_MONOTONIC_COARSE);
    }
    double p = median(pair), pt = median(timed);
    printf("rdtsc_ns %.1f\n", median(tsc));
    printf("monotonic_ns %.1f\n", median(mono));
    printf("coarse_ns %.1f\n", median(coarse));
    printf("pair_ns %.1f\n", p);
    printf("pair_with_clock_ns %.1f\n", pt);
    printf("clock_ratio %.2f\n", pt / p);
    return 0;
}
