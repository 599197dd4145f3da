/* shim.h — internal declarations of libpoolprobe.so, grouped by the file that defines them.
 *
 * Calls run one way, top to bottom; nothing below calls up (a callback handed down, like the
 * thread-exit destructor, is called by the C library, not by the file below):
 *
 *   entry    hooks.c (the exported allocation functions), exits.c (exec, _exit, abort),
 *            both calling into lifecycle.c (constructor, destructor, fork, thread exit,
 *            snapshots, the end of an image), never the reverse; lifecycle.c starts and
 *            stops watcher.c (a process sharing our memory that writes for an idle or dead
 *            program), which calls only the writer and the tables
 *   record   record.c (what a hook records; the hot path), writer.c (encodes the trace from
 *            plain copies the tables hand it, writes the file through sys.h, and keeps the
 *            snapshot schedule; cold)
 *   tables   framecache.c, altstack.c, unwind.c, validate.c, stacktable.c, stackstats.c,
 *            live.c, thread.c, modules.c, series.c
 *   state    state.c (process state, "tracking lost"), arena.c, config.c, clock.c, log.c,
 *            real.c
 *
 * Sections below go from the bottom up, so every declaration's callees come before it.
 *
 * Everything here is hidden (the build uses -fvisibility=hidden; shim/exports.map exports only
 * the allocation hooks, exits.c's functions and poolprobe_*). Unless a declaration says otherwise, a function:
 *   - never calls the host's malloc (our memory comes from arena.c, i.e. mmap);
 *   - is thread-safe;
 *   - is NOT async-signal-safe (it may spin on a lock another frame of the same thread holds
 *     only if a signal handler allocates while we are inside the shim — the per-thread busy
 *     flag in thread.c makes such nested calls bypass the shim instead).
 */
#ifndef POOLPROBE_SHIM_H
#define POOLPROBE_SHIM_H

#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "trace_format.h"

#define PP_HIDDEN __attribute__((visibility("hidden")))
#define PP_LIKELY(x) __builtin_expect(!!(x), 1)
#define PP_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- lock.h-style spinlock (used only for short, malloc-free critical sections) ---- */
typedef struct { atomic_int held; } pp_spinlock;
/* Set only by the watcher writing after the program died (watcher.c): a lock a killed thread
 * held is never released, so a wait gives up after a while and goes on without it. */
PP_HIDDEN extern atomic_int pp_locks_orphaned;
/* One step of waiting for another thread to move on (a lock's holder, solo.c's owner): after a
 * short spin the waiter yields its CPU, since with more threads than cores the other may have
 * been preempted, and spinning until the scheduler runs it again burns whole time slices (8
 * threads on 2 cores: 17x native CPU with pure spinning). 0 when the wait should give up: the
 * other was killed (pp_locks_orphaned) and will never move. */
