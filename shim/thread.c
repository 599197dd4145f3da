/* thread.c — per-thread state: the busy flag that keeps us out of our own hooks, the thread's
 * allocation sequence number (the clock of the deterministic lifetime), its call counters and
 * its private view of the stack table.
 *
 * Reached through initial-exec TLS, which needs no allocation on first touch. States live in
 * the arena and are never freed: blocks a thread allocated may be freed after it exits, and
 * their lifetime in allocations is read from its final sequence number. A thread-exit key
 * destructor (lifecycle.c's, passed in at init) gives the thread's caches back to the arena.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>

#include "shim.h"

#define TLS __attribute__((tls_model("initial-exec")))
static __thread struct pp_thread *self TLS;
static __thread int busy TLS;

static struct pp_thread **threads; /* PP_MAX_THREADS slots, mapped at init */
static atomic_uint next_index;
static pthread_key_t exit_key;
static int exit_key_ok;
static void (*exit_callback)(struct pp_thread *);

static void on_thread_exit(void *arg)
{
    busy++;
    exit_callback(arg);
    busy--;
}

/* Cold: once per thread. Kept out of line so the enter path stays a few instructions. */
__attribute__((noinline, cold)) static struct pp_thread *create(void)
{
    struct pp_thread *t = threads ? pp_arena_alloc(sizeof *t) : NULL;
    if (!t) {
        pp_tracking_lost("no memory for a thread's state");
        return NULL;
    }
    /* Past 65536 threads, slots are reused: lifetimes in allocations of blocks from the
     * thread that had the slot before become approximate (documented in the README). */
    t->index = atomic_fetch_add(&next_index, 1) % PP_MAX_THREADS;
    threads[t->index] = t;
    self = t;
    if (exit_key_ok)
        pthread_setspecific(exit_key, t); /* may calloc: we are busy, so it is forwarded */
    return t;
}

struct pp_thread *pp_thread_enter(void)
{
    if (PP_UNLIKELY(busy))
        return NULL;
    if (PP_UNLIKELY(atomic_load_explicit(&pp_state, memory_order_relaxed) != PP_STATE_TRACKING))
        return NULL;
    busy = 1;
    struct pp_thread *t = self;
    if (PP_UNLIKELY(!t) && !(t = create())) {
        busy = 0;
        return NULL;
    }
    return t;
}

void pp_thread_leave(struct pp_thread *t)
{
    (void)t;
    busy = 0;
}

int pp_thread_try_busy(void)
{
    if (busy)
        return 0;
    busy = 1;
    return 1;
}

void pp_thread_unbusy(void)
{
    busy = 0;
}

struct pp_thread *pp_thread_self(void)
{
    return self;
}

struct pp_thread *pp_thread_at(uint32_t index)
{
    return index < PP_MAX_THREADS ? threads[index] : NULL;
}

uint32_t pp_thread_count(void)
{
    return atomic_load(&next_index);
}

uint64_t pp_thread_events(void)
{
    uint64_t events = 0;
    uint32_t n = pp_thread_count();
    for (uint32_t i = 0; i < n && i < PP_MAX_THREADS; i++) {
        struct pp_thread *t = threads ? threads[i] : NULL;
        if (t)
            events += t->allocs + t->frees;
    }
    return events;
}

void pp_thread_init(void (*on_exit)(struct pp_thread *))
{
    busy++;
    exit_callback = on_exit;
    threads = pp_arena_map(PP_MAX_THREADS * sizeof *threads);
    if (pthread_key_create(&exit_key, on_thread_exit) == 0)
        exit_key_ok = 1;
    busy--;
}

/* In a forked child only the forking thread exists; it keeps its state (and its index). */
void pp_thread_reset_after_fork(void)
{
    struct pp_thread *t = self;
    /* Only the slots handed out: reading all 64 Ki of them faulted in 128 pages per fork. */
    uint32_t used = atomic_exchange(&next_index, 0);
    if (!threads)
        return; /* tracking never started: there is nothing to reset */
    for (uint32_t i = 0; i < used && i < PP_MAX_THREADS; i++)
        if (threads[i])
            threads[i] = NULL;
    if (t) {
        t->index = atomic_fetch_add(&next_index, 1);
        threads[t->index] = t;
        for (int c = 0; c < PP_CALL_COUNT; c++)
            t->calls[c] = 0;
        t->allocs = t->frees = t->alloc_bytes = 0;
    }
}
