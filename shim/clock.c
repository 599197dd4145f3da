/* clock.c — the shim's clock: nanoseconds for lifetimes, cheap enough to read twice per block.
 *
 * clock_gettime through the vDSO costs ~25 ns here, 13% of the shim's time on an allocation-
 * heavy program (perf). When the CPU has an invariant TSC we read it instead (~7 ns) and convert
 * with a ratio calibrated against CLOCK_MONOTONIC over the process's first 2 ms (within
 * ~0.002%, far finer than the lifetime histogram's buckets, two per power of two).
 * Without an invariant TSC we use clock_gettime, and so on every CPU but x86 (aarch64 and
 * others build the same file with the TSC part left out). Reading this clock is
 * async-signal-safe.
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
/* Calibration: at init, one TSC and one CLOCK_MONOTONIC reading; once the process has lived
 * CALIBRATE_NS, the ratio between them (measured over that span it is within ~0.002%). Until
 * then pp_now_ns reads CLOCK_MONOTONIC, so a short process never spins to calibrate (a 100 us
 * spin at every start was most of the shim's cost in a process that lives 1 ms). */
#define CALIBRATE_NS 2000000u
enum { TSC_UNSET, TSC_WAITING, TSC_CALIBRATING, TSC_NO }; /* TSC_UNSET: before init */
static atomic_int use_tsc;      /* 1 once the fields below are set */
static atomic_int tsc_state;
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
    mono0 = mono_ns();
    tsc0 = __rdtsc();
    atomic_store(&tsc_state, TSC_WAITING);
}

/* CLOCK_MONOTONIC, and the TSC's ratio to it once enough time has passed to measure it. */
__attribute__((noinline, cold)) static uint64_t now_calibrating(void)
{
    uint64_t m = mono_ns();
    int expected = TSC_WAITING;
    if (m - mono0 < CALIBRATE_NS ||
        !atomic_compare_exchange_strong(&tsc_state, &expected, TSC_CALIBRATING))
        return m;
    uint64_t t = __rdtsc();
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000007, &a, &b, &c, &d) || !(d & (1u << 8)) || t <= tsc0) {
        atomic_store(&tsc_state, TSC_NO); /* no invariant TSC: its rate may change with power states */
        return m;
    }
    ns_per_tick_q32 = (uint64_t)(((unsigned __int128)(m - mono0) << 32) / (t - tsc0));
    if (!ns_per_tick_q32) {
        atomic_store(&tsc_state, TSC_NO);
        return m;
    }
    tsc0 = t; /* from here on, mono0 + ticks since t: continuous with what we returned */
    mono0 = m;
    atomic_store_explicit(&use_tsc, 1, memory_order_release);
    return m;
}
#else
void pp_clock_init(void)
{
}
#endif

uint64_t pp_now_ns(void)
{
#if PP_HAVE_TSC
    if (PP_LIKELY(atomic_load_explicit(&use_tsc, memory_order_acquire))) {
        uint64_t t = __rdtsc();
        /* A thread that migrated may see a TSC a hair behind tsc0; never go back in time. */
        uint64_t ticks = t > tsc0 ? t - tsc0 : 0;
        return mono0 + (uint64_t)(((unsigned __int128)ticks * ns_per_tick_q32) >> 32);
    }
    if (atomic_load_explicit(&tsc_state, memory_order_relaxed) == TSC_WAITING)
        return now_calibrating();
#endif
    return mono_ns();
}
