/* host_stack.c — how much of the program's stack an allocation takes (tests/t_host_stack.sh).
 *
 *   host_stack hot N       on a thread whose 64 KiB stack we painted: warms one call site up
 *                          (so the shim's frame cache knows it), paints, then makes N
 *                          malloc/free pairs from that site; prints how far below the
 *                          caller's stack pointer those calls wrote ("hot: N bytes").
 *   host_stack coroutine N DEPTH
 *                          on a 16 KiB makecontext stack with a guard page below it: recurses
 *                          DEPTH frames of 512 bytes, then makes N malloc/free pairs from
 *                          there (each a frame-cache miss: not on a thread's own stack); prints
 *                          how far below that point they wrote ("worst: N bytes"). A stack
 *                          overflow hits the guard page: the program dies.
 * Each site's allocations are 48 bytes, from stack_site(); the counts are exact.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "workload.h"

#define PAINT 0xa5

static unsigned char *stack_lo;
static long pairs;

__attribute__((noinline)) static void stack_site(void)
{
    void *p = malloc(48);
    escape(p);
    free(p);
}

/* The stack pointer of the function this is inlined into. */
#define STACK_POINTER()                                                                        \
    ({                                                                                         \
        uintptr_t sp_;                                                                         \
        __asm__ volatile("mov %%rsp, %0" : "=r"(sp_));                                         \
        sp_;                                                                                   \
    })

/* Paints [stack_lo, sp - 128) (below the red zone) from the caller's own frame, so later use
 * shows as bytes no longer PAINT. */
static inline __attribute__((always_inline)) void paint(uintptr_t sp)
{
    for (volatile unsigned char *p = stack_lo; (uintptr_t)p < sp - 128; p++)
        *p = PAINT;
}

/* Bytes below sp that something wrote since paint(sp). */
static size_t used_below(uintptr_t sp)
{
    const unsigned char *p = stack_lo;
    while ((uintptr_t)p < sp && *p == PAINT)
        p++;
    return (size_t)(sp - (uintptr_t)p);
}

/* ---- hot: a thread's own stack, frame cache warm ---- */

static void *hot_thread(void *arg)
{
    (void)arg;
    uintptr_t sp = STACK_POINTER();
    /* One call site throughout (the frame cache keys on the whole stack): 16 calls to warm it
     * (a miss, a miss that fills the cache, then hits), then paint, then the measured calls. */
    for (long i = 0; i < 16 + pairs; i++) {
        if (i == 16)
            paint(sp);
        stack_site();
    }
    /* stack_site's own frame (return address, saved rbp, alignment) is in the figure too. */
    printf("hot: %zu bytes\n", used_below(sp));
    return NULL;
}

static int hot(void)
{
    size_t size = 64 << 10;
    stack_lo = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack_lo == MAP_FAILED)
        return 2;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack_lo, size);
    pthread_t t;
    if (pthread_create(&t, &attr, hot_thread, NULL) != 0)
        return 2;
    pthread_join(t, NULL);
    return 0;
}

/* ---- coroutine: 16 KiB makecontext stack, malloc at depth ---- */

static ucontext_t main_ctx, co_ctx;
static int depth;
static size_t worst;

__attribute__((noinline)) static void descend(int level)
{
    volatile char frame[512];
    frame[0] = (char)level;
    if (level < depth) {
        descend(level + 1);
    } else {
        uintptr_t sp = STACK_POINTER();
        paint(sp);
        for (long i = 0; i < pairs; i++)
            stack_site();
        worst = used_below(sp);
    }
    escape((void *)frame);
}

static void coroutine(void)
{
    descend(1);
}

static int on_coroutine(void)
{
    size_t size = 16 << 10;
    unsigned char *map = mmap(NULL, size + 4096, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED || mprotect(map, 4096, PROT_NONE) != 0)
        return 2;
    stack_lo = map + 4096;
    getcontext(&co_ctx);
    co_ctx.uc_stack.ss_sp = stack_lo;
    co_ctx.uc_stack.ss_size = size;
    co_ctx.uc_link = &main_ctx;
    makecontext(&co_ctx, coroutine, 0);
    if (swapcontext(&main_ctx, &co_ctx) != 0)
        return 2;
    printf("worst: %zu bytes\n", worst);
    return 0;
}

int main(int argc, char **argv)
{
    stack_site(); /* binds malloc and free now: lazy binding saves every register on the stack */
    if (argc == 3 && !strcmp(argv[1], "hot")) {
        pairs = atol(argv[2]);
        return hot();
    }
    if (argc == 4 && !strcmp(argv[1], "coroutine")) {
        pairs = atol(argv[2]);
        depth = atoi(argv[3]);
        return on_coroutine();
    }
    fprintf(stderr, "usage: host_stack hot N | coroutine N DEPTH\n");
    return 2;
}
