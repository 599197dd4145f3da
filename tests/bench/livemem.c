/* livemem.c — many live allocations at once, for the shim's memory cost per live block.
 *
 * Allocates N 32-byte blocks from one call site, keeps every one of them live, writes to each
 * (so the pages are resident under any allocator), then exits without freeing. `make bench`
 * compares its peak RSS under the shim with the native one: the difference over N is what the
 * shim spends per live allocation; the same at N = 1000 is its fixed cost.
 *
 * Usage: livemem [N (default 1000000)]   (prints a checksum of the blocks' contents)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 32

static __attribute__((noinline)) char *make_block(long i)
{
    char *p = malloc(BLOCK);
    if (p)
        memset(p, (int)(i & 0x7f), BLOCK);
    return p;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    if (n < 1) {
        fprintf(stderr, "usage: livemem [N >= 1]\n");
        return 2;
    }
    /* The table of pointers is one mmap-sized block: the same under every allocator. */
    char **blocks = malloc((size_t)n * sizeof *blocks);
    if (!blocks)
        return 1;
    for (long i = 0; i < n; i++)
        if (!(blocks[i] = make_block(i)))
            return 1;
    unsigned long sum = 0;
    for (long i = 0; i < n; i++) {
        blocks[i][BLOCK - 1] ^= 1;
        sum += (unsigned char)blocks[i][i % BLOCK];
    }
    printf("livemem: %ld blocks of %d bytes live, checksum %lu\n", n, BLOCK, sum);
    return 0;
}
