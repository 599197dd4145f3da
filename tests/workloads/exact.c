/* exact.c — allocation patterns whose every recorded figure can be derived by hand.
 *
 * tests/t_exact.sh runs this under the shim and checks each figure the shim writes against the
 * numbers below; the derivations are in that test, next to each check. Nothing here uses stdio
 * or anything else that allocates behind our back (results are written with write(2)), so the
 * process totals are exactly the sum of the sites.
 *
 * exact single       one thread, in this order (every site is a noinline function of that name):
 *   leak_site        3 x malloc(1000), never freed
 *   leak_grown       malloc(10), realloc to 50, never freed
 *   seq_pair         100 x { malloc(100); free } (render_buf's shape)
 *   batch_site       5 rounds of { 10 x malloc(64), then the 10 freed, first allocated first }
 *   six_sizes        100 blocks of 6 sizes: 100 x10, 200 x20, 300 x30, 400 x20, 500 x15,
 *                    600 x5, each freed at once
 *   nine_sizes       90 blocks: 100, 200, ... 900, 10 of each, each freed at once
 *   eight_sizes      40 blocks: 100, 200, ... 800, 5 of each, each freed at once
 *   timed_block      3 x { malloc(256); spin TIMED_NS on CLOCK_MONOTONIC; free }
 *   grow_chain       4 x { malloc(16); realloc to 32, 64, 128, then 100; free }
 *   peak_site        3 x malloc(10000) live together, then all freed
 *   many_freers      15 x malloc(24), each freed at once by one of free_a .. free_e, in the
 *                    order a b c d e, a b c d, a b c, a b, a (5, 4, 3, 2, 1 frees)
 *   and prints "pid PID", then "timed INNER_MIN OUTER_MAX INNER_SUM OUTER_SUM": ns measured around
 *   each timed block, inner from malloc's return to the free call (the shim's lifetime
 *   contains it), outer from before malloc to after free (it contains the shim's lifetime).
 * exact threads      a second thread (started first, waiting on a pipe) frees the 5 blocks of
 *   handoff          5 x malloc(48) made by the main thread after the start (cross-thread frees)
 *   and itself makes thread_pair: 10 x { malloc(32); free }. Then the main thread calls
 *   inline_host, whose malloc(8) (freed at once) is in inlined_alloc, inlined into it, and
 *   final_sizes: 100 x { malloc(8); realloc to 100 (the first 95), 200 (the next 4) or 300
 *   (the last); free }, and two_frees: 4 x malloc(16), two freed by one free() call and two by
 *   another in the same function.
 * exact sample N     N x { malloc(200); free } at sampled_pair, for a run with POOLPROBE_SAMPLE.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define TIMED_NS 2000000ull

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *must(void *p)
{
    if (!p)
        abort();
    escape(p);
    return p;
}

/* "name v1 v2 ...\n" on stdout with write(2): stdio would allocate its buffer. */
static void say(const char *name, const uint64_t *v, int n)
{
    char line[256];
    size_t len = strlen(name);
    memcpy(line, name, len);
    for (int i = 0; i < n; i++) {
        char digits[24];
        int d = 0;
        uint64_t x = v[i];
        do
            digits[d++] = (char)('0' + x % 10);
        while ((x /= 10) != 0);
        line[len++] = ' ';
        while (d)
            line[len++] = digits[--d];
    }
    line[len++] = '\n';
    if (write(1, line, len) != (ssize_t)len)
        abort();
}

__attribute__((noinline)) static void leak_site(void)
{
    for (int i = 0; i < 3; i++)
        must(malloc(1000));
}

__attribute__((noinline)) static void leak_grown(void)
{
    must(realloc(must(malloc(10)), 50));
}

__attribute__((noinline)) static void seq_pair(void)
{
    for (int i = 0; i < 100; i++)
        free(must(malloc(100)));
}

__attribute__((noinline)) static void batch_site(void)
{
    void *held[10];
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 10; i++)
            held[i] = must(malloc(64));
        for (int i = 0; i < 10; i++)
            free(held[i]);
    }
}

/* Sizes in a fixed interleaved order, so no size is all at the start. */
__attribute__((noinline)) static void six_sizes(void)
{
    static const unsigned size[6] = {100, 200, 300, 400, 500, 600};
    unsigned left[6] = {10, 20, 30, 20, 15, 5};
    for (int made = 0; made < 100;)
        for (int k = 0; k < 6; k++)
            if (left[k]) {
                left[k]--;
                made++;
                free(must(malloc(size[k])));
            }
}

__attribute__((noinline)) static void nine_sizes(void)
{
    for (int round = 0; round < 10; round++)
        for (unsigned s = 100; s <= 900; s += 100)
            free(must(malloc(s)));
}

