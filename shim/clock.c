/* clock.c — the shim's clock: nanoseconds for lifetimes, cheap enough to read twice per block.
 *
 * clock_gettime through the vDSO costs ~25 ns here, 13% of the shim's time on an allocation-
 * heavy program (perf). When the CPU has an invariant TSC we read it instead (~7 ns) and convert
 * with a ratio calibrated against CLOCK_MONOTONIC at start, over a 100 us spin: the ratio is
 * then within ~0.02%, far finer than the lifetime histogram's buckets (two per power of two).
 * Without an invariant TSC we use clock_gettime, and so on every CPU but x86 (aarch64 and
 * others build the same file with the TSC part left out). Reading this clock is
 * async-signal-safe.
 *
 * A coarser clock is no way out: CLOCK_MONOTONIC_COARSE costs 8.5 ns where rdtsc costs 30 ns
 * in the development VM (a loop of 10 M reads), but it moves in 4 ms steps, and the lifetime
 * histogram's buckets start at 1 ns (most blocks live under a microsecond). Each event reads
 * the clock once; the alloc's reading is the block's birth, the free's its death.
 */
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#define PP_HAVE_TSC 1
#include <cpuid.h>
#include <x86intrin.h>
#else
#define PP_HAVE_TSC 0
#endif

#include "shim.h"

#if PP_HAVE_TSC
static int use_tsc;
static uint64_t tsc0, mono0;
static uint64_t ns_per_tick_q32; /* nanoseconds per tick, fixed point 32.32 */
#endif

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uint64_t pp_realtime_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}

#if PP_HAVE_TSC
void pp_clock_init(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000007, &a, &b, &c, &d) || !(d & (1u << 8)))
        return; /* no invariant TSC: its rate may change with power states */
    uint64_t m0 = mono_ns(), t0 = __rdtsc(), m1, t1;
    do {
        m1 = mono_ns();
        t1 = __rdtsc();
    } while (m1 - m0 < 100000);
    if (t1 <= t0)
        return;
    ns_per_tick_q32 = (uint64_t)(((unsigned __int128)(m1 - m0) << 32) / (t1 - t0));
    tsc0 = t1;
    mono0 = m1;
    use_tsc = ns_per_tick_q32 != 0;
}
#else
void pp_clock_init(void)
{
}
#endif

uint64_t pp_now_ns(void)
{
#if PP_HAVE_TSC
    if (PP_LIKELY(use_tsc)) {
        uint64_t t = __rdtsc();
        /* A thread that migrated may see a TSC a hair behind tsc0; never go back in time. */
        uint64_t ticks = t > tsc0 ? t - tsc0 : 0;
        return mono0 + (uint64_t)(((unsigned __int128)ticks * ns_per_tick_q32) >> 32);
    }
#endif
    return mono_ns();
}
