/* watcher.c — keeps the trace current while the program is idle, and writes it after a death.
 *
 * Snapshots are taken inside allocation calls (lifecycle.c): a program that stops allocating
 * would keep its last snapshot however long it idles, and a signal that kills it (SIGKILL, a
 * crash, SIGTERM unhandled) would lose what came after. The watcher is a small process that
 * shares the program's memory (clone with CLONE_VM, without CLONE_THREAD). Once per interval it
 * looks at the program's counters and, when the file is behind them, writes the snapshot
 * itself; when the program dies without our final write, it writes the final trace from the
 * memory the dead program left (the kernel keeps it mapped while the watcher lives).
 *
 * It starts at the program's first recorded event (a process that records nothing, /bin/true
 * under a traced shell, has nothing for it to keep), and the program's exit stops and reaps it
 * once the final trace is written: the program's memory is then freed by the program's own exit,
 * as natively. A watcher left to outlive it freed that memory on another CPU while the parent
 * went on forking, and its page freeing and the next child's copy-on-write faults then fought
 * over the same pages and locks: 0.3-0.8 ms per `$(...)` subshell of bash (perf stat).
 *
 * What the program can see of it, and why each is harmless:
 *   - no thread: it is not in /proc/self/task, and fork() in a threaded program is unchanged;
 *   - no child to wait for: it exits with no signal (exit signal 0), so wait(), waitpid(-1)
 *     and waitid(P_ALL) skip it (only __WALL or __WCLONE see it); we reap it ourselves, at
 *     exec and at exit;
 *   - no signal: the program's handlers and mask are its own (the watcher has a copy of the
 *     handler table that it never runs: it blocks every signal from its first instruction and
 *     waits for its wake-up signal synchronously). It leaves the program's process group, so
 *     Ctrl-C and kill(0, ...) do not reach it;
 *   - no file descriptor: it starts on the program's own descriptor table (CLONE_FILES, which
 *     takes no reference to any file) and its first call leaves it for an empty table of its
 *     own (close_range with CLOSE_RANGE_UNSHARE and nothing to copy). A copy of the table
 *     would hold every file open until the watcher ran: on a busy CPU a script written by
 *     `cat >x.sh` could not be exec'd ("Text file busy") and a pipe's reader waited for its
 *     end. Without that call (Linux before 5.9) there is no watcher;
 *   - no TLS, no errno: it calls only sys.h and the writer's TLS-free path, and never
 *     allocates. Its thread pointer is a page of its own holding only what compiled code reads
 *     there (the stack-protector canary), so nothing it could touch is a thread's of the
 *     program, and the thread that started it may exit;
 *   - a process named "poolprobe-watch" in ps, child of the program, using a 256 KiB stack
 *     mapping in the program's address space;
 *   - a child for a program that waits for all of its children, clones included (__WALL or
 *     __WCLONE with any pid: strace, gdb, some init systems). It would wait for us forever, so
 *     the watcher looks at what the program's main thread is waiting in (/proc/PID/syscall) at
 *     least every 250 ms and leaves when it is such a wait.
 * It is not started under valgrind (which cannot run a CLONE_VM process), when
 * POOLPROBE_INTERVAL=0, or in a process under a seccomp filter (which might kill the program for
 * the clone). It dies with the program's memory: the OOM killer kills every process sharing it,
 * and then the trace is the last snapshot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "shim.h"
#include "sys.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#define WATCHER_STACK (256u << 10)
#define WATCHER_TCB 4096u /* at the top of the stack mapping: the thread pointer's page */
#define WAKE_SIGNAL SIGUSR1 /* the program's exit (parent-death signal) or pp_watcher_stop */

static void *stack;           /* mapped once; a forked child reuses its copy */
static int watcher_pid;       /* 0: none */
static uint32_t watched_pid;  /* the program's pid, as the watcher's parent */
static atomic_int stop;       /* set by pp_watcher_stop before it wakes the watcher */
static atomic_int gone;       /* set by the watcher when it leaves to the program's wait */
atomic_int pp_watcher_wanted; /* start at the next recorded event (lifecycle.c) */

static unsigned long sigbit(int sig)
{
    return 1ul << (sig - 1);
}

/* The watcher's counterpart of a snapshot inside a hook, for a program that has gone quiet.
 * Returns how long to sleep before looking again. */
