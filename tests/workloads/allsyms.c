/* allsyms.c — every allocation entry point, each from its own function, a known number of times.
 *
 * The program prints what each call returned (success, alignment, contents kept, errno) but never
 * an address, so its output is the same with and without the shim; the tests compare the two.
 * Each call_* function makes exactly one successful call of its entry point per round, from one
 * call instruction (a loop with a constant count could be unrolled into several call sites, so
 * the count comes from the rounds argument: argv[1], default 6). For R rounds:
 *
 *   site                 per round                                    allocs frees size
 *   call_malloc          malloc(0|1|24|100|4096|100000 by round % 6),   R     R    0..100000
 *                        then a failing malloc(SIZE_MAX)                           (R >= 6)
 *   call_calloc          calloc(4,16), then an overflowing calloc       R     R    64
 *   call_realloc_null    realloc(NULL,32); the block is then grown,     R     R    32
 *                        failed and shrunk by call_realloc_grow and
 *                        freed by realloc(p,0) in call_realloc_zero
 *   call_reallocarray    reallocarray(NULL,8,16), grown, 1 overflow     R     R    128
 *   call_posix_memalign  posix_memalign(64,100), + EINVAL + ENOMEM      R     R    100
 *   call_aligned_alloc   aligned_alloc(256,512)                         R     R    512
 *   call_memalign        memalign(128,200)                              R     R    200
 *   call_valloc          valloc(100)                                    R     R    100
 *   call_pvalloc         pvalloc(100)                                   R     R    (page)
 *   call_free_null       free(NULL)                                     no site
 *   call_realloc_grow, call_realloc_zero                                no site (no new blocks)
 *   edge_cases           platform-dependent corner cases, once: printed, not counted
 *
 * Failing calls return NULL (or an error code) and create nothing, so they are not counted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workload.h"

/* A failed realloc leaves the block valid, which is what call_realloc_grow checks; GCC cannot
 * know the call failed. And it misreads malloc(SIZE_MAX) through a volatile as uninitialised. */
#pragma GCC diagnostic ignored "-Wuse-after-free"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

/* volatile so that the compiler neither folds realloc(NULL, n) into malloc(n), drops free(NULL),
 * nor warns about (or folds) requests it can see will fail. */
static void *volatile null_ptr = NULL;
static volatile size_t huge = SIZE_MAX;
static volatile size_t zero = 0;

static int aligned(const void *p, size_t a)
{
    return p != NULL && (uintptr_t)p % a == 0;
}

static void fill(void *p, size_t n, int seed)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(seed + i * 7 + 1);
}

static int filled(const void *p, size_t n, int seed)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)(seed + i * 7 + 1))
            return 0;
    return 1;
}

static const char *err_name(int e)
{
    switch (e) {
    case 0: return "0";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    default: return "other";
    }
}

#define SENTINEL_ERRNO 4242 /* errno must come back unchanged from a successful call */

static void report(const char *what, const void *p, size_t align, int err)
{
    printf("%-32s %s aligned%zu=%d errno=%s\n", what, p ? "ptr " : "NULL", align,
           aligned(p, align), err == SENTINEL_ERRNO ? "kept" : err_name(err));
}

__attribute__((noinline)) void call_malloc(unsigned long round)
{
    static const size_t sizes[] = {0, 1, 24, 100, 4096, 100000};
    size_t n = sizes[round % (sizeof sizes / sizeof sizes[0])];
    char what[40];
    snprintf(what, sizeof what, "malloc(%zu)", n);
    errno = SENTINEL_ERRNO;
    void *p = malloc(n);
    report(what, p, 16, errno);
    fill(p, n, (int)round);
    printf("%-32s usable>=size=%d\n", what, malloc_usable_size(p) >= n);
    errno = 0;
    void *q = malloc(huge);
    report("malloc(SIZE_MAX)", q, 16, errno);
    escape(p);
    free(p);
}

__attribute__((noinline)) void call_calloc(void)
{
    errno = SENTINEL_ERRNO;
    unsigned char *p = calloc(4, 16);
    report("calloc(4,16)", p, 16, errno);
    int zeroed = 1;
    for (int j = 0; j < 64; j++)
        zeroed &= p[j] == 0;
    printf("%-32s zeroed=%d\n", "calloc(4,16)", zeroed);
    errno = 0;
    void *q = calloc(huge / 2, 4);
    report("calloc(SIZE_MAX/2,4)", q, 16, errno);
    free(p);
}

__attribute__((noinline)) void *call_realloc_null(void)
{
    errno = SENTINEL_ERRNO;
    void *p = realloc(null_ptr, 32);
    report("realloc(NULL,32)", p, 16, errno);
    fill(p, 32, 3);
    return p;
}

/* Grows the block, fails to grow it further (the block must survive), shrinks it. */
__attribute__((noinline)) void *call_realloc_grow(void *p)
{
    errno = SENTINEL_ERRNO;
    void *q = realloc(p, 4096);
    report("realloc(p,4096)", q, 16, errno);
    printf("%-32s kept=%d\n", "realloc(p,4096)", filled(q, 32, 3));
    errno = 0;
    void *r = realloc(q, huge);
    report("realloc(p,SIZE_MAX)", r, 16, errno);
    printf("%-32s kept=%d\n", "realloc(p,SIZE_MAX)", filled(q, 32, 3));
    errno = SENTINEL_ERRNO;
    r = realloc(q, 16);
    report("realloc(p,16)", r, 16, errno);
    printf("%-32s kept=%d\n", "realloc(p,16)", filled(r, 16, 3));
    return r;
}

