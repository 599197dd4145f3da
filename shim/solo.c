/* solo.c — while one thread uses the shim, its hot sections run without their locks.
 *
 * Every recorded event takes the lock of a side-table shard and of a stack's lane and adds to
 * the process totals atomically: on a single-threaded program (most of them) each of those
 * locked instructions is uncontended and still costs 6-15 ns here, about 40% of what the shim
 * added to a malloc/free pair on allocbench (timed with the locks removed). So a process starts
 * solo: the one thread that has a shim state (the owner) runs those sections bare.
 *
 * The end of solo is the hard part. A second thread may ask for a state, or a thread without
 * one (exit() on another thread, a fork from it) or the watcher may want to read the tables,
 * while the owner is inside a bare section. The owner marks each section with one plain store
 * (pp_solo.inside), then checks pp_solo.multi; whoever ends solo sets multi, then waits until
 * inside is clear. On x86 the owner's store may still sit in its store buffer when it reads
 * multi, so both could miss each other; membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) makes
 * every thread of the process pass a full barrier between the ender's store and its read: then
 * either the owner sees multi and takes the lock, or the ender sees inside and waits (the
 * asymmetric fence: the cost is on the rare side, a system call once per process). Without
 * membarrier (an old kernel, seccomp, valgrind) a process is never solo. Solo does not come
 * back once ended, except in a forked child, which has one thread again.
 */
#define _GNU_SOURCE
#include <linux/membarrier.h>

#include "shim.h"
#include "sys.h"

struct pp_solo pp_solo = {.multi = 1}; /* not solo until pp_solo_start says membarrier works */
static struct pp_thread *_Atomic owner; /* the state whose thread runs bare; NULL: not chosen */

void pp_solo_start(struct pp_thread *t)
{
    int ok = pp_syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0, 0, 0,
                        0) == 0;
    atomic_store(&owner, t);
    atomic_store(&pp_solo.inside, 0);
    atomic_store(&pp_solo.multi, !ok || !pp_config.solo);
}

void pp_solo_end(void)
{
    if (atomic_load_explicit(&pp_solo.multi, memory_order_relaxed))
        return;
    atomic_store(&pp_solo.multi, 1);
    pp_syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0, 0, 0, 0);
    /* The owner's bare section is a few dozen instructions, unless it was preempted. A killed
     * owner never leaves it (the watcher writing after the death): the backoff gives up then. */
    for (unsigned spins = 0; atomic_load_explicit(&pp_solo.inside, memory_order_acquire);)
        if (!pp_spin_backoff(&spins))
            break;
}

void pp_solo_thread_created(struct pp_thread *t)
{
    struct pp_thread *none = NULL;
    if (!atomic_compare_exchange_strong(&owner, &none, t))
        pp_solo_end(); /* a second thread: everybody locks from now on */
}

void pp_solo_enter_foreign(void)
{
    if (!atomic_load_explicit(&pp_solo.multi, memory_order_relaxed) &&
        pp_thread_current != atomic_load(&owner))
        pp_solo_end();
}
