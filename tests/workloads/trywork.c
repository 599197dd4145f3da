/* trywork.c — workloads with known answers for `poolprobe try` (tests/t_try.sh).
 *
 *   trywork big N     N rounds of three 64 KiB blocks in flight, each touched and freed. The
 *                     three blocks end the heap, and freeing them leaves 192 KiB free at the top,
 *                     past glibc's 128 KiB trim threshold: every round gives the memory back to
 *                     the kernel and faults it in again. A pool of three keeps it: the pool must
 *                     win by far (a hand-written pool, tests/bench, does the same work ~10x
 *                     faster).
 *   trywork bigpool N the same work as big with a hand-written free list of three blocks: the
 *                     ratio a real pool gives, which `poolprobe try` on big must come close to.
 *   trywork rare N    a site called ten times, then N rounds of arithmetic without allocating:
 *                     no pool can change its time.
 *   trywork fail      allocates like big, then exits with status 3.
 *   trywork crash     allocates like big, then dies of SIGSEGV.
 *   trywork pid       like big 10, and prints its pid: its output differs from run to run.
 *   trywork mixed     a site allocating 100, 1000 and 5000 bytes in turn, 300 times, one block
 *                     live at a time: for pool-capped (drops above the cap) and tiered.
 *   trywork usable    a pooled site's blocks through realloc, calloc and malloc_usable_size:
 *                     prints what the program sees, which must not depend on the pool.
 * Each prints a checksum of what it computed on stdout and one line on stderr.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workload.h"

#define BLOCK (64 * 1024)

static unsigned long touch(unsigned char *b, size_t n, unsigned seed)
{
    unsigned long sum = 0;
    for (size_t i = 0; i < n; i += 4096) {
        b[i] = (unsigned char)(seed + i);
        sum += b[i];
    }
    return sum;
}

__attribute__((noinline)) static unsigned char *block_alloc(void)
{
    return malloc(BLOCK);
}

static unsigned long big(long rounds)
{
    unsigned long sum = 0;
    for (long r = 0; r < rounds; r++) {
        unsigned char *b[3];
        for (int i = 0; i < 3; i++) {
            b[i] = block_alloc();
            if (!b[i])
                exit(4);
            sum += touch(b[i], BLOCK, (unsigned)(r + i));
        }
        for (int i = 0; i < 3; i++) {
            escape(b[i]);
            free(b[i]);
        }
    }
    return sum;
}

/* The hand-written pool: a free list of up to three blocks. */
static void *pool_free_list[3];
static int pool_free_count;

static unsigned char *pool_get(void)
{
    return pool_free_count ? pool_free_list[--pool_free_count] : malloc(BLOCK);
}

static void pool_put(unsigned char *b)
{
    if (pool_free_count < 3)
        pool_free_list[pool_free_count++] = b;
    else
        free(b);
}

static unsigned long bigpool(long rounds)
{
    unsigned long sum = 0;
    for (long r = 0; r < rounds; r++) {
        unsigned char *b[3];
        for (int i = 0; i < 3; i++) {
            b[i] = pool_get();
            if (!b[i])
                exit(4);
            sum += touch(b[i], BLOCK, (unsigned)(r + i));
        }
        for (int i = 0; i < 3; i++) {
            escape(b[i]);
            pool_put(b[i]);
        }
    }
    return sum;
}

__attribute__((noinline)) static char *rare_alloc(size_t n)
{
    return malloc(n);
}

static unsigned long rare(long rounds)
{
    unsigned long sum = 0;
    for (int i = 0; i < 10; i++) {
        char *p = rare_alloc(4096);
        memset(p, i, 4096);
        sum += (unsigned char)p[100];
        free(p);
    }
    uint32_t x = 1;
    for (long r = 0; r < rounds; r++)
        sum += xorshift32(&x) & 0xff;
    return sum;
}

__attribute__((noinline)) static char *mixed_alloc(size_t n)
{
    return malloc(n);
}

static unsigned long mixed(void)
{
    static const size_t sizes[3] = {100, 1000, 5000};
    unsigned long sum = 0;
    for (int i = 0; i < 300; i++) {
        size_t n = sizes[i % 3];
        char *p = mixed_alloc(n);
        memset(p, i, n);
        sum += (unsigned char)p[n - 1];
        free(p);
    }
    return sum;
}

__attribute__((noinline)) static char *usable_alloc(size_t n)
{
    return malloc(n);
}

__attribute__((noinline)) static char *usable_calloc(size_t n)
{
    return calloc(1, n);
}

/* What a program can observe of its blocks: contents, zeroing, alignment, moves. */
static unsigned long usable(void)
{
    unsigned long sum = 0;
    for (int round = 0; round < 200; round++) {
        char *p = usable_alloc(100);
        memset(p, 'a' + round % 26, 100);
        sum += ((unsigned long)p & 15) == 0;
        sum += malloc_usable_size(p) >= 100;
        p = realloc(p, 90); /* fits: stays */
        p = realloc(p, 5000); /* grows out of any pool block of 100 */
        for (int i = 0; i < 90; i++)
            sum += (unsigned char)p[i];
        free(p);
        char *z = usable_calloc(100);
        for (int i = 0; i < 100; i++)
            sum += (unsigned char)z[i]; /* must stay 0 even when the block is reused */
        memset(z, 0xff, 100);
        free(z);
    }
    return sum;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    long n = argc > 2 ? atol(argv[2]) : 1000;
    unsigned long sum;
    if (!strcmp(mode, "big")) {
        sum = big(n);
    } else if (!strcmp(mode, "bigpool")) {
        sum = bigpool(n);
        mode = "big"; /* the same computation as big, the same output */
    } else if (!strcmp(mode, "rare")) {
        sum = rare(n);
    } else if (!strcmp(mode, "fail")) {
        printf("%lu\n", big(10));
        return 3;
    } else if (!strcmp(mode, "crash")) {
        printf("%lu\n", big(10));
        fflush(stdout);
        raise(SIGSEGV);
        return 0;
    } else if (!strcmp(mode, "pid")) {
        printf("%lu %ld\n", big(10), (long)getpid());
        return 0;
    } else if (!strcmp(mode, "mixed")) {
        sum = mixed();
    } else if (!strcmp(mode, "usable")) {
        sum = usable();
    } else {
        fprintf(stderr, "usage: trywork big|rare|fail|crash|usable [N]\n");
        return 2;
    }
    printf("%s %lu\n", mode, sum);
    fprintf(stderr, "trywork %s done\n", mode);
    return 0;
}
