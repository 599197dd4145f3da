/* forker.c — allocations on both sides of fork().
 *
 * The parent allocates A blocks at parent_alloc (48 bytes), forks, and waits. The child
 * allocates C blocks at child_alloc (80 bytes) and frees them, frees half of the blocks it
 * inherited from the parent (those are not its own: the shim saw them allocated before fork),
 * and exits normally through exit(). The parent then frees its A blocks and exits.
 *
 * Expected with POOLPROBE_OUT=DIR/trace.bin: DIR/trace.bin (the parent) has parent_alloc
 * (allocs A, frees A) and no child_alloc; DIR/trace.<child pid>.bin has child_alloc
 * (allocs C, frees C) and no parent_alloc.
 *
 * Usage: forker [A [C]]   (defaults 1000 and 500, at most MAX_BLOCKS). Prints the child's pid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PARENT_SIZE 48
#define CHILD_SIZE 80
#define MAX_BLOCKS 100000

static void *blocks[MAX_BLOCKS];
static void *child_blocks[MAX_BLOCKS];

__attribute__((noinline)) void *parent_alloc(unsigned long i)
{
    unsigned char *p = malloc(PARENT_SIZE);
    if (!p)
        abort();
    memset(p, (int)(i & 0xff), PARENT_SIZE);
    return p;
}

__attribute__((noinline)) void *child_alloc(unsigned long i)
{
    unsigned char *p = malloc(CHILD_SIZE);
    if (!p)
        abort();
    memset(p, (int)(i & 0xff), CHILD_SIZE);
    return p;
}

static unsigned long arg(int argc, char **argv, int i, unsigned long dflt)
{
    unsigned long v = argc > i ? strtoul(argv[i], NULL, 10) : dflt;
    return v > MAX_BLOCKS ? MAX_BLOCKS : v;
}

int main(int argc, char **argv)
{
    unsigned long a = arg(argc, argv, 1, 1000), c = arg(argc, argv, 2, 500);
    for (unsigned long i = 0; i < a; i++)
        blocks[i] = parent_alloc(i);

    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("forker: fork");
        return 1;
    }
    if (pid == 0) {
        for (unsigned long i = 0; i < c; i++)
            child_blocks[i] = child_alloc(i);
        for (unsigned long i = 0; i < c; i++)
            free(child_blocks[i]);
        for (unsigned long i = 0; i < a / 2; i++)
            free(blocks[i]);
        exit(0);
    }

    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "forker: child %ld did not exit cleanly (status %d)\n", (long)pid, status);
        return 1;
    }
    for (unsigned long i = 0; i < a; i++)
        free(blocks[i]);
    printf("forker: parent=%ld child=%ld parent_alloc=%lu child_alloc=%lu\n", (long)getpid(),
           (long)pid, a, c);
    return 0;
}
