/* unwind.c — the caller's stack, captured with libunwind's fast path.
 *
 * unw_backtrace() walks with libunwind's per-thread frame cache (no locks after warm-up). We
 * ask for the configured depth plus room for our own frames, then drop the leading frames that
 * lie inside libpoolprobe.so, so ip[0] is the return address in the function that called the
 * allocator and stacks do not differ by which hook was entered.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "shim.h"

#define OWN_FRAMES_MAX 16

void pp_unwind_init(void)
{
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

unsigned pp_unwind_capture(uintptr_t *ips, int *truncated)
{
    void *raw[PP_MAX_DEPTH + OWN_FRAMES_MAX];
    int want = (int)pp_config.depth + OWN_FRAMES_MAX;
    int n = unw_backtrace(raw, want);
    int skip = 0;
    while (skip < n && pp_modules_self_contains((uintptr_t)raw[skip]))
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
    for (int i = 0; i < depth; i++)
        ips[i] = (uintptr_t)raw[skip + i];
    return (unsigned)depth;
}