static uint64_t look(void)
{
    uint64_t interval = pp_config.interval_ns, now = pp_now_ns();
    if (!pp_snapshot_due(now)) /* a hook wrote one lately: look again when the next is due */
        return atomic_load_explicit(&pp_snapshot_last_ns, memory_order_relaxed) + interval - now;
    /* Nothing new since the file was written: rewrite only as its duration doubles, so an
     * idle process's rate stays within 2x and an idle daemon rewrites its trace a few dozen
     * times in a year, not every second. */
    uint64_t written_at, events = pp_writer_last_write(&written_at);
    if (events == pp_thread_events() && written_at &&
        now - written_at < written_at - pp_process.start_mono_ns)
        return interval;
    if (pp_snapshot_claim(now)) {
        pp_write_trace_watcher(0);
        pp_snapshot_written(now);
    }
    return interval;
}

/* The number at *p, hexadecimal with "0x", else decimal; moves past it and one space. */
static uint64_t number(const char **p, const char *end)
{
    unsigned base = 10;
    if (end - *p > 2 && (*p)[0] == '0' && (*p)[1] == 'x') {
        base = 16;
        *p += 2;
    }
    uint64_t v = pp_parse_uint(p, end, base);
    if (*p < end && **p == ' ')
        (*p)++;
    return v;
}

/* 1 when the program's main thread is in wait4(-1, ..., __WALL or __WCLONE) or waitid(P_ALL,
 * ..., __WALL or __WCLONE): a wait that includes us. /proc/PID/syscall says "NR ARG1 ... ARG6
 * SP PC" for a thread blocked in a system call. */
static int program_waits_for_clones(void)
{
    char path[48], buf[256];
    pp_format(path, sizeof path, "/proc/%u/syscall", watched_pid);
    int fd = pp_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    long n = pp_sys_read(fd, buf, sizeof buf);
    pp_sys_close(fd);
    if (n <= 0)
        return 0;
    const char *p = buf, *end = buf + n;
    uint64_t nr = number(&p, end), arg[6];
    for (int i = 0; i < 6; i++)
        arg[i] = number(&p, end);
    const uint64_t clones = 0x40000000u | 0x80000000u; /* __WALL | __WCLONE */
    if (nr == SYS_wait4)
        return (int32_t)arg[0] == -1 && (arg[2] & clones); /* an int: shown as 0xffffffff */
    if (nr == SYS_waitid)
        return arg[0] == 0 /* P_ALL */ && (arg[3] & clones);
    return 0;
}

/* The program died (every thread is gone) without the final write: write it now from the
 * memory it left. A lock a killed thread held is never released: waits give up (state.c). */
static void after_death(void)
{
    int s = atomic_load(&pp_state);
    if (s == PP_STATE_OFF)
        return; /* exit(), _exit() or exec wrote the final trace */
    atomic_store(&pp_locks_orphaned, 1);
    pp_process.flags |= PP_PROC_F_DIED;
    pp_write_trace_watcher(1);
}

static int watcher_main(void *unused)
{
    (void)unused;
    /* First: an empty descriptor table of our own, leaving the program's untouched. */
    if (pp_syscall(SYS_close_range, 0, ~0u, 2 /* CLOSE_RANGE_UNSHARE */, 0, 0, 0) != 0)
        pp_sys_exit(0);
    /* The copy of the program's handler table is left as it is (resetting its 64 entries was
     * 60 us, most of what a watcher cost a short forked child): no handler can run here. Every
     * signal stays blocked from the clone to our exit, sigtimedwait runs none, and a fault on
     * a blocked signal makes the kernel reset that action to the default before delivering. */
    struct rlimit no_core = {0, 0};
    pp_syscall(SYS_prlimit64, 0, RLIMIT_CORE, (long)&no_core, 0, 0, 0);
    pp_syscall(SYS_prctl, PR_SET_NAME, (long)"poolprobe-watch", 0, 0, 0, 0);
    pp_syscall(SYS_setpgid, 0, 0, 0, 0, 0, 0);
    pp_syscall(SYS_prctl, PR_SET_PDEATHSIG, WAKE_SIGNAL, 0, 0, 0, 0);

    const unsigned long wake = sigbit(WAKE_SIGNAL) | sigbit(SIGTERM) | sigbit(SIGINT) |
                               sigbit(SIGHUP);
    for (;;) {
        if (atomic_load(&stop))
            break;
        /* Checked after PR_SET_PDEATHSIG, so a death before it is seen here. */
        if ((uint32_t)pp_sys_getppid() != watched_pid) {
            after_death();
            break;
        }
        if (program_waits_for_clones()) {
            /* The program reaps us, and our pid may be reused after: pp_watcher_stop must
             * then neither signal it nor wait for it. */
            atomic_store(&gone, 1);
            break;
        }
        uint64_t sleep_ns = 0;
        if (atomic_load_explicit(&pp_state, memory_order_relaxed) == PP_STATE_TRACKING)
            sleep_ns = look();
        if (sleep_ns < 10000000)
            sleep_ns = 10000000;
        if (sleep_ns > 250000000)
            sleep_ns = 250000000; /* to see a wait for all children soon (above) */
        struct timespec ts = {(time_t)(sleep_ns / 1000000000u), (long)(sleep_ns % 1000000000u)};
        int sig = pp_sys_sigtimedwait(&wake, &ts);
        if (sig > 0 && sig != WAKE_SIGNAL)
            break; /* someone asked the watcher itself to go */
    }
    pp_sys_exit(0);
}

