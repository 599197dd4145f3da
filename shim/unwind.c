/* unwind.c — the caller's stack, captured with libunwind's fast path.
 *
 * unw_backtrace() walks with libunwind's per-thread frame cache (no locks after warm-up). We
 * ask for the configured depth plus room for our own frames, then drop the leading frames that
 * lie inside libpoolprobe.so, so ip[0] is the return address in the function that called the
 * allocator and stacks do not differ by which hook was entered.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <string.h>

#include "shim.h"

#define OWN_FRAMES_MAX 16
_Static_assert(PP_UNWIND_MAX >= PP_MAX_DEPTH + OWN_FRAMES_MAX, "room for our own frames");

void pp_unwind_init(void)
{
    pp_validate_init(); /* before libunwind initialises and would make its pipe */
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

/* One buffer: libunwind fills ips, then our own leading frames are shifted out in place (a
 * second buffer would double the miss path's stack use). */
unsigned pp_unwind_capture(uintptr_t *ips, int *truncated)
{
    int want = (int)pp_config.depth + OWN_FRAMES_MAX;
    int n = unw_backtrace((void **)ips, want);
    int skip = 0;
    while (skip < n && pp_modules_self_contains(ips[skip]))
        skip++;
    int depth = n - skip;
    *truncated = 0;
    if (depth > (int)pp_config.depth) {
        depth = (int)pp_config.depth;
        *truncated = 1;
    } else if (n == want) {
        *truncated = 1;
    }
    if (depth < 0)
        depth = 0;
    if (skip)
        memmove(ips, ips + skip, (size_t)depth * sizeof *ips);
    return (unsigned)depth;
}
