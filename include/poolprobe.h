/* poolprobe.h — the optional public API of libpoolprobe.so.
 *
 * A program may tell poolprobe how many operations (requests, benchmark iterations) it ran,
 * so reports and the CI gate compare allocations per operation, as `go test -benchmem` reports
 * allocs/op:
 *
 *     #include <poolprobe.h>
 *     ...
 *     POOLPROBE_OPS(iterations);
 *
 * poolprobe_ops is a weak reference: when the program runs without the shim it is NULL and
 * POOLPROBE_OPS does nothing, so nothing needs to be linked. Calls add up. Thread-safe.
 *
 * A program's own pools can be counted the same way (the seeds' exercise 10: gets, hits and
 * misses, to see whether a pool still earns its keep, exercise 12). Mark each pool's get, hit
 * or miss, and put with the pool's name, a string that lives as long as the program (a
 * literal):
 *
 *     void *buf_get(void) {
 *         POOLPROBE_POOL_GET("response buffers");
 *         if (free_list) { POOLPROBE_POOL_HIT("response buffers"); return pop(); }
 *         POOLPROBE_POOL_MISS("response buffers");
 *         return malloc(4096);
 *     }
 *     void buf_put(void *b) { POOLPROBE_POOL_PUT("response buffers"); push(b); }
 *
 * poolprobe-report then lists each named pool with its gets per second, its hit rate and a
 * verdict: keep, resize or remove. Without the shim each marker is one test of a NULL weak
 * symbol. Up to 64 pools are counted (more are ignored); names are cut at 63 bytes.
 */
#ifndef POOLPROBE_H
#define POOLPROBE_H

#ifdef __cplusplus
extern "C" {
#endif

void poolprobe_ops(unsigned long long n) __attribute__((weak));

#define POOLPROBE_OPS(n)                                                                       \
    do {                                                                                       \
        if (poolprobe_ops)                                                                     \
            poolprobe_ops((unsigned long long)(n));                                            \
    } while (0)

/* event: 0 get, 1 hit, 2 miss, 3 put. Thread-safe, lock-free, never allocates. */
void poolprobe_pool_event(const char *name, int event) __attribute__((weak));

#define POOLPROBE_POOL_EVENT_(name, event)                                                     \
    do {                                                                                       \
        if (poolprobe_pool_event)                                                              \
            poolprobe_pool_event((name), (event));                                             \
    } while (0)
#define POOLPROBE_POOL_GET(name) POOLPROBE_POOL_EVENT_(name, 0)
#define POOLPROBE_POOL_HIT(name) POOLPROBE_POOL_EVENT_(name, 1)
#define POOLPROBE_POOL_MISS(name) POOLPROBE_POOL_EVENT_(name, 2)
#define POOLPROBE_POOL_PUT(name) POOLPROBE_POOL_EVENT_(name, 3)

#ifdef __cplusplus
}
#endif

#endif
