/* state.c — the bottom of the shim: the process's state and "tracking lost".
 *
 * Everything above may read and update what is here; nothing here calls anything above (only
 * log.c, to say once that tracking stopped). Keeping it at the bottom is what lets any layer
 * give up on tracking without reaching back up into lifecycle.c.
 */
#include "shim.h"

atomic_int pp_state = PP_STATE_OFF;
atomic_int pp_locks_orphaned;
struct pp_process pp_process;

void pp_tracking_lost(const char *why)
{
    int expected = PP_STATE_TRACKING;
    if (atomic_compare_exchange_strong(&pp_state, &expected, PP_STATE_STOPPED)) {
        pp_process.flags |= PP_PROC_F_TRACKING_LOST;
        pp_log("%s (limit POOLPROBE_MAX_MEMORY_MB=%llu); tracking stops here, the program "
               "runs on and the trace covers what came before",
               why, (unsigned long long)(pp_config.max_memory >> 20));
    }
}
