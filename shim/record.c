/* record.c — what each hook records: the glue between the hooks and the tables.
 *
 * An allocation finds its stack (in site mode, the default, its site prefix: a remembered walk,
 * else a walk and the site cache or the stack table; with full stacks, the frame cache, else
 * an unwind and the stack table), enters the block in the side table and counts it in the
 * stack's statistics; a free takes the block out of the side table and books its lifetime on
 * the stack that allocated it. A realloc keeps its block attributed to the stack that created
 * it (a growth chain belongs to its origin), so "allocations" here means blocks created and
 * realloc calls are counted apart. Every function runs with the calling thread's busy flag set
 * (see thread.c), so an allocation made below us would be forwarded untracked, never recorded
 * into the tables we are updating.
 *
 * The hot path, for a call from a place seen before: pp_sitewalk_recall (pp_framecache_lookup
 * with full stacks; this thread's own memory, no lock), pp_live_insert (one shard's spinlock,
 * held for one probe), pp_stats_on_alloc (one lane's spinlock, held for a few additions); a
 * process with one thread takes neither lock (solo.c). None of them makes a system call,
 * allocates (except from the arena, on growth) or waits for anything but those short
 * spinlocks. The miss paths (find_stack, sample_full_stack) are out
 * of line and cold, and run on the shim's own stack (altstack.c) so that their buffers never
 * sit on the program's: they unwind with libunwind, intern the stack and, for a new stack
 * through code we have not mapped, rescan the module list (dl_iterate_phdr, which takes the
 * loader's lock, with none of ours held).
 */
#include <stdlib.h>

#include "shim.h"

/* The process-wide live bytes are one shared counter: updating it on every event from several
 * threads made both cores fight over its cache line (allocbench on 2 threads: 1.18 s -> 0.96 s
 * without it). So a single-threaded process updates it exactly, every time, and a threaded one
 * in batches of 64 events or 256 KiB per thread: its peak is then within threads x 256 KiB. */
#define PUBLISH_EVENTS 64
#define PUBLISH_BYTES (256 << 10)

static void note_process_bytes(struct pp_thread *t, int64_t delta)
{
    if (PP_LIKELY(pp_solo_enter())) {
        /* One thread (solo.c): plain additions, no locked instruction. */
        long long total = atomic_load_explicit(&pp_process.live_bytes, memory_order_relaxed) +
                          t->pending_bytes + delta;
        atomic_store_explicit(&pp_process.live_bytes, total, memory_order_relaxed);
        if (total > atomic_load_explicit(&pp_process.peak_live_bytes, memory_order_relaxed))
            atomic_store_explicit(&pp_process.peak_live_bytes, total, memory_order_relaxed);
        t->pending_bytes = 0;
        t->pending_events = 0;
        pp_solo_leave();
        return;
    }
    t->pending_bytes += delta;
    if (pp_thread_count() > 1 && ++t->pending_events < PUBLISH_EVENTS &&
        llabs(t->pending_bytes) < PUBLISH_BYTES)
        return;
    long long total = atomic_fetch_add_explicit(&pp_process.live_bytes, t->pending_bytes,
                                                memory_order_relaxed) + t->pending_bytes;
    t->pending_bytes = 0;
    t->pending_events = 0;
    long long peak = atomic_load_explicit(&pp_process.peak_live_bytes, memory_order_relaxed);
    while (total > peak && !atomic_compare_exchange_weak_explicit(&pp_process.peak_live_bytes,
                                                                  &peak, total,
                                                                  memory_order_relaxed,
                                                                  memory_order_relaxed))
        ;
}

/* The frame cache missed: unwind, intern, remember. Runs on the thread's own stack (altstack.c):
 * the ips buffer (about 2 KiB) and libunwind's frames (about 7 KiB) never touch the program's. */
static struct pp_stack *find_stack_slow(struct pp_thread *t, uintptr_t ret, uintptr_t cfa)
{
    uintptr_t ips[PP_UNWIND_MAX];
    int truncated, fresh;
    unsigned depth = pp_unwind_capture(ips, &truncated);
    struct pp_stack *s = pp_stack_intern(t, ips, depth, truncated, &fresh);
    if (PP_UNLIKELY(!s)) {
        pp_tracking_lost("no memory for the stack table");
        return NULL;
    }
    if (fresh) {
        /* A stack through code we have not mapped yet means something was dlopen'ed. */
        for (unsigned i = 0; i < depth; i++)
            if (!pp_modules_cover(ips[i])) {
                pp_modules_scan();
                break;
            }
    }
    pp_framecache_fill(t, ret, cfa, s, pp_stack_ips(s), depth);
    return s;
}

struct miss {
    struct pp_thread *t;
    uintptr_t ret, cfa;
    struct pp_stack *stack;
};

static void miss_on_altstack(void *arg)
{
    struct miss *m = arg;
    m->stack = find_stack_slow(m->t, m->ret, m->cfa);
}

