/* robust_limits.c — allocation failures and odd arguments must come back exactly as native.
 *
 * robust_limits huge
 *     Calls every allocation function with sizes that cannot be served (1 GiB under the test's
 *     `ulimit -v`, SIZE_MAX, products that overflow) and prints, per call, whether it returned
 *     NULL (or the error code) and errno; checks that a failed realloc left its block intact
 *     and that a failed posix_memalign left *out alone. Then 10 x malloc(100) at ok_alloc
 *     (errno preserved on success). Expected: ok_alloc allocs 10, no site of 1 GiB or more.
 * robust_limits align
 *     posix_memalign with 1 MiB alignment, aligned_alloc with odd sizes, and invalid alignments
 *     (0, 3, 4, 24, 2^63 ...) for posix_memalign, aligned_alloc and memalign; prints each result
 *     (return code or NULL, errno, whether the block is aligned) and the number of successes,
 *     every one of them made from align_calls.
 * robust_limits stacks DEPTH
 *     2^DEPTH distinct call stacks (a recursion through two functions, left and right, chosen
 *     by the bits of a counter), each allocating and freeing at stack_leaf. Prints a checksum.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The impossible sizes are the point here. */
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="

#define GIB ((size_t)1 << 30)

static const char *ename(int e)
{
    switch (e) {
    case 0: return "0";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    default: return "other";
    }
}

static void show(const char *what, void *p)
{
    int e = errno;
    printf("%-40s %s errno=%s\n", what, p ? "ok" : "NULL", ename(e));
    free(p);
}

static void show_rc(const char *what, int rc, void *out, void *sentinel)
{
    int e = errno;
    printf("%-40s rc=%s errno=%s out=%s\n", what, ename(rc), ename(e),
           out == sentinel ? "untouched" : "set");
    if (rc == 0)
        free(out);
}

__attribute__((noinline)) void *ok_alloc(void)
{
    return malloc(100);
}

static int run_huge(void)
{
    char sentinel;
    void *out;
#define TRY(expr) (errno = 0, show(#expr, (expr)))
    TRY(malloc(GIB));
    TRY(malloc(SIZE_MAX));
    TRY(malloc((size_t)PTRDIFF_MAX + 1));
    TRY(calloc((size_t)1 << 20, (size_t)1 << 10));
    TRY(calloc(SIZE_MAX / 2, 3));
    TRY(calloc(SIZE_MAX, SIZE_MAX));
    TRY(realloc(NULL, GIB));
    TRY(reallocarray(NULL, (size_t)1 << 20, (size_t)1 << 10));
    TRY(reallocarray(NULL, SIZE_MAX / 2, 3));
    TRY(aligned_alloc(64, GIB));
    TRY(aligned_alloc(64, SIZE_MAX - 100));
    TRY(memalign(4096, GIB));
    TRY(memalign(4096, SIZE_MAX - 4000));
    TRY(valloc(GIB));
    TRY(valloc(SIZE_MAX));
    TRY(pvalloc(GIB));
    TRY(pvalloc(SIZE_MAX - 100));
#undef TRY

    char *p = malloc(64);
    if (!p)
        return 1;
    memset(p, 'x', 64);
    errno = 0;
    void *q = realloc(p, GIB);
    printf("%-40s %s errno=%s block=%s\n", "realloc(p, GIB)", q ? "ok" : "NULL", ename(errno),
           q ? "moved" : (p[0] == 'x' && p[63] == 'x' ? "intact" : "damaged"));
    if (q)
        p = q;
    errno = 0;
    q = reallocarray(p, SIZE_MAX / 2, 3);
    printf("%-40s %s errno=%s block=%s\n", "reallocarray(p, SIZE_MAX / 2, 3)", q ? "ok" : "NULL",
           ename(errno), q ? "moved" : (p[0] == 'x' ? "intact" : "damaged"));
    if (q)
        p = q;
    free(p);

    out = &sentinel;
    errno = 0;
    int rc = posix_memalign(&out, 64, GIB);
    show_rc("posix_memalign(&out, 64, GIB)", rc, out, &sentinel);
    out = &sentinel;
    errno = 0;
    rc = posix_memalign(&out, 64, SIZE_MAX - 10);
    show_rc("posix_memalign(&out, 64, SIZE_MAX - 10)", rc, out, &sentinel);

    int preserved = 0;
    for (int i = 0; i < 10; i++) {
        errno = 12345;
        void *b = ok_alloc();
        preserved += b && errno == 12345;
        free(b);
    }
    printf("ok_alloc: 10 calls, errno preserved on %d\n", preserved);
    return 0;
}

