/* keeper.c — blocks that are never freed, next to blocks that are.
 *
 *   keep_forever   K x malloc(KEEP_SIZE = 100), stored in a table and never freed:
 *                  allocs K, frees 0, live_at_exit K, peak_live K
 *   scratch        K x malloc(SCRATCH_SIZE = 24), freed at once: allocs K, frees K, live 0
 *
 * Usage: keeper [K]   (default 1000, at most MAX_KEEP). Prints its pid (tests use it to find a
 * trace named after the pid) and the counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workload.h"

#define KEEP_SIZE 100
#define SCRATCH_SIZE 24
#define MAX_KEEP 100000

static void *kept[MAX_KEEP];

__attribute__((noinline)) void *keep_forever(unsigned long i)
{
    unsigned char *p = malloc(KEEP_SIZE);
    if (!p)
        abort();
    memset(p, (int)(i & 0xff), KEEP_SIZE);
    return p;
}

__attribute__((noinline)) void scratch(unsigned long i)
{
    unsigned char *p = malloc(SCRATCH_SIZE);
    if (!p)
        abort();
    p[0] = (unsigned char)i;
    escape(p);
    free(p);
}

int main(int argc, char **argv)
{
    unsigned long k = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    if (k > MAX_KEEP)
        k = MAX_KEEP;
    for (unsigned long i = 0; i < k; i++) {
        kept[i] = keep_forever(i);
        scratch(i);
    }
    escape(kept);
    printf("keeper: pid=%ld keep_forever=%lu scratch=%lu\n", (long)getpid(), k, k);
    return 0;
}
