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
#include <string.h>
#include <sys/resource.h>

#include "shim.h"
#include "sys.h"

extern void *__libc_stack_end; /* the loader's: an address inside the main thread's stack */

#define TLS __attribute__((tls_model("initial-exec")))
__thread struct pp_thread *pp_thread_current TLS;
__thread int pp_thread_busy TLS;

static struct pp_thread **threads; /* PP_MAX_THREADS slots, mapped at init */
static atomic_uint next_index;
static pthread_key_t exit_key;
static int exit_key_ok;
static void (*exit_callback)(struct pp_thread *);

static void on_thread_exit(void *arg)
{
    pp_thread_busy++;
    exit_callback(arg);
    pp_thread_busy--;
}

/* Cold: once per thread. Kept out of line so the enter path (shim.h) stays a few instructions. */
struct pp_thread *pp_thread_create_current(void)
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
    pp_thread_current = t;
    if (exit_key_ok)
        pthread_setspecific(exit_key, t); /* may calloc: we are busy, so it is forwarded */
    pp_solo_thread_created(t);
    return t;
}

int pp_thread_try_busy(void)
{
    if (pp_thread_busy)
        return 0;
    pp_thread_busy = 1;
    return 1;
}

void pp_thread_unbusy(void)
{
    pp_thread_busy = 0;
}

struct pp_thread *pp_thread_self(void)
{
    return pp_thread_current;
}

struct pp_thread *pp_thread_at(uint32_t index)
{
    return index < PP_MAX_THREADS ? threads[index] : NULL;
}

uint32_t pp_thread_count(void)
{
    return atomic_load(&next_index);
}

/* The main thread's stack as glibc's pthread_getattr_np computes it: the top of the mapping
 * holding __libc_stack_end, and below it RLIMIT_STACK, or down to the mapping before it. Reads
 * /proc/self/maps through sys.h into our own memory. */
static int main_thread_stack(uintptr_t *lo, uintptr_t *hi)
{
    const size_t cap = 16384;
    char *buf = pp_arena_alloc(cap);
    int fd = buf ? pp_sys_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0) : -1;
    uintptr_t inside = (uintptr_t)__libc_stack_end, prev_end = 0;
    int found = 0;
    size_t len = 0;
    while (fd >= 0 && !found) {
        long n = pp_sys_read(fd, buf + len, cap - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        char *line = buf, *end = buf + len, *nl;
        while (!found && (nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
            const char *p = line;
            uintptr_t start = pp_parse_uint(&p, nl, 16);
            p++; /* '-' */
            uintptr_t stop = pp_parse_uint(&p, nl, 16);
            if (start <= inside && inside < stop) {
                struct rlimit rl;
                uintptr_t size = stop - prev_end;
                if (pp_syscall(SYS_prlimit64, 0, RLIMIT_STACK, 0, (long)&rl, 0, 0) == 0 &&
                    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < size)
                    size = rl.rlim_cur & ~(uintptr_t)4095;
                *hi = stop;
                *lo = stop - size;
                found = 1;
            }
            prev_end = stop;
            line = nl + 1;
        }
        len = (size_t)(end - line); /* keep the partial line */
        memmove(buf, line, len);
    }
    if (fd >= 0)
        pp_sys_close(fd);
    if (buf)
        pp_arena_free(buf, cap);
    return found;
}

int pp_thread_stack(struct pp_thread *t, uintptr_t on_stack, uintptr_t *lo, uintptr_t *hi)
{
    if (!t->stack_known) {
        uintptr_t l = 0, h = 0;
        /* The main thread, called on its own stack (not a thread that forked, in the child,
         * nor a coroutine). */
        int ok = pp_syscall(SYS_gettid, 0, 0, 0, 0, 0, 0) == pp_sys_getpid() &&
                 main_thread_stack(&l, &h) && l <= on_stack && on_stack < h;
        if (!ok) {
            /* Another thread's comes from its descriptor; glibc allocates only the 32-byte
             * affinity set, freed at once (we are busy: straight to the real allocator). */
            pthread_attr_t attr;
            void *addr;
            size_t size;
            ok = pthread_getattr_np(pthread_self(), &attr) == 0;
            if (ok) {
                ok = pthread_attr_getstack(&attr, &addr, &size) == 0;
                pthread_attr_destroy(&attr);
                l = (uintptr_t)addr;
                h = l + size;
            }
        }
        t->stack_lo = l;
        t->stack_hi = h;
        t->stack_known = ok ? 1 : -1;
    }
    *lo = t->stack_lo;
    *hi = t->stack_hi;
    return t->stack_known == 1;
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
    pp_thread_busy++;
    exit_callback = on_exit;
    threads = pp_arena_map(PP_MAX_THREADS * sizeof *threads);
    if (pthread_key_create(&exit_key, on_thread_exit) == 0)
        exit_key_ok = 1;
    pp_thread_busy--;
}

/* In a forked child only the forking thread exists; it keeps its state (and its index). */
void pp_thread_reset_after_fork(void)
{
    struct pp_thread *t = pp_thread_current;
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
        t->pending_bytes = 0; /* the parent's unpublished share is not the child's */
        t->pending_events = 0;
    }
}