/* Out of line and cold, so nothing of the miss path sits in the hot path's frame. */
__attribute__((noinline, cold)) static struct pp_stack *find_stack(struct pp_thread *t,
                                                                  uintptr_t ret, uintptr_t cfa)
{
    struct miss m = {t, ret, cfa, NULL};
    pp_altstack_run(t, miss_on_altstack, &m);
    return m.stack;
}

/* Site mode, an allocation picked for a full unwind: count its full stack under its site prefix
 * and check the walk against the unwinder. Returns the site prefix's stack, which is the one
 * libunwind's frames give when the walk disagreed. Runs on the thread's own stack (altstack.c),
 * like find_stack_slow. */
static struct pp_stack *sample_full_stack_slow(struct pp_thread *t, struct pp_stack *site,
                                               const uintptr_t *prefix, unsigned n)
{
    uintptr_t ips[PP_UNWIND_MAX];
    int truncated, fresh;
    unsigned depth = pp_unwind_capture(ips, &truncated);
    unsigned same = 0;
    while (same < n && same < depth && ips[same] == prefix[same])
        same++;
    if (same >= 1 && same < n) {
        /* The frame size learned for prefix[same - 1] led the walk astray (alloca?). */
        pp_sitewalk_distrust(t, prefix[same - 1]);
        unsigned want = pp_config.site_depth, m = depth < want ? depth : want;
        site = pp_stack_intern(t, ips, m, depth > m || truncated, &fresh);
        if (!site)
            return NULL;
    }
    struct pp_stack *full = pp_stack_intern(t, ips, depth, truncated, &fresh);
    if (!full)
        return site; /* the exact site figures go on; one sample is lost */
    if (fresh)
        for (unsigned i = 0; i < depth; i++)
            if (!pp_modules_cover(ips[i])) {
                pp_modules_scan(); /* a new stack through code dlopen'ed since */
                break;
            }
    pp_stacksample_add(pp_stack_id(full), pp_stack_id(site));
    return site;
}

struct sample {
    struct pp_thread *t;
    struct pp_stack *site;
    const uintptr_t *prefix;
    unsigned n;
};

static void sample_on_altstack(void *arg)
{
    struct sample *j = arg;
    j->site = sample_full_stack_slow(j->t, j->site, j->prefix, j->n);
}

/* Out of line and cold, so nothing of the sampling path sits in the hot path's frame. */
__attribute__((noinline, cold)) static struct pp_stack *sample_full_stack(
    struct pp_thread *t, struct pp_stack *site, const uintptr_t *prefix, unsigned n)
{
    struct sample j = {t, site, prefix, n};
    pp_altstack_run(t, sample_on_altstack, &j);
    return j.site;
}

/* The stack of site prefix ips[0..n): the thread's cache, else the stack table (then *fresh
 * is 1 for a prefix never seen). NULL on out-of-memory. */
static struct pp_stack *prefix_stack(struct pp_thread *t, const uintptr_t *ips, unsigned n,
                                     int *fresh)
{
    struct pp_stack *site = pp_sitecache_lookup(t, ips, n);
    if (PP_LIKELY(site != NULL))
        return site;
    site = pp_stack_intern(t, ips, n, n == pp_config.site_depth, fresh);
    if (PP_UNLIKELY(!site)) {
        pp_tracking_lost("no memory for the stack table");
        return NULL;
    }
    pp_sitecache_fill(t, ips, n, site);
    return site;
}

/* A thread without a walker (past its exit destructor, or out of memory) walks into a buffer
 * on the program's stack: out of line, so that the common path's frame has no such buffer. */
__attribute__((noinline, cold)) static struct pp_stack *walk_site_on_stack(struct pp_thread *t,
                                                                          uintptr_t ret,
                                                                          uintptr_t cfa,
                                                                          int *fresh)
{
    uintptr_t prefix[PP_SITE_DEPTH_MAX];
    unsigned n = pp_sitewalk(t, ret, cfa, prefix, pp_config.site_depth);
    return prefix_stack(t, prefix, n, fresh);
}

/* Site mode, a call whose walk is not remembered: walk, find the prefix's stack, remember. */
static struct pp_stack *walk_site(struct pp_thread *t, uintptr_t ret, uintptr_t cfa, int *fresh)
{
    unsigned n;
    const uintptr_t *prefix = pp_sitewalk_here(t, ret, cfa, pp_config.site_depth, &n);
    if (PP_UNLIKELY(!prefix))
        return walk_site_on_stack(t, ret, cfa, fresh);
    struct pp_stack *site = prefix_stack(t, prefix, n, fresh);
    if (site)
        pp_sitewalk_remember(t, site);
    return site;
}

/* Site mode: the stack counted exactly is the site prefix, the first site_depth frames; the
 * full stack is unwound for the first allocation of a prefix and then about 1 in stack_sample. */
