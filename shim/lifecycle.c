/* lifecycle.c — the shim's life inside the host: start, fork, thread exit, process exit.
 *
 * Together with hooks.c this is the top of the shim: every callback the C library makes into
 * us (constructor, destructor, atfork handlers, the thread-exit key destructor) lands here, and
 * from here calls go down only: to the writer, to the tables' fork and reset functions, to
 * state.c. Start happens at the first allocation or in our constructor, whichever comes first.
 * The trace is written by our destructor (exit() and return from main; the preloaded library's
 * destructor runs after the program's own), by a forked child at its own exit, and as a
 * snapshot once per POOLPROBE_INTERVAL by the hook that notices the interval is over (or, when
 * the program is quiet or dead, by the watcher this file starts: watcher.c).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../include/poolprobe.h"
#include "shim.h"
#include "try.h"

static atomic_int start_state; /* 0 not started, 1 starting, 2 done */

/* Reads a whole small /proc file into arena memory; returns its length (0 on failure). */
static size_t slurp(const char *path, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t cap = 4096, len = 0;
    char *buf = pp_arena_alloc(cap);
    while (buf) {
        if (len == cap) {
            char *bigger = pp_arena_alloc(cap * 2);
            if (bigger)
                memcpy(bigger, buf, len);
            pp_arena_free(buf, cap);
            buf = bigger;
            cap *= 2;
            if (!buf)
                break;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    *out = buf;
    return buf ? len : 0;
}

/* 1 when our parent process has libpoolprobe mapped: we were exec'd (or spawned) by a traced
 * process that passed LD_PRELOAD on, so we must not take its trace file name. Reads
 * /proc/PPID/maps in chunks; a match split across two chunks is caught by the overlap. */
static int parent_is_traced(void)
{
    char path[64];
    pp_format(path, sizeof path, "/proc/%u/maps", pp_process.ppid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    static const char needle[] = "libpoolprobe";
    const size_t nlen = sizeof needle - 1;
    char buf[8192];
    size_t keep = 0;
    int found = 0;
    for (;;) {
        ssize_t n = read(fd, buf + keep, sizeof buf - keep);
        if (n <= 0)
            break;
        size_t len = keep + (size_t)n;
        if (memmem(buf, len, needle, nlen)) {
            found = 1;
            break;
        }
        keep = len < nlen ? len : nlen - 1;
        memmove(buf, buf + len - keep, keep);
    }
    close(fd);
    return found;
}

/* The thread-exit key destructor (thread.c registers it): gives the thread's caches back. */
static void on_thread_exit(struct pp_thread *t)
{
    /* Later destructors of this thread may still allocate: they are recorded, but must not
     * rebuild the caches we free here (nothing would free them again). */
    t->exiting = 1;
    pp_stack_cache_clear(t);
    pp_framecache_release(t);
    pp_altstack_release(t);
    pp_sitewalk_release(t);
    pp_sitecache_release(t);
}

/* When the kernel started this process, as CLOCK_REALTIME: field 22 of /proc/self/stat (clock
 * ticks since boot), which an exec leaves as it was. 0 when unknown. */
static uint64_t process_start_realtime(void)
{
    char *stat;
    size_t len = slurp("/proc/self/stat", &stat);
    if (!len)
        return 0;
    const char *p = NULL;
    for (size_t i = 0; i < len; i++)
        if (stat[i] == ')')
            p = stat + i; /* the command name may itself hold ')': the last one ends it */
    uint64_t ticks = 0;
    for (int field = 2; p && p < stat + len && field < 22; p++)
        if (*p == ' ')
            field++;
    for (; p && p < stat + len && *p >= '0' && *p <= '9'; p++)
        ticks = ticks * 10 + (uint64_t)(*p - '0');
    pp_arena_free(stat, 4096);
    struct timespec boot;
    if (!p || clock_gettime(CLOCK_BOOTTIME, &boot) != 0)
        return 0;
    uint64_t boot_ns = (uint64_t)boot.tv_sec * 1000000000ull + (uint64_t)boot.tv_nsec;
    uint64_t start_ns = ticks * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
    return pp_realtime_ns() - (boot_ns > start_ns ? boot_ns - start_ns : 0);
}

static void on_fork_prepare(void)
{
    pp_solo_enter_foreign(); /* a thread with no state forking: the owner must lock too */
    pp_arena_lock_for_fork();
    pp_stack_lock_for_fork();
    pp_live_lock_for_fork();
}

static void on_fork_parent(void)
{
    pp_live_unlock_after_fork();
    pp_stack_unlock_after_fork();
    pp_arena_unlock_after_fork();
}

static void on_fork_child(void)
{
    pp_live_reset_after_fork();
    pp_stack_unlock_after_fork();
    pp_arena_unlock_after_fork();
    pp_stats_reset_after_fork();
    pp_stacksample_reset_after_fork();
    pp_thread_reset_after_fork();
    pp_solo_start(pp_thread_current); /* one thread again */
    atomic_store(&pp_process.live_bytes, 0);
    atomic_store(&pp_process.peak_live_bytes, 0);
    pp_process.ppid = pp_process.pid;
    pp_process.pid = (uint32_t)getpid();
    pp_process.flags |= PP_PROC_F_FORKED_CHILD;
    pp_process.start_realtime_ns = pp_realtime_ns();
    pp_process.process_start_realtime_ns = pp_process.start_realtime_ns;
    pp_process.start_mono_ns = pp_now_ns();
    atomic_store(&pp_snapshot_last_ns, pp_process.start_mono_ns);
    atomic_store(&pp_process.untracked_frees, 0);
    atomic_store(&pp_process.ops, 0);
    pp_writer_choose_path();
    pp_watcher_forget_after_fork();
}

void pp_start(void)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&start_state, &expected, 1)) {
        /* Another thread is starting us; it is quick. A nested call on this thread (from a
         * malloc inside start) sees start_state 1 and simply forwards. */
        return;
    }
    pp_log_init();
    pp_config_load();
    pp_exits_init(); /* exec and _exit must reach the real ones in every mode */
    if (pp_try_init()) { /* try mode: serve the targets, record nothing (try.c) */
        atomic_store(&start_state, 2);
        return;
    }
    pp_clock_init();
    pp_process.pid = (uint32_t)getpid();
    pp_process.ppid = (uint32_t)getppid();
    pp_process.start_realtime_ns = pp_realtime_ns();
    pp_process.start_mono_ns = pp_now_ns();
    atomic_store(&pp_snapshot_last_ns, pp_process.start_mono_ns);
    pp_thread_init(on_thread_exit);
    pp_solo_start(NULL);
    if (pp_config.sample_every > 1)
        pp_live_filter_init();
    char *exe = pp_arena_alloc(4096);
    if (exe) {
        ssize_t n = readlink("/proc/self/exe", exe, 4095);
        exe[n > 0 ? n : 0] = '\0';
        pp_process.exe = exe;
    }
    pp_process.cmdline_len = slurp("/proc/self/cmdline", &pp_process.cmdline);
    if (parent_is_traced())
        pp_process.flags |= PP_PROC_F_DESCENDANT;
    pp_process.process_start_realtime_ns = process_start_realtime();
    pp_writer_choose_path();
    pp_modules_init();
    pp_unwind_init();
    pthread_atfork(on_fork_prepare, on_fork_parent, on_fork_child);
    atomic_store(&start_state, 2);
    atomic_store(&pp_state, PP_STATE_TRACKING);
    pp_watcher_start();
}

