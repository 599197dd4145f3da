/* real.c — finding the next allocator in link order, and surviving until we have.
 *
 * We forward to dlsym(RTLD_NEXT, ...) rather than glibc's __libc_* entry points so that poolprobe
 * stacks on top of another preloaded allocator (jemalloc, tcmalloc, mimalloc). dlsym itself may
 * allocate (its error buffer); those calls arrive here while resolution is in progress on this
 * thread and are served from a small static bootstrap buffer that is never returned to anyone.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "shim.h"

struct pp_real pp_real;

/* 0 = not started, 1 = in progress, 2 = done. */
static atomic_int resolve_state;
static __thread int resolving_here __attribute__((tls_model("initial-exec")));

static void *must(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        pp_log("cannot find the real %s (dlsym: %s); cannot continue", name, "RTLD_NEXT");
        abort(); /* the one allowed abort: nothing can allocate without these */
    }
    return f;
}

int pp_real_resolve(void)
{
    if (PP_LIKELY(atomic_load_explicit(&resolve_state, memory_order_acquire) == 2))
        return 1;
    if (resolving_here)
        return 0;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&resolve_state, &expected, 1)) {
        /* Another thread is resolving: wait for it (dlsym is quick). */
        while (atomic_load_explicit(&resolve_state, memory_order_acquire) != 2)
            __builtin_ia32_pause();
        return 1;
    }
    resolving_here = 1;
    struct pp_real r;
    *(void **)&r.malloc = must("malloc");
    *(void **)&r.free = must("free");
    *(void **)&r.calloc = must("calloc");
    *(void **)&r.realloc = must("realloc");
    *(void **)&r.reallocarray = dlsym(RTLD_NEXT, "reallocarray");
    *(void **)&r.posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    *(void **)&r.aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    *(void **)&r.memalign = dlsym(RTLD_NEXT, "memalign");
    *(void **)&r.valloc = dlsym(RTLD_NEXT, "valloc");
    *(void **)&r.pvalloc = dlsym(RTLD_NEXT, "pvalloc");
    pp_real = r;
    resolving_here = 0;
    atomic_store_explicit(&resolve_state, 2, memory_order_release);
    return 1;
}

/* Bootstrap: a bump allocator over a static buffer. Each block carries its size in the 16 bytes
 * before it so realloc can copy it out. Only dlsym's few small calls ever land here. */
#define BOOTSTRAP_BYTES (64 * 1024)
static _Alignas(64) unsigned char bootstrap[BOOTSTRAP_BYTES];
static atomic_size_t bootstrap_used;

void *pp_bootstrap_alloc(size_t size, size_t align)
{
    if (align < 16)
        align = 16;
    if (size > BOOTSTRAP_BYTES || align > 4096)
        return NULL;
    size_t old = atomic_load(&bootstrap_used), start, next;
    do {
        start = (old + 16 + align - 1) & ~(align - 1);
        next = start + size;
        if (next > BOOTSTRAP_BYTES) {
            errno = ENOMEM;
            return NULL;
        }
    } while (!atomic_compare_exchange_weak(&bootstrap_used, &old, next));
    *(size_t *)(bootstrap + start - 16) = size;
    return bootstrap + start; /* static storage: already zero, as calloc needs */
}

int pp_bootstrap_owns(const void *p)
{
    return (const unsigned char *)p >= bootstrap &&
           (const unsigned char *)p < bootstrap + BOOTSTRAP_BYTES;
}

size_t pp_bootstrap_size(const void *p)
{
    return *(const size_t *)((const unsigned char *)p - 16);
}
