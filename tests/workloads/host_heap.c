/* host_heap.c — prints glibc's heap state after a run whose speed depends on it, for
 * t_host_heap.sh: the shim must leave the program's heap as it would be natively.
 *
 *   host_heap ROUNDS   ROUNDS times: three 64 KiB blocks, then their frees. Natively the last
 *                      free leaves more than M_TRIM_THRESHOLD free at the top of the heap, so
 *                      glibc returns it to the kernel and the next round asks for it again
 *                      (the "trim cliff" the cost model measures). A block of anyone else's
 *                      left above them would stop that, and the run would be far faster under
 *                      the profiler than without it.
 * Then mallinfo2(): bytes from sbrk, free chunks, bytes in use, the releasable top.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void *scratch(size_t n) { return malloc(n); }

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 100;
    unsigned long touched = 0;
    for (long r = 0; r < rounds; r++) {
        unsigned char *b[3];
        for (int k = 0; k < 3; k++) {
            b[k] = scratch(64 * 1024);
            b[k][r % 4096] = 1;
            touched += b[k][0];
        }
        for (int k = 0; k < 3; k++)
            free(b[k]);
    }
    struct mallinfo2 mi = mallinfo2();
    printf("arena %zu, free chunks %zu, in use %zu, releasable top %zu (%lu)\n", mi.arena,
           mi.ordblks, mi.uordblks, mi.keepcost, touched);
    return 0;
}