__attribute__((noinline)) static void eight_sizes(void)
{
    for (int round = 0; round < 5; round++)
        for (unsigned s = 100; s <= 800; s += 100)
            free(must(malloc(s)));
}

__attribute__((noinline)) static void timed_block(uint64_t out[4])
{
    uint64_t inner_min = UINT64_MAX, outer_max = 0, inner_sum = 0, outer_sum = 0;
    for (int i = 0; i < 3; i++) {
        uint64_t t0 = now_ns();
        void *p = must(malloc(256));
        uint64_t t1 = now_ns();
        while (now_ns() - t1 < TIMED_NS)
            ;
        uint64_t t2 = now_ns();
        free(p);
        uint64_t t3 = now_ns();
        uint64_t inner = t2 - t1, outer = t3 - t0;
        inner_min = inner < inner_min ? inner : inner_min;
        outer_max = outer > outer_max ? outer : outer_max;
        inner_sum += inner;
        outer_sum += outer;
    }
    out[0] = inner_min;
    out[1] = outer_max;
    out[2] = inner_sum;
    out[3] = outer_sum;
}

__attribute__((noinline)) static void grow_chain(void)
{
    static const size_t steps[4] = {32, 64, 128, 100};
    for (int i = 0; i < 4; i++) {
        void *p = must(malloc(16));
        for (int k = 0; k < 4; k++)
            p = must(realloc(p, steps[k]));
        free(p);
    }
}

__attribute__((noinline)) static void peak_site(void)
{
    void *held[3];
    for (int i = 0; i < 3; i++)
        held[i] = must(malloc(10000));
    for (int i = 0; i < 3; i++)
        free(held[i]);
}

__attribute__((noinline)) static void free_a(void *p) { free(p); }
__attribute__((noinline)) static void free_b(void *p) { free(p); }
__attribute__((noinline)) static void free_c(void *p) { free(p); }
__attribute__((noinline)) static void free_d(void *p) { free(p); }
__attribute__((noinline)) static void free_e(void *p) { free(p); }

__attribute__((noinline)) static void many_freers(void)
{
    void (*const freer[5])(void *) = {free_a, free_b, free_c, free_d, free_e};
    for (int last = 4; last >= 0; last--)
        for (int k = 0; k <= last; k++)
            freer[k](must(malloc(24)));
}

/* --- threads ------------------------------------------------------------------------------ */

static int go[2];
static void *handed[5];

__attribute__((noinline)) static void thread_pair(void)
{
    for (int i = 0; i < 10; i++)
        free(must(malloc(32)));
}

__attribute__((noinline)) static void *handoff_free(void *arg)
{
    (void)arg;
    thread_pair();
    char c;
    if (read(go[0], &c, 1) != 1)
        abort();
    for (int i = 0; i < 5; i++)
        free(handed[i]);
    return NULL;
}

__attribute__((noinline)) static void handoff(void)
{
    for (int i = 0; i < 5; i++)
        handed[i] = must(malloc(48));
}

static inline __attribute__((always_inline)) void inlined_alloc(void)
{
    free(must(malloc(8)));
}

__attribute__((noinline)) static void inline_host(void)
{
    inlined_alloc();
}

__attribute__((noinline)) static void final_sizes(void)
{
    for (int i = 0; i < 100; i++)
        free(must(realloc(must(malloc(8)), i < 95 ? 100 : i < 99 ? 200 : 300)));
}

__attribute__((noinline)) static void two_frees(void)
{
    void *p[4];
    for (int i = 0; i < 4; i++)
        p[i] = must(malloc(16));
    free(p[0]);
    free(p[1]);
    escape(p[2]);
    free(p[2]);
    free(p[3]);
}

static int run_threads(void)
{
    pthread_t t;
    if (pipe(go) != 0 || pthread_create(&t, NULL, handoff_free, NULL) != 0)
        return 1;
    handoff();
    if (write(go[1], "x", 1) != 1 || pthread_join(t, NULL) != 0)
        return 1;
    inline_host();
    final_sizes();
    two_frees();
    return 0;
}

__attribute__((noinline)) static void sampled_pair(unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        free(must(malloc(200)));
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "single")) {
        uint64_t timed[4];
        leak_site();
        leak_grown();
        seq_pair();
        batch_site();
        six_sizes();
        nine_sizes();
        eight_sizes();
        timed_block(timed);
        grow_chain();
        peak_site();
        many_freers();
        uint64_t pid = (uint64_t)getpid();
        say("pid", &pid, 1);
        say("timed", timed, 4);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "threads"))
        return run_threads();
    if (argc >= 3 && !strcmp(argv[1], "sample")) {
        sampled_pair(strtoul(argv[2], NULL, 10));
        return 0;
    }
    static const char usage[] = "usage: exact single | threads | sample N\n";
    return write(2, usage, sizeof usage - 1) < 0 ? 2 : 2;
}