__attribute__((noinline)) void call_realloc_zero(void *p)
{
    errno = SENTINEL_ERRNO;
    void *q = realloc(p, zero);
    report("realloc(p,0)", q, 16, errno);
    free(q); /* NULL on glibc, which frees p; free(q) keeps other libcs honest */
}

__attribute__((noinline)) void call_reallocarray(void)
{
    errno = SENTINEL_ERRNO;
    void *p = reallocarray(null_ptr, 8, 16);
    report("reallocarray(NULL,8,16)", p, 16, errno);
    fill(p, 128, 5);
    errno = SENTINEL_ERRNO;
    void *q = reallocarray(p, 16, 16);
    report("reallocarray(p,16,16)", q, 16, errno);
    printf("%-32s kept=%d\n", "reallocarray(p,16,16)", filled(q, 128, 5));
    errno = 0;
    void *r = reallocarray(q, huge, 2);
    report("reallocarray(p,SIZE_MAX,2)", r, 16, errno);
    /* The overflowing reallocarray failed, so q is still ours. */
    // cppcheck-suppress doubleFree
    free(q);
}

__attribute__((noinline)) void call_posix_memalign(void)
{
    void *p = NULL;
    errno = SENTINEL_ERRNO;
    int rc = posix_memalign(&p, 64, 100);
    report("posix_memalign(64,100)", rc == 0 ? p : NULL, 64, errno);
    printf("%-32s rc=%s\n", "posix_memalign(64,100)", err_name(rc));
    void *q = &q;
    errno = SENTINEL_ERRNO;
    rc = posix_memalign(&q, 3, 16);
    printf("%-32s rc=%s untouched=%d errno=%s\n", "posix_memalign(3,16)", err_name(rc), q == &q,
           errno == SENTINEL_ERRNO ? "kept" : err_name(errno));
    errno = SENTINEL_ERRNO;
    rc = posix_memalign(&q, 64, huge);
    printf("%-32s rc=%s untouched=%d errno=%s\n", "posix_memalign(64,SIZE_MAX)", err_name(rc),
           q == &q, errno == SENTINEL_ERRNO ? "kept" : err_name(errno));
    free(p);
}

__attribute__((noinline)) void call_aligned_alloc(void)
{
    errno = SENTINEL_ERRNO;
    void *p = aligned_alloc(256, 512);
    report("aligned_alloc(256,512)", p, 256, errno);
    free(p);
}

__attribute__((noinline)) void call_memalign(void)
{
    errno = SENTINEL_ERRNO;
    void *p = memalign(128, 200);
    report("memalign(128,200)", p, 128, errno);
    free(p);
}

__attribute__((noinline)) void call_valloc(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    errno = SENTINEL_ERRNO;
    void *p = valloc(100);
    report("valloc(100)", p, page, errno);
    free(p);
}

__attribute__((noinline)) void call_pvalloc(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    errno = SENTINEL_ERRNO;
    void *p = pvalloc(100);
    report("pvalloc(100)", p, page, errno);
    printf("%-32s usable>=page=%d\n", "pvalloc(100)", malloc_usable_size(p) >= page);
    free(p);
}

__attribute__((noinline)) void call_free_null(void)
{
    errno = SENTINEL_ERRNO;
    free(null_ptr);
    printf("%-32s errno=%s\n", "free(NULL)", errno == SENTINEL_ERRNO ? "kept" : "changed");
}

/* Corner cases whose outcome differs between libc versions: only the output is compared. */
__attribute__((noinline)) void edge_cases(void)
{
    void *p;
    errno = 0;
    p = aligned_alloc(3, 10);
    report("aligned_alloc(3,10)", p, 1, errno);
    free(p);
    errno = 0;
    p = aligned_alloc(64, 100);
    report("aligned_alloc(64,100)", p, 64, errno);
    free(p);
    errno = 0;
    p = memalign(3, 10);
    report("memalign(3,10)", p, 1, errno);
    free(p);
    errno = 0;
    p = memalign(64, huge);
    report("memalign(64,SIZE_MAX)", p, 64, errno);
    free(p);
    errno = 0;
    p = valloc(huge);
    report("valloc(SIZE_MAX)", p, 1, errno);
    free(p);
    errno = 0;
    p = pvalloc(huge);
    report("pvalloc(SIZE_MAX)", p, 1, errno);
    free(p);
    errno = 0;
    p = aligned_alloc(64, huge);
    report("aligned_alloc(64,SIZE_MAX)", p, 64, errno);
    free(p);
}

int main(int argc, char **argv)
{
    unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 6;
    /* Fully buffered stdout, allocated before the first round, so that libc's own buffer
     * allocation does not happen in the middle of a round. */
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    for (unsigned long r = 0; r < rounds; r++) {
        printf("round %lu\n", r);
        call_malloc(r);
        call_calloc();
        call_realloc_zero(call_realloc_grow(call_realloc_null()));
        call_reallocarray();
        call_posix_memalign();
        call_aligned_alloc();
        call_memalign();
        call_valloc();
        call_pvalloc();
        call_free_null();
    }
    edge_cases();
    return 0;
}
