/* manystacks.c — 2^DEPTH distinct call stacks, one allocation each, for poolprobe-report speed.
 *
 * A binary recursion of DEPTH levels: at each level `descend` calls either go_left or go_right,
 * chosen by one bit of the path number, and they call `descend` again one level down. Every
 * path number gives a different sequence of return addresses, so path 0 .. 2^DEPTH-1 are
 * 2^DEPTH different stacks (about 2*DEPTH+4 frames each), and each allocates once at the bottom.
 * Build it with -O1 -fno-inline -fno-optimize-sibling-calls and trace it with POOLPROBE_DEPTH=64
 * so no stack is cut short. The two sides differ in body (and are noipa) so no optimization
 * folds them into one function.
 *
 * Usage: manystacks [DEPTH (default 17, at most 24)]
 */
#include <stdio.h>
#include <stdlib.h>

#define NOIPA __attribute__((noinline, noipa))

static volatile unsigned long sink;
static volatile unsigned long lefts, rights;

static NOIPA void descend(int level, unsigned long path);

static NOIPA void *leaf(unsigned long path)
{
    return malloc(16 + (path & 15));
}

static NOIPA void go_left(int level, unsigned long path)
{
    lefts++;
    descend(level, path);
}

static NOIPA void go_right(int level, unsigned long path)
{
    rights += 2;
    descend(level, path);
}

static NOIPA void descend(int level, unsigned long path)
{
    if (level == 0) {
        void *p = leaf(path);
        sink += (unsigned long)p & 1;
        free(p);
        return;
    }
    if (path >> (level - 1) & 1)
        go_right(level - 1, path);
    else
        go_left(level - 1, path);
}

int main(int argc, char **argv)
{
    int depth = argc > 1 ? atoi(argv[1]) : 17;
    if (depth < 1 || depth > 24) {
        fprintf(stderr, "usage: manystacks [DEPTH 1..24]\n");
        return 2;
    }
    for (unsigned long path = 0; path < 1ul << depth; path++)
        descend(depth, path);
    printf("manystacks: %lu paths of depth %d, %lu left and %lu right steps\n", 1ul << depth,
           depth, lefts, rights / 2);
    return 0;
}