static inline int pp_spin_backoff(unsigned *spins)
{
    if (++*spins < 100)
        __builtin_ia32_pause();
    else if (PP_UNLIKELY(atomic_load_explicit(&pp_locks_orphaned, memory_order_relaxed)) &&
             *spins > 2000)
        return 0;
    else
        sched_yield();
    return 1;
}
static inline void pp_spin_lock(pp_spinlock *l)
{
    for (unsigned spins = 0;;) {
        if (!atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
            return;
        while (atomic_load_explicit(&l->held, memory_order_relaxed))
            if (!pp_spin_backoff(&spins))
                return;
    }
}
static inline void pp_spin_unlock(pp_spinlock *l)
{
    atomic_store_explicit(&l->held, 0, memory_order_release);
}

/* ---- solo.c: while one thread uses the shim, its hot sections take no lock ---- */
struct pp_thread;
struct pp_solo {
    atomic_int multi;  /* 1: every hot section locks (more than one thread, or no membarrier) */
    atomic_int inside; /* the owner is in a bare hot section (written only by the owner) */
} __attribute__((aligned(64)));
PP_HIDDEN extern struct pp_solo pp_solo;
/* At start (t NULL) and in a forked child (t: the child's one state): solo when membarrier can
 * end it safely, and POOLPROBE_SOLO is not 0. */
PP_HIDDEN void pp_solo_start(struct pp_thread *t);
/* Ends solo for good: afterwards no hot section runs bare. Waits for the owner's bare section
 * to finish (as a lock waits: pp_spin_backoff). Async-signal-safe; the watcher calls it. */
PP_HIDDEN void pp_solo_end(void);
/* A thread state was made: the first one's thread becomes the owner, any later one ends solo. */
PP_HIDDEN void pp_solo_thread_created(struct pp_thread *t);
/* Before the writer or the fork handler reads the hot tables from a thread that may not be the
 * owner: ends solo unless the calling thread is the owner. */
PP_HIDDEN void pp_solo_enter_foreign(void);
/* A bare section of the owner: 1 when it may run without locks (then pp_solo_leave after it),
 * 0 when solo is over. A hot section is a few dozen instructions that never block: the side
 * table's shard, a stack's lane, the process totals. */
static inline int pp_solo_enter(void)
{
    if (PP_LIKELY(!atomic_load_explicit(&pp_solo.multi, memory_order_relaxed))) {
        atomic_store_explicit(&pp_solo.inside, 1, memory_order_relaxed);
        /* Only the compiler must keep the store before the load: pp_solo_end's membarrier
         * orders them for the processor. */
        atomic_signal_fence(memory_order_seq_cst);
        if (PP_LIKELY(!atomic_load_explicit(&pp_solo.multi, memory_order_relaxed)))
            return 1;
        atomic_store_explicit(&pp_solo.inside, 0, memory_order_release);
    }
    return 0;
}
static inline void pp_solo_leave(void)
{
    atomic_store_explicit(&pp_solo.inside, 0, memory_order_release);
}
/* A hot section behind lock l: returns 1 when it runs bare (pass it to pp_hot_unlock), 0 when
 * it took l. */
static inline int pp_hot_lock(pp_spinlock *l)
{
    if (pp_solo_enter())
        return 1;
    pp_spin_lock(l);
    return 0;
}
static inline void pp_hot_unlock(pp_spinlock *l, int bare)
{
    if (bare)
        pp_solo_leave();
    else
        pp_spin_unlock(l);
}

/* ---- log.c: the only way the shim talks to the user: one line on stderr, "poolprobe: " ---- */
/* Formats %s %d %u %lu %llu %zu %x %c only; writes with write(2). Async-signal-safe. Writes
 * nothing once fd 2 is no longer the stderr the process started with (a daemon that closed it
 * may have reused the number for a socket or a file of its own). */
PP_HIDDEN void pp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same into a caller buffer; returns length (truncates at cap-1, always NUL-terminates). */
PP_HIDDEN size_t pp_format(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parses digits of base (10 or 16, lower-case) at *p, before end; leaves *p after them. */
PP_HIDDEN uint64_t pp_parse_uint(const char **p, const char *end, unsigned base);
PP_HIDDEN void pp_log_init(void); /* remembers which file fd 2 is */

/* ---- config.c: settings read once from the environment at start ---- */
struct pp_config {
    const char *out;        /* POOLPROBE_OUT, default "trace.bin"; made absolute at start so
                               a program that changes directory still writes where it began */
    unsigned depth;         /* POOLPROBE_DEPTH, default 64, at most PP_MAX_DEPTH */
    uint64_t max_memory;    /* POOLPROBE_MAX_MEMORY_MB: cap on the shim's own memory */
    uint64_t interval_ns;   /* POOLPROBE_INTERVAL seconds (default 1, 0 = only at exit):
                               how often a snapshot trace is rewritten while running */
    uint32_t sample_every;  /* POOLPROBE_SAMPLE: record 1 allocation in N at random (1 = all) */
    uint64_t sample_seed;   /* POOLPROBE_SAMPLE_SEED: fixed seed for repeatable sampling (0 =
                               from the clock) */
    unsigned site_depth;    /* site mode: frames counted exactly per call (POOLPROBE_SITE_DEPTH,
                               default 4); 0 = POOLPROBE_STACKS=full, every call fully unwound */
    uint32_t stack_sample;  /* site mode: unwind about 1 allocation in N in full
                               (POOLPROBE_STACK_SAMPLE, default 256) */
    int watcher;            /* POOLPROBE_WATCHER (default 1; 0 = none): see watcher.c */
    int solo;               /* POOLPROBE_SOLO (default 1; 0 = always lock): see solo.c */
};
#define PP_SITE_DEPTH_MAX 8 /* the prefix buffer sits on the program's stack: keep it small */
#define PP_MAX_DEPTH 256
PP_HIDDEN extern struct pp_config pp_config;
PP_HIDDEN void pp_config_load(void);

/* ---- real.c: the next allocator in link order, and the bootstrap for dlsym's own calls ---- */
struct pp_real {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
};
PP_HIDDEN extern struct pp_real pp_real;
/* Resolves pp_real (idempotent). Returns 0 while a resolution is in progress on this thread
 * (the caller must use the bootstrap allocator), 1 once resolved. Aborts the process only if
 * malloc/free/calloc/realloc cannot be found: nothing can work without them. */
PP_HIDDEN int pp_real_resolve(void);
PP_HIDDEN void *pp_bootstrap_alloc(size_t size, size_t align);
PP_HIDDEN int pp_bootstrap_owns(const void *p);
PP_HIDDEN size_t pp_bootstrap_size(const void *p);

/* ---- state.c: the process's state, at the bottom so any layer may give up tracking ---- */
enum pp_state { PP_STATE_OFF = 0, PP_STATE_TRACKING = 1, PP_STATE_STOPPED = 2 };
PP_HIDDEN extern atomic_int pp_state;
struct pp_process {
    uint32_t pid, ppid;
    uint32_t flags;                 /* PP_PROC_F_* */
    uint64_t start_realtime_ns;
    uint64_t start_mono_ns;
    uint64_t process_start_realtime_ns; /* when the kernel started this process (exec keeps it) */
    atomic_ullong untracked_frees;
    atomic_ullong ops;              /* poolprobe_ops() */
    /* Live bytes and their peak (TOTALS). Exact while the process has one thread; with more,
     * each thread adds its changes in batches (see record.c). */
    atomic_llong live_bytes, peak_live_bytes;
    char *exe;                      /* arena */
    char *cmdline;                  /* arena; argv joined by NULs */
    size_t cmdline_len;
};
PP_HIDDEN extern struct pp_process pp_process;
/* The shim cannot go on tracking (out of memory): says so once, then every hook forwards.
 * Async-signal-safe; calls only pp_log. */
PP_HIDDEN void pp_tracking_lost(const char *why);

/* ---- arena.c: all of the shim's own memory; mmap-backed, capped by max_memory ---- */
/* Returns zeroed memory aligned to 16, or NULL when the cap is reached or mmap fails (the
 * caller then calls pp_tracking_lost). Sizes are rounded to size classes; pp_arena_free takes
 * the size that was asked for and recycles the block. */
PP_HIDDEN void *pp_arena_alloc(size_t size);
PP_HIDDEN void pp_arena_free(void *p, size_t size);
/* Large zeroed page mappings counted against the same cap (side table arrays). */
PP_HIDDEN void *pp_arena_map(size_t size);
PP_HIDDEN void pp_arena_unmap(void *p, size_t size);
PP_HIDDEN void pp_arena_lock_for_fork(void);
PP_HIDDEN void pp_arena_unlock_after_fork(void);

/* ---- clock.c ---- */
PP_HIDDEN void pp_clock_init(void);  /* before the first pp_now_ns() that matters */
PP_HIDDEN uint64_t pp_now_ns(void);  /* CLOCK_MONOTONIC nanoseconds (TSC-based when invariant) */
PP_HIDDEN uint64_t pp_realtime_ns(void); /* CLOCK_REALTIME nanoseconds, for the trace's dates */

/* ---- modules.c: the module map (path, addresses, build-id) for offline symbolization ---- */
/* Scans loaded objects (dl_iterate_phdr) and remembers any new one. */
PP_HIDDEN void pp_modules_scan(void);
/* 1 when ip lies inside a known module. */
PP_HIDDEN int pp_modules_cover(uintptr_t ip);
PP_HIDDEN int pp_modules_self_contains(uintptr_t ip); /* inside libpoolprobe.so itself */
PP_HIDDEN void pp_modules_init(void);
struct pp_module {
    uint64_t bias, lo, hi;
    char *path;
    unsigned char build_id[64];
    uint32_t build_id_len;
    struct pp_module *next;
};
PP_HIDDEN struct pp_module *pp_modules_list(void);
/* The GNU build-id note of a loaded object: its bytes (inside the object's own mapping) and
 * their count in *len; NULL when it has none. Reads memory only. */
struct dl_phdr_info;
PP_HIDDEN const unsigned char *pp_modules_build_id(const struct dl_phdr_info *info,
                                                   uint32_t *len);

/* ---- thread.c: per-thread state, reached through one initial-exec TLS pointer ---- */
struct pp_stack_ref;
struct pp_framecache;
struct pp_thread {
    uint32_t index;                 /* slot in pp_threads[], 16 bits in the side table */
    atomic_ullong seq;              /* allocations this thread has made (read by other threads) */
    uint64_t calls[PP_CALL_COUNT];
    uint64_t allocs, frees, alloc_bytes;
    struct pp_stack_ref *cache;     /* this thread's view of the stack table (stack.c) */
    struct pp_framecache *framecache; /* see framecache.c; NULL until the first fill */
    uint64_t rng;                   /* sampling: xorshift64 state, 0 until the first draw */
    uint64_t sample_skip;           /* sampling: allocations to leave out before the next one */
    int64_t pending_bytes;          /* live-bytes change not yet added to the process total */
    uint32_t pending_events;
    int framecache_failed;          /* no stack bounds: never cache on this thread */
    void *altstack;                 /* see altstack.c; NULL until the first deep call */
    unsigned altstack_id;           /* valgrind's name for it */
    int altstack_failed, on_altstack;
    int exiting;                    /* past its exit destructor: build no more caches */
    struct pp_sitewalk *sitewalk;   /* see sitewalk.c; NULL until the first walk */
    struct pp_sitecache *sitecache; /* see sitecache.c; NULL until the first fill */
    int sitewalk_failed;            /* no stack bounds: always unwind with libunwind */
    int32_t stack_countdown;        /* allocations until the next full unwind (stacksample.c) */
    uint64_t stack_rng;             /* its xorshift64 state */
    uintptr_t stack_lo, stack_hi;   /* this thread's stack (pp_thread_stack) */
    int stack_known;                /* 0 not asked yet, 1 known, -1 unknown */
};
#define PP_MAX_THREADS 65536
/* The calling thread's state (NULL until its first event) and its busy flag: set while the
 * thread is inside the shim, so that an allocation made below us is forwarded untracked. Read
 * inline by the hooks (initial-exec TLS: one %fs-relative load each). */
PP_HIDDEN extern __thread struct pp_thread *pp_thread_current;
PP_HIDDEN extern __thread int pp_thread_busy;
/* Cold: makes the calling thread's state (busy set); NULL when out of memory. */
PP_HIDDEN struct pp_thread *pp_thread_create_current(void);
/* Enter the shim from a hook: returns this thread's state with its busy flag set, or NULL when
 * the call must be forwarded untracked (nested call from inside the shim, tracking off). Inline:
 * a call here cost about 20 instructions per event of which this is 8 (callgrind, allocbench). */
static inline struct pp_thread *pp_thread_enter(void)
{
    if (PP_UNLIKELY(pp_thread_busy))
        return NULL;
    if (PP_UNLIKELY(atomic_load_explicit(&pp_state, memory_order_relaxed) != PP_STATE_TRACKING))
        return NULL;
    pp_thread_busy = 1;
    struct pp_thread *t = pp_thread_current;
    if (PP_UNLIKELY(!t) && !(t = pp_thread_create_current())) {
        pp_thread_busy = 0;
        return NULL;
    }
    return t;
}
static inline void pp_thread_leave(struct pp_thread *t)
{
    (void)t;
    pp_thread_busy = 0;
}
PP_HIDDEN struct pp_thread *pp_thread_at(uint32_t index);
/* Outside the hooks: sets this thread's busy flag; 0 when it was set already (we are inside
 * the shim, interrupted by a signal handler). pp_thread_self may be NULL. */
PP_HIDDEN int pp_thread_try_busy(void);
PP_HIDDEN void pp_thread_unbusy(void);
PP_HIDDEN struct pp_thread *pp_thread_self(void);
PP_HIDDEN uint32_t pp_thread_count(void);
/* The calling thread t's stack, [*lo, *hi); 0 when unknown. on_stack: an address on it (the
 * hook's CFA; the shim itself may be running on its own stack). Found once per thread, without the
 * program's heap (glibc's pthread_getattr_np reads the main thread's from /proc/self/maps with
 * stdio, whose buffers left blocks above the program's first ones and changed when glibc trims
 * its heap). */
PP_HIDDEN int pp_thread_stack(struct pp_thread *t, uintptr_t on_stack, uintptr_t *lo,
                              uintptr_t *hi);
/* Allocations plus frees recorded by every thread so far (racy reads: a hint, not a figure). */
PP_HIDDEN uint64_t pp_thread_events(void);
/* on_exit: called (busy) when a thread that entered the shim exits. */
PP_HIDDEN void pp_thread_init(void (*on_exit)(struct pp_thread *));
PP_HIDDEN void pp_thread_reset_after_fork(void);

/* ---- altstack.c: the shim's deep work on a stack of its own ---- */
/* Calls fn(arg) on t's own stack (mapped on first use; on the caller's stack if that fails or
 * t is already on it). libunwind started there walks on into the caller's frames. */
PP_HIDDEN void pp_altstack_run(struct pp_thread *t, void (*fn)(void *), void *arg);
PP_HIDDEN void pp_altstack_release(struct pp_thread *t);

/* ---- validate.c: libunwind's memory checks without a file descriptor ---- */
/* Points libunwind's pipe2 and syscall imports at ours (see validate.c). Call once, before the
 * first libunwind call; returns the number of import slots rewritten (0: libunwind keeps its
 * own pipe). */
PP_HIDDEN int pp_validate_init(void);

/* ---- unwind.c: capture the caller's stack (libunwind), the shim's own frames removed ---- */
/* Fills ips (room for PP_UNWIND_MAX), returns the depth; sets *truncated when the stack is
 * deeper than the configured limit. */
#define PP_UNWIND_MAX (PP_MAX_DEPTH + 16)
PP_HIDDEN unsigned pp_unwind_capture(uintptr_t *ips, int *truncated);
PP_HIDDEN void pp_unwind_init(void);

/* ---- framecache.c: the stack of a call seen before, without unwinding ---- */
/* ret is the hook's return address, cfa the caller's stack pointer before the call. Returns the
 * stack when every remembered return-address slot still matches; NULL to unwind. */
PP_HIDDEN struct pp_stack *pp_framecache_lookup(struct pp_thread *t, uintptr_t ret,
                                                uintptr_t cfa);
/* Remember that (ret, cfa) unwound to s (ips[0..depth) are its ips, kept alive by s). */
PP_HIDDEN void pp_framecache_fill(struct pp_thread *t, uintptr_t ret, uintptr_t cfa,
                                  struct pp_stack *s, const uintptr_t *ips, unsigned depth);
PP_HIDDEN void pp_framecache_release(struct pp_thread *t);

/* ---- sitewalk.c: the first return addresses of a call, from learned frame sizes ---- */
/* Fills out[0..want) (want <= PP_SITE_DEPTH_MAX) with the return addresses of the hook's caller
 * and its callers, out[0] = ret; returns how many (fewer when the stack ends). Reads only this
 * thread's stack; on an address it has not learned, unwinds with libunwind once. */
PP_HIDDEN unsigned pp_sitewalk(struct pp_thread *t, uintptr_t ret, uintptr_t cfa,
                               uintptr_t *out, unsigned want);
/* pp_sitewalk into a buffer of the thread's own (valid until its next walk), so that the
 * prefix never sits on the program's stack; NULL when the thread has no walker (no memory, or
 * past its exit destructor): then use pp_sitewalk. */
PP_HIDDEN const uintptr_t *pp_sitewalk_here(struct pp_thread *t, uintptr_t ret, uintptr_t cfa,
                                            unsigned want, unsigned *n);
/* The stack of the prefix pp_sitewalk would find for this call, when the last walk from the
 * same ret and cfa is remembered and the words it read are still on the stack where it read
 * them (the stack's ips are then the prefix); NULL to walk. Reads only words a walk from here
 * read before, inside this thread's stack. */
PP_HIDDEN struct pp_stack *pp_sitewalk_recall(struct pp_thread *t, uintptr_t ret, uintptr_t cfa);
/* The prefix of the last pp_sitewalk on this thread is stack s: remembered for a recall when
 * that walk went by learned frame sizes alone. Never allocates. */
PP_HIDDEN void pp_sitewalk_remember(struct pp_thread *t, struct pp_stack *s);
/* A full unwind disagreed with the walk just after ret: never trust ret's frame size again. */
PP_HIDDEN void pp_sitewalk_distrust(struct pp_thread *t, uintptr_t ret);
PP_HIDDEN void pp_sitewalk_release(struct pp_thread *t);

/* ---- sitecache.c: the stack of a site prefix seen before, by its words ---- */
/* NULL on a miss (then ask the stack table and fill). Never allocates; fill may (arena). */
PP_HIDDEN struct pp_stack *pp_sitecache_lookup(struct pp_thread *t, const uintptr_t *ips,
                                               unsigned n);
PP_HIDDEN void pp_sitecache_fill(struct pp_thread *t, const uintptr_t *ips, unsigned n,
                                 struct pp_stack *s);
PP_HIDDEN void pp_sitecache_release(struct pp_thread *t);

/* ---- stacksample.c: full stacks sampled under their site prefix (site mode) ---- */
/* 1 when this allocation's full stack should be unwound (about 1 in stack_sample). */
PP_HIDDEN int pp_stacksample_due(struct pp_thread *t);
/* One more sample of full stack `full` under site prefix `site` (stack ids). */
PP_HIDDEN void pp_stacksample_add(uint32_t full, uint32_t site);
/* Calls fn for every full stack sampled since start (or fork), under the table's lock. */
PP_HIDDEN void pp_stacksample_each(void (*fn)(void *ctx, uint32_t full, uint32_t site,
                                              uint64_t count), void *ctx);
PP_HIDDEN void pp_stacksample_reset_after_fork(void);

/* ---- stacktable.c: each distinct call stack interned once (uthash), then named by id ---- */
struct pp_stack;
#define PP_MAX_STACKS (1u << 24) /* the side table keeps 24 bits of stack id */
/* The stack for these ips: from the thread's view, else the global table (inserting it; then
 * *fresh is 1). NULL on out-of-memory. Takes the table's spinlock only on a view miss. */
PP_HIDDEN struct pp_stack *pp_stack_intern(struct pp_thread *t, const uintptr_t *ips,
                                           unsigned depth, int truncated, int *fresh);
PP_HIDDEN const uintptr_t *pp_stack_ips(const struct pp_stack *s);
PP_HIDDEN struct pp_stack *pp_stack_by_id(uint32_t id);
PP_HIDDEN uint32_t pp_stack_id(const struct pp_stack *s);
PP_HIDDEN unsigned pp_stack_depth(const struct pp_stack *s); /* its ips */
PP_HIDDEN uint32_t pp_stack_count(void);
/* For the writer: one stack's identity (it never changes once interned). */
struct pp_stack_view {
    uint32_t id;
    uint16_t depth, flags;
    const uintptr_t *ips;
};
PP_HIDDEN void pp_stack_view(const struct pp_stack *s, struct pp_stack_view *v);
PP_HIDDEN void pp_stack_cache_clear(struct pp_thread *t);
PP_HIDDEN void pp_stack_lock_for_fork(void);
PP_HIDDEN void pp_stack_unlock_after_fork(void);
PP_HIDDEN void pp_stack_child_after_fork(void); /* unlock, and do not rehash for a while */

/* ---- stackstats.c: what is counted per stack, by stack id ---- */
#define PP_EXACT_VALUES 8
#define PP_POOL_LEVELS 13 /* what-if free lists of capacity 1, 2, 4 ... 4096 */
#define PP_FREE_CALLERS 4
/* Up to PP_EXACT_VALUES distinct values kept exactly, then PP_SIZE_BUCKETS log-linear buckets. */
struct pp_value_hist {
    uint8_t nexact;
    uint64_t value[PP_EXACT_VALUES], count[PP_EXACT_VALUES];
    uint64_t *buckets; /* NULL while the values fit */
};
struct pp_free_caller {
    uintptr_t addr;
    uint64_t count;
};
/* A stack's counters as a snapshot hands them to the writer (its lanes summed); the lanes keep
 * the same counters in smaller forms (stackstats.c). */
struct pp_aggregate {
    uint64_t allocs, frees, alloc_bytes, min_size, max_size;
    uint64_t live_bytes, peak_live, peak_live_bytes; /* blocks live: allocs - frees */
    uint64_t cross_thread_frees, realloc_calls, realloc_grows, chains_freed, lifetime_ns_sum;
    struct pp_free_caller free_callers[PP_FREE_CALLERS];
    uint64_t other_free_callers;
    uint64_t pool_hits[PP_POOL_LEVELS]; /* worked out from the misses a lane counts */
    uint64_t lifetime_ns[PP_LIFETIME_NS_BUCKETS];
    uint64_t lifetime_allocs[PP_LIFETIME_ALLOCS_BUCKETS];
    /* Per thread (PP_REC_STACK_THREADS): which threads allocated here (bit thread index % 64)
     * and the most blocks one thread had live at once. */
    uint64_t thread_mask, peak_live_per_thread;
};
/* thread: index of the thread that allocated the block (it picks the stack's lane). Each takes
 * one lane's spinlock for a few additions; on_alloc makes the id's entry on its first event. */
PP_HIDDEN void pp_stats_on_alloc(uint32_t stack_id, uint32_t thread, uint64_t size);
PP_HIDDEN void pp_stats_on_free(uint32_t stack_id, uint32_t thread, uint64_t size,
                                uint64_t lifetime_ns, uint64_t lifetime_allocs,
                                int cross_thread, uintptr_t free_caller, int was_realloced);
PP_HIDDEN void pp_stats_on_realloc(uint32_t stack_id, uint32_t thread, uint64_t old_size,
                                   uint64_t new_size);
/* A plain, consistent copy of one stack's counters (its lanes summed), for the writer. */
struct pp_stats_snapshot {
    struct pp_aggregate agg;
    struct pp_value_hist size, chain_final; /* buckets point into the arrays below */
    uint64_t size_buckets[PP_SIZE_BUCKETS], chain_buckets[PP_SIZE_BUCKETS];
};
/* Fills *d; returns 0 when the stack has nothing to say (no allocation, no free). */
PP_HIDDEN int pp_stats_snapshot(uint32_t stack_id, struct pp_stats_snapshot *d);
/* 1 when stack_id had an event in this process (since start, or since fork for a child). */
PP_HIDDEN int pp_stats_active(uint32_t stack_id);
PP_HIDDEN void pp_stats_reset_after_fork(void); /* child: zero every aggregate */

/* ---- pools.c: the program's own pools, counted through include/poolprobe.h's markers ---- */
#define PP_MAX_POOLS 64
struct pp_pool_counts {
    char name[64];
    uint64_t gets, hits, misses, puts;
};
/* Copies up to max named pools into out; returns how many. */
PP_HIDDEN uint32_t pp_pools_snapshot(struct pp_pool_counts *out, uint32_t max);

/* ---- live.c: side table from live pointer to where and when it was allocated ---- */
struct pp_live {
    uint32_t stack_id;
    uint16_t thread;
    uint8_t realloced;
    uint64_t size;
    uint64_t time_ns;
    uint64_t seq;
};
/* Enters p with the fields of a struct pp_live (passed one by one: a struct would sit in the
 * hot path's frame, on the program's stack). Returns 0 on out-of-memory. A stale entry for the
 * same address (a free we never saw) is replaced. */
PP_HIDDEN int pp_live_insert(const void *p, uint32_t stack_id, uint16_t thread, int realloced,
                             uint64_t size, uint64_t time_ns, uint64_t seq);
/* Starts loading p's slot into the cache once the table has outgrown the caches: then every
 * event misses on it (python3: the side table was a quarter of the run, most of it waiting for
 * memory), and the hook has other work to do before its probe. */
PP_HIDDEN extern int pp_live_big;
PP_HIDDEN void pp_live_prefetch(const void *p);
static inline void pp_live_warm(const void *p)
{
    if (__atomic_load_n(&pp_live_big, __ATOMIC_RELAXED))
        pp_live_prefetch(p);
}
/* Removes p's entry into *e; 0 if p is not tracked. */
PP_HIDDEN int pp_live_remove(const void *p, struct pp_live *e);
/* The hash of a block address: its shard, its home slot and its filter counter. */
static inline uint64_t pp_live_hash(uintptr_t p)
{
    return (uint64_t)(p >> 4) * 0x9e3779b97f4a7c15ull;
}
/* Sampling mode: a counting filter over addresses that lets most frees of unsampled blocks skip
 * the table (NULL when not sampling: every free probes). Inline for the hooks' free. */
#define PP_LIVE_FILTER_SLOTS (1u << 20)
PP_HIDDEN extern _Atomic(unsigned char) *pp_live_filter;
PP_HIDDEN void pp_live_filter_init(void);
static inline _Atomic(unsigned char) *pp_live_filter_slot(uint64_t h)
{
    return &pp_live_filter[(h >> 8) & (PP_LIVE_FILTER_SLOTS - 1)];
}
static inline int pp_live_maybe_tracked(const void *p) /* 0 = certainly not in the table */
{
    return !pp_live_filter ||
           atomic_load_explicit(pp_live_filter_slot(pp_live_hash((uintptr_t)p)),
                                memory_order_relaxed);
}
PP_HIDDEN void pp_live_lock_for_fork(void);
PP_HIDDEN void pp_live_unlock_after_fork(void);
PP_HIDDEN void pp_live_reset_after_fork(void);

/* ---- series.c: allocations over time, one point per trace write (SERIES record) ---- */
#define PP_SERIES_POINTS 64 /* points kept; when full, every other one is dropped */
#define PP_SERIES_STACKS 8  /* busiest stacks kept per point */
struct pp_series_stack {
    uint32_t id;
    uint64_t allocs, live_bytes;
};
struct pp_series_point {
    uint64_t t_ns;              /* since the process started */
    uint64_t allocs, live_bytes; /* summed over every stack */
    unsigned nstacks;
    struct pp_series_stack stacks[PP_SERIES_STACKS]; /* most allocations first */
};
struct pp_series {
    unsigned npoints;
    struct pp_series_point points[PP_SERIES_POINTS];
};
/* Take a point: begin, then every stack's cumulative counts, then end, which returns the whole
 * series to encode. Writer only (one at a time); no allocation. */
PP_HIDDEN void pp_series_begin(uint64_t t_ns);
PP_HIDDEN void pp_series_stack(uint32_t id, uint64_t allocs, uint64_t live_bytes);
PP_HIDDEN const struct pp_series *pp_series_end(void);

/* ---- writer.c: the trace file ---- */
/* Writes the trace (snapshot = still running). Never clobbers a file that is not a trace.
 * rescan_modules: look for newly loaded modules first (dl_iterate_phdr, the loader's lock);
 * every module in a recorded stack is already known, so the writes at the end of an image
 * (exec, _exit, abort, possibly in a forked child) skip it. */
PP_HIDDEN void pp_write_trace(int snapshot, int rescan_modules);
/* Chooses this image's file (see README "Which file a process writes"): once at start, again
 * in a forked child (where it also frees the writer a parent thread may have held). An image
 * exec'd by an earlier image of the same process moves that image's file aside. */
PP_HIDDEN void pp_writer_choose_path(void);
/* The watcher's write (watcher.c): no TLS, no errno, no message, no module rescan. A snapshot
 * gives way to any write in progress (returns 0) and is not written once tracking is off;
 * after_death takes the writer from the dead thread that may hold it and writes the final
 * trace. */
PP_HIDDEN int pp_write_trace_watcher(int after_death);
/* Allocations plus frees in the last trace encoded; *at_ns: when (pp_now_ns; 0 = never). */
PP_HIDDEN uint64_t pp_writer_last_write(uint64_t *at_ns);
/* The snapshot schedule, shared by the hooks and the watcher. pp_snapshot_last_ns is when the
 * last snapshot began (or the process started); a snapshot is due POOLPROBE_INTERVAL after it.
 * claim: 1 when the caller won a due snapshot and must write it (tracking still on);
 * written: after it, pushes the next one back so snapshots take under 5% of the run. */
PP_HIDDEN extern atomic_ullong pp_snapshot_last_ns;
PP_HIDDEN int pp_snapshot_claim(uint64_t now_ns);
PP_HIDDEN void pp_snapshot_written(uint64_t began_ns);
static inline int pp_snapshot_due(uint64_t now_ns)
{
    uint64_t last = atomic_load_explicit(&pp_snapshot_last_ns, memory_order_relaxed);
    /* Signed: the last one may be set ahead of now (see pp_snapshot_written). */
    return pp_config.interval_ns && (int64_t)(now_ns - last) >= (int64_t)pp_config.interval_ns;
}

/* ---- watcher.c: a process sharing our memory that writes while the program idles or after
 * it dies (see watcher.c for what the program can see of it) ---- */
/* Starts it (once; nothing when POOLPROBE_INTERVAL=0, POOLPROBE_WATCHER=0, under valgrind or
 * seccomp). */
PP_HIDDEN void pp_watcher_start(void);
/* 1 when the next recorded event should call pp_watcher_start (a process that has recorded
 * nothing yet: at start, in a forked child, after a failed exec). */
PP_HIDDEN extern atomic_int pp_watcher_wanted;
/* Before an exec: stops it and reaps it (it would keep the old image's memory alive). */
PP_HIDDEN void pp_watcher_stop(void);
/* After the final trace is written at exit: stops it and reaps it, so the process ends as it
 * would natively (its memory freed by its own exit, nothing left for init to reap). Nothing in
 * a vfork child. */
PP_HIDDEN void pp_watcher_end(void);
/* In a forked child: the parent's watcher is not ours; start one at the first event. */
PP_HIDDEN void pp_watcher_forget_after_fork(void);

/* ---- sample.c: POOLPROBE_SAMPLE's 1-in-N draw ---- */
/* When the thread has no allocation left to skip: 1 to record this one; draws the next gap
 * (seeding the thread's generator on its first call). */
PP_HIDDEN int pp_sample_due(struct pp_thread *t);

/* ---- record.c: what a hook records (the logic hooks.c must not hold) ---- */
/* Each returns the event's time (pp_now_ns) when it recorded something the snapshot clock
 * should see, else 0. ret, cfa: the hook's return address and its caller's stack pointer (see
 * framecache.c). */
/* An allocation or free is first counted in the thread's process totals (exact in every mode),
 * inline in the hook: that is all sampling does for the events it leaves out, so those cost a
 * few instructions and no call (and no errno to save). Each returns 1 when the event is to be
 * recorded: then the hook calls pp_record_alloc or pp_record_free. */
static inline int pp_record_counts_alloc(struct pp_thread *t, size_t size, enum pp_call call)
{
    t->calls[call]++;
    t->allocs++;
    t->alloc_bytes += size;
    /* Only this thread writes its sequence; others read it (relaxed) for lifetimes. */
    uint64_t seq = atomic_load_explicit(&t->seq, memory_order_relaxed);
    atomic_store_explicit(&t->seq, seq + 1, memory_order_relaxed);
    if (PP_LIKELY(pp_config.sample_every == 1))
        return 1;
    if (PP_LIKELY(t->sample_skip)) {
        t->sample_skip--;
        return 0;
    }
    return pp_sample_due(t);
}
static inline int pp_record_counts_free(struct pp_thread *t, const void *p)
{
    t->calls[PP_CALL_FREE]++;
    if (PP_LIKELY(pp_config.sample_every == 1) || pp_live_maybe_tracked(p)) {
        pp_live_warm(p);
        return 1;
    }
    t->frees++; /* a block never sampled: certainly not in the side table */
    return 0;
}
/* After pp_record_counts_alloc said 1 (the thread's sequence already counts this block). */
PP_HIDDEN uint64_t pp_record_alloc(struct pp_thread *t, void *p, size_t size, uintptr_t ret,
                                   uintptr_t cfa);
/* After pp_record_counts_free said 1. */
PP_HIDDEN uint64_t pp_record_free(struct pp_thread *t, void *p, uintptr_t caller);
/* Realloc in three steps so the old entry leaves the table before the real realloc frees it. */
PP_HIDDEN int pp_record_realloc_begin(void *p, struct pp_live *old);
PP_HIDDEN uint64_t pp_record_realloc_end(struct pp_thread *t, void *old_p,
                                         const struct pp_live *old, int tracked, void *new_p,
                                         size_t new_size, uintptr_t caller);

/* ---- lifecycle.c: start, fork, thread exit, exit, snapshots ---- */
PP_HIDDEN void pp_start(void);
/* For hooks: 1 once the real allocator is known (starting the shim if needed); 0 while dlsym
 * itself is allocating on this thread, when the hook must use the bootstrap allocator. */
PP_HIDDEN int pp_ensure_started(void);
/* Rewrites the trace as a snapshot when POOLPROBE_INTERVAL has passed since the last one, so a
 * process killed by SIGKILL or the OOM killer leaves all but its last interval; starts the
 * watcher when one is wanted. Called from the hooks, busy, with no shim lock held, with the time
 * record.c returned (0: does nothing). The checks are inline: a call that did nothing cost
 * about 15 instructions per event (callgrind, allocbench). */
PP_HIDDEN void pp_snapshot_or_watch(struct pp_thread *t, uint64_t now_ns);
static inline void pp_maybe_snapshot(struct pp_thread *t, uint64_t now_ns)
{
    if (now_ns && (PP_UNLIKELY(atomic_load_explicit(&pp_watcher_wanted, memory_order_relaxed)) ||
                   PP_UNLIKELY(pp_snapshot_due(now_ns))))
        pp_snapshot_or_watch(t, now_ns);
}
/* The image ends without our destructor (exits.c): writes the final trace unless this is a
 * vfork child, a handler that interrupted the shim, or an image that recorded nothing (before
 * an exec; at an end, unless it is the first traced process). _exit stops tracking for good,
 * and stops and reaps the watcher; after exec or abort tracking goes on if the image survives
 * (a failed exec, a SIGABRT handler that returns). */
enum pp_image_end { PP_END_EXEC, PP_END_EXIT, PP_END_ABORT };
PP_HIDDEN void pp_image_ends(enum pp_image_end how);

/* ---- exits.c: exec, _exit, _Exit, abort (exported): the final trace first ---- */
PP_HIDDEN void pp_exits_init(void); /* at start: finds the real functions */

#endif
