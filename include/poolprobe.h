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

#ifdef __cplusplus
}
#endif

#endif