static struct pp_stack *find_site(struct pp_thread *t, uintptr_t ret, uintptr_t cfa)
{
    int fresh = 0;
    struct pp_stack *site = pp_sitewalk_recall(t, ret, cfa);
    if (!site && !(site = walk_site(t, ret, cfa, &fresh)))
        return NULL;
    /* The prefix's stack holds the prefix: its ips are the words the walk found. */
    if (PP_UNLIKELY(fresh) || pp_stacksample_due(t))
        site = sample_full_stack(t, site, pp_stack_ips(site), pp_stack_depth(site));
    return site;
}

uint64_t pp_record_alloc(struct pp_thread *t, void *p, size_t size, uintptr_t ret,
                         uintptr_t cfa)
{
    pp_live_warm(p); /* its slot loads while the site is found */
    /* The block's place in the thread's sequence: pp_record_counts_alloc counted it already. */
    uint64_t seq = atomic_load_explicit(&t->seq, memory_order_relaxed) - 1;
    struct pp_stack *s;
    if (pp_config.site_depth) {
        if (!(s = find_site(t, ret, cfa)))
            return 0;
    } else {
        s = pp_framecache_lookup(t, ret, cfa);
        if (!s && !(s = find_stack(t, ret, cfa)))
            return 0;
    }
    uint32_t stack_id = pp_stack_id(s);
    uint64_t now = pp_now_ns();
    if (PP_UNLIKELY(!pp_live_insert(p, stack_id, (uint16_t)t->index, 0, size, now, seq))) {
        pp_tracking_lost("no memory for the live-block table");
        return 0;
    }
    pp_stats_on_alloc(stack_id, t->index, size);
    note_process_bytes(t, (int64_t)size);
    return now;
}

static uint64_t book_free(struct pp_thread *t, const struct pp_live *e, uintptr_t caller)
{
    uint64_t now = pp_now_ns();
    uint64_t lifetime_ns = now > e->time_ns ? now - e->time_ns : 0;
    /* Allocations the allocating thread made after this block, truncated to the 48 bits the
     * side table keeps. */
    uint64_t lifetime_allocs = 0;
    struct pp_thread *owner = pp_thread_at(e->thread);
    if (owner) {
        uint64_t now_seq = atomic_load_explicit(&owner->seq, memory_order_relaxed);
        lifetime_allocs = ((now_seq - e->seq - 1) & ((1ull << 48) - 1));
    }
    t->frees++;
    pp_stats_on_free(e->stack_id, e->thread, e->size, lifetime_ns, lifetime_allocs,
                     e->thread != (uint16_t)t->index, caller, e->realloced);
    note_process_bytes(t, -(int64_t)e->size);
    return now;
}

/* Takes p's entry out of the side table into *e; 0 when p is not tracked. A block that is not
 * tracked is a surprise in an exact run (allocated before we started, or inherited over fork),
 * counted as such; sampling leaves most blocks untracked on purpose. */
static int take_entry(const void *p, struct pp_live *e)
{
    if (pp_live_maybe_tracked(p) && pp_live_remove(p, e))
        return 1;
    if (pp_config.sample_every == 1)
        atomic_fetch_add_explicit(&pp_process.untracked_frees, 1, memory_order_relaxed);
    return 0;
}

uint64_t pp_record_free(struct pp_thread *t, void *p, uintptr_t caller)
{
    struct pp_live e;
    if (take_entry(p, &e))
        return book_free(t, &e, caller);
    if (pp_config.sample_every > 1)
        t->frees++; /* an unsampled block: the (exact) process totals still count its free */
    return 0;
}

int pp_record_realloc_begin(void *p, struct pp_live *old)
{
    return take_entry(p, old);
}

uint64_t pp_record_realloc_end(struct pp_thread *t, void *old_p, const struct pp_live *old,
                               int tracked, void *new_p, size_t new_size, uintptr_t caller)
{
    if (new_p || new_size == 0)
        t->calls[PP_CALL_REALLOC]++;
    if (!tracked)
        return 0; /* an untracked block stays untracked (take_entry counted it) */
    if (new_p) {
        if (!pp_live_insert(new_p, old->stack_id, old->thread, 1, new_size, old->time_ns,
                            old->seq)) {
            pp_tracking_lost("no memory for the live-block table");
            return 0;
        }
        pp_stats_on_realloc(old->stack_id, old->thread, old->size, new_size);
        note_process_bytes(t, (int64_t)(new_size - old->size));
    } else if (new_size == 0) {
        /* realloc(p, 0) freed p (glibc's behaviour). */
        return book_free(t, old, caller);
    } else {
        /* The realloc failed: p is untouched and still live. */
        pp_live_insert(old_p, old->stack_id, old->thread, old->realloced, old->size,
                       old->time_ns, old->seq);
    }
    return 0;
}
