/* deepsite.c — one allocation site reached through two deep call paths, and one behind wrappers.
 *
 * make_record() allocates 48 bytes; it is called through four pass-through frames (hop4..hop1)
 * from two outer callers: via_import N times and via_export N/3 times. So the site prefix (the
 * first four frames) is the same for both paths and only the full stacks tell them apart: by
 * site the figures are exact in every mode; by stack they are exact with full stacks and
 * estimated from samples otherwise. wrapped_alloc() reaches malloc through two wrapper levels
 * (my_xmalloc -> my_xmalloc_impl), so its site is the third frame. varframe_alloc() does the
 * same through a wrapper whose frame changes size from call to call (alloca): a frame size the
 * shim learned is then wrong for the next call, and its site, the third frame, must still be
 * found exactly (the shim walks frames by their learned sizes and replays remembered walks).
 * Usage: deepsite [N (default 30000)]   Prints a checksum.
 */
#include <alloca.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define NOINLINE __attribute__((noinline))

static NOINLINE void *make_record(unsigned i)
{
    unsigned *r = malloc(48);
    r[0] = i;
    return r;
}

static NOINLINE unsigned hop1(unsigned i) { void *r = make_record(i); unsigned v = *(unsigned *)r; free(r); return v; }
static NOINLINE unsigned hop2(unsigned i) { return hop1(i) + 1; }
static NOINLINE unsigned hop3(unsigned i) { return hop2(i) + 1; }
static NOINLINE unsigned hop4(unsigned i) { return hop3(i) + 1; }

static NOINLINE unsigned long via_import(unsigned n)
{
    unsigned long sum = 0;
    for (unsigned i = 0; i < n; i++)
        sum += hop4(i);
    return sum;
}

static NOINLINE unsigned long via_export(unsigned n)
{
    unsigned long sum = 0;
    for (unsigned i = 0; i < n; i++)
        sum += hop4(i) * 3;
    return sum;
}

static NOINLINE void *my_xmalloc_impl(size_t n) { void *p = malloc(n); escape(p); return p; }
static NOINLINE void *my_xmalloc(size_t n) { void *p = my_xmalloc_impl(n); escape(p); return p; }

static NOINLINE unsigned long wrapped_alloc(unsigned n)
{
    unsigned long sum = 0;
    for (unsigned i = 0; i < n; i++) {
        char *p = my_xmalloc(200);
        p[0] = (char)i;
        sum += (unsigned char)p[0];
        free(p);
    }
    return sum;
}

static NOINLINE void *var_xmalloc_impl(size_t n) { void *p = malloc(n); escape(p); return p; }

/* 16, 48 or 80 bytes of alloca: three frame sizes, one after the other. */
static NOINLINE void *var_xmalloc(size_t n, unsigned pad)
{
    char *scratch = alloca(16 + 32 * pad);
    memset(scratch, 0, 16 + 32 * pad);
    escape(scratch);
    void *p = var_xmalloc_impl(n);
    escape(p);
    return p;
}

static NOINLINE unsigned long varframe_alloc(unsigned n)
{
    unsigned long sum = 0;
    for (unsigned i = 0; i < n; i++) {
        char *p = var_xmalloc(96, i % 3);
        p[0] = (char)i;
        sum += (unsigned char)p[0];
        free(p);
    }
    return sum;
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 30000;
    unsigned long sum = via_import(n) + via_export(n / 3) + wrapped_alloc(n / 10) +
                        varframe_alloc(n / 10);
    printf("deepsite: %u, checksum %lu\n", n, sum);
    return 0;
}
