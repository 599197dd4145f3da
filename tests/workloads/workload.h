/* workload.h — the few helpers the workload programs share.
 *
 * Workloads are ordinary programs whose allocation counts the tests know exactly; these helpers
 * keep the compiler from removing their malloc/free pairs and give them a repeatable sequence
 * of sizes. Header-only: each workload stays one file to build.
 */
#ifndef POOLPROBE_WORKLOAD_H
#define POOLPROBE_WORKLOAD_H

#include <stdint.h>

/* Makes a pointer visible to the outside world, so a malloc/free pair cannot be optimized
 * away. */
static inline void escape(void *p)
{
    __asm__ volatile("" : : "g"(p) : "memory");
}

/* xorshift32: a deterministic sequence from *state (never 0), the same on every machine. */
static inline uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

#endif