static int aligned(void *p, size_t a)
{
    return a && ((uintptr_t)p & (a - 1)) == 0;
}

static unsigned successes;

static void show_align(const char *what, void *p, size_t a)
{
    int e = errno;
    printf("%-44s %s errno=%s%s\n", what, p ? "ok" : "NULL", ename(e),
           p ? (aligned(p, a) ? " aligned" : " MISALIGNED") : "");
    successes += p != NULL;
    free(p);
}

static void show_pm(const char *what, size_t a, size_t size)
{
    char sentinel;
    void *out = &sentinel;
    errno = 0;
    int rc = posix_memalign(&out, a, size);
    printf("%-44s rc=%s errno=%s out=%s%s\n", what, ename(rc), ename(errno),
           out == &sentinel ? "untouched" : "set",
           rc == 0 ? (aligned(out, a) ? " aligned" : " MISALIGNED") : "");
    if (rc == 0) {
        successes++;
        free(out);
    }
}

__attribute__((noinline)) void align_calls(void)
{
#define PM(a, n) show_pm("posix_memalign(&out, " #a ", " #n ")", (a), (n))
#define TRY(expr, a) (errno = 0, show_align(#expr, (expr), (a)))
    PM((size_t)1 << 20, 100);
    PM((size_t)1 << 20, ((size_t)3 << 20) + 1);
    PM((size_t)1 << 21, 1);
    PM(64, 0);
    PM(0, 10);
    PM(3, 10);
    PM(4, 10);
    PM(24, 10);
    PM((size_t)1 << 63, 10);
    TRY(aligned_alloc(64, 100), 64);
    TRY(aligned_alloc(64, 1), 64);
    TRY(aligned_alloc(4096, 12345), 4096);
    TRY(aligned_alloc((size_t)1 << 20, ((size_t)1 << 20) + 7), (size_t)1 << 20);
    TRY(aligned_alloc(16, 0), 16);
    TRY(aligned_alloc(0, 10), 1);
    TRY(aligned_alloc(3, 10), 1);
    TRY(aligned_alloc(24, 10), 8);
    TRY(aligned_alloc((size_t)1 << 63, 10), 1);
    TRY(memalign(1, 10), 1);
    TRY(memalign(3, 10), 1);
    TRY(memalign((size_t)1 << 20, 10), (size_t)1 << 20);
    TRY(memalign((size_t)1 << 63, 10), 1);
    TRY(memalign(SIZE_MAX, 10), 1);
    TRY(valloc(0), 4096);
    TRY(valloc(1), 4096);
    TRY(pvalloc(0), 4096);
    TRY(pvalloc(1), 4096);
#undef PM
#undef TRY
}

static int run_align(void)
{
    align_calls();
    printf("align: %u successful calls\n", successes);
    return 0;
}

/* ---- many distinct stacks ---- */

static unsigned long leaf_sum;
void branch(unsigned depth, unsigned long bits);

__attribute__((noinline)) void stack_leaf(unsigned long bits)
{
    unsigned char *p = malloc(32);
    if (p) {
        p[0] = (unsigned char)bits;
        leaf_sum += p[0];
        free(p);
    }
}

__attribute__((noinline)) void left(unsigned depth, unsigned long bits)
{
    branch(depth, bits);
    __asm__ volatile("" ::: "memory"); /* keep the call a call, not a jump */
}

__attribute__((noinline)) void right(unsigned depth, unsigned long bits)
{
    branch(depth, bits);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void branch(unsigned depth, unsigned long bits)
{
    if (depth == 0)
        stack_leaf(bits);
    else if ((bits >> (depth - 1)) & 1)
        left(depth - 1, bits);
    else
        right(depth - 1, bits);
    __asm__ volatile("" ::: "memory");
}

static int run_stacks(unsigned depth)
{
    if (depth > 24)
        depth = 24;
    for (unsigned long bits = 0; bits < (1ul << depth); bits++)
        branch(depth, bits);
    printf("stacks: %lu distinct, sum=%lu\n", 1ul << depth, leaf_sum);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "huge"))
        return run_huge();
    if (argc >= 2 && !strcmp(argv[1], "align"))
        return run_align();
    if (argc >= 3 && !strcmp(argv[1], "stacks"))
        return run_stacks((unsigned)strtoul(argv[2], NULL, 10));
    fprintf(stderr, "usage: robust_limits huge | align | stacks DEPTH\n");
    return 2;
}