void pp_watcher_start(void)
{
    atomic_store(&pp_watcher_wanted, 0);
    if (!pp_config.interval_ns || !pp_config.watcher || watcher_pid || RUNNING_ON_VALGRIND)
        return;
    if (pp_syscall(SYS_prctl, PR_GET_SECCOMP, 0, 0, 0, 0, 0) != 0)
        return; /* filtered (or unknown): a clone without CLONE_THREAD might be fatal */
    if (!stack) {
        void *s = pp_sys_mmap(NULL, WATCHER_STACK + WATCHER_TCB, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK);
        if (pp_sys_failed((long)s))
            return;
        stack = s;
    }
    /* x86-64's thread control block as compiled code sees it: a pointer to itself at 0 (and at
     * 16, glibc's header.self), the stack-protector canary at 0x28, copied from ours. */
    uintptr_t *tcb = (uintptr_t *)((char *)stack + WATCHER_STACK);
    uintptr_t canary;
    __asm__("mov %%fs:0x28, %0" : "=r"(canary));
    tcb[0] = tcb[2] = (uintptr_t)tcb;
    tcb[5] = canary;
    watched_pid = pp_process.pid;
    atomic_store(&stop, 0);
    atomic_store(&gone, 0);
    /* Every signal blocked across the clone: the watcher starts with them blocked and never
     * unblocks them, so no handler of the program ever runs in it. */
    unsigned long all = ~0ul, old;
    pp_sys_sigprocmask(SIG_SETMASK, &all, &old);
    /* The C library's clone runs watcher_main on the new stack and touches no TLS in it. */
    int saved_errno = errno;
    int pid = clone(watcher_main, tcb, CLONE_VM | CLONE_FILES | CLONE_SETTLS, NULL, NULL, tcb,
                    NULL);
    errno = saved_errno;
    pp_sys_sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid > 0)
        watcher_pid = pid;
}

/* Wakes the watcher with the stop flag set and waits for it to exit, unless it left to the
 * program's own wait. Returns 0 when it was woken and reaped, -1 when the signal was refused
 * (the program changed its user): then it sees the stop flag at its next wake. */
static int stop_and_reap(int pid)
{
    atomic_store(&stop, 1);
    if (atomic_load(&gone))
        return 0; /* the program reaps it (or did: its pid may be another's now) */
    /* Woken, it exits at once (or after the snapshot it is writing): wait for that. */
    if (pp_sys_kill(pid, WAKE_SIGNAL) != 0)
        return -1;
    while (pp_sys_wait_clone(pid, 0) == -EINTR)
        ;
    return 0;
}

void pp_watcher_stop(void)
{
    int pid = watcher_pid;
    if (!pid)
        return;
    /* Should the signal be refused, exec goes on after 50 ms; the watcher sees the stop flag
     * at its next wake and stays a zombie of this pid, which is better than holding up the
     * program. */
    if (stop_and_reap(pid) != 0) {
        for (int ms = 0; ms < 50 && pp_sys_wait_clone(pid, 1) == 0; ms++) {
            struct timespec one_ms = {0, 1000000};
            pp_sys_nanosleep(&one_ms);
        }
    }
    watcher_pid = 0;
    atomic_store(&pp_watcher_wanted, 1); /* if the exec fails, the next event starts another */
}

void pp_watcher_end(void)
{
    int pid = watcher_pid;
    if (!pid || (uint32_t)pp_sys_getpid() != watched_pid)
        return; /* none, or a vfork child: the watcher is its parent's */
    /* Refused: it sees the stop flag within 250 ms, or our death; nothing to wait for here. */
    stop_and_reap(pid);
    watcher_pid = 0;
}

void pp_watcher_forget_after_fork(void)
{
    watcher_pid = 0; /* the parent's; a forked child has none */
    atomic_store(&stop, 0);
    atomic_store(&pp_watcher_wanted, 1);
}