__attribute__((constructor)) static void on_load(void)
{
    if (pp_real_resolve())
        pp_start();
}

__attribute__((destructor)) static void on_unload(void)
{
    int s = atomic_load(&pp_state);
    if (s == PP_STATE_OFF)
        return;
    /* Stop tracking first: what the writer and later destructors allocate is not the
     * program's. */
    atomic_store(&pp_state, PP_STATE_OFF);
    pp_write_trace(0, 1);
}

static void write_final(void *unused)
{
    (void)unused;
    pp_write_trace(0, 0);
}

static int recorded_nothing(void)
{
    uint32_t n = pp_thread_count();
    for (uint32_t i = 0; i < n && i < PP_MAX_THREADS; i++) {
        struct pp_thread *t = pp_thread_at(i);
        if (t && (t->allocs || t->frees))
            return 0;
    }
    return 1;
}

void pp_image_ends(enum pp_image_end how)
{
    int stops = how == PP_END_EXIT;
    if ((uint32_t)getpid() != pp_process.pid)
        return; /* a vfork child (this memory is its parent's, live), or never started */
    if (how == PP_END_EXEC)
        pp_watcher_stop(); /* it would keep this image's memory, and write over the next's */
    if (atomic_load(&pp_state) == PP_STATE_OFF)
        return; /* the final trace is written already */
    if (!pp_thread_try_busy())
        return; /* a handler that interrupted the shim on this thread */
    /* Nothing recorded: an exec'd image's own file follows; a forked child (a daemon's double
     * fork, a shell's fork-then-exec) leaves no empty file beside its parent's. */
    int empty = recorded_nothing();
    if (!empty || (stops && !(pp_process.flags & PP_PROC_F_FORKED_CHILD))) {
        if (stops)
            atomic_store(&pp_state, PP_STATE_OFF);
        /* An exec that fails returns: the flag says only what this write saw coming. */
        if (how == PP_END_EXEC)
            pp_process.flags |= PP_PROC_F_EXECED;
        struct pp_thread *t = pp_thread_self();
        if (t)
            pp_altstack_run(t, write_final, NULL);
        else
            pp_write_trace(0, 0);
        pp_process.flags &= ~PP_PROC_F_EXECED;
    }
    pp_thread_unbusy();
}

/* Public API (include/poolprobe.h): the program says how many operations it ran, so reports
 * and the CI gate can compare allocations per operation. */
__attribute__((visibility("default"))) void poolprobe_ops(unsigned long long n)
{
    atomic_fetch_add(&pp_process.ops, n);
}

/* On the alternate stack; arg is the snapshot's start time. */
static void write_snapshot(void *arg)
{
    pp_write_trace(1, 1);
    pp_snapshot_written(*(const uint64_t *)arg);
}

void pp_snapshot_or_watch(struct pp_thread *t, uint64_t now_ns)
{
    if (atomic_load_explicit(&pp_watcher_wanted, memory_order_relaxed))
        pp_watcher_start();
    if (pp_snapshot_due(now_ns) && pp_snapshot_claim(now_ns))
        pp_altstack_run(t, write_snapshot, &now_ns); /* the writer needs ~12 KiB of stack */
}

int pp_ensure_started(void)
{
    if (PP_LIKELY(atomic_load_explicit(&start_state, memory_order_acquire) == 2))
        return 1;
    if (!pp_real_resolve())
        return 0;
    pp_start();
    return 1;
}
