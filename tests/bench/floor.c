/* floor.c — the floor of `make bench`: a preload that only forwards and counts per return address.
 *
 * Built as a shared object and preloaded like libpoolprobe.so, it interposes the same ten
 * allocation functions, forwards each to the next allocator (dlsym RTLD_NEXT) and, for each
 * allocation, adds one to a per-thread counter keyed by the hook's return address. That is the
 * least any per-site profiler must do, so its time ratio is the limit beside every poolprobe
 * ratio: whatever poolprobe costs above it is the price of its figures (sizes, lifetimes, live
 * and peak counts, stacks). It writes nothing and changes nothing the program sees.
 *
 * Build: gcc -O2 -shared -fPIC tests/bench/floor.c -o floor.so -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
#define SLOTS 1024 /* per thread; a full table just stops counting new addresses */

struct slot {
    uintptr_t ret;
    uint64_t calls, bytes;
};

static __thread struct slot counts[SLOTS] __attribute__((tls_model("initial-exec")));

static void count(uintptr_t ret, size_t size)
{
    uint64_t h = (ret * 0x9e3779b97f4a7c15ull) >> 52;
    for (unsigned i = 0; i < SLOTS; i++) {
        struct slot *s = &counts[(h + i) % SLOTS];
        if (s->ret == ret || s->ret == 0) {
            s->ret = ret;
            s->calls++;
            s->bytes += size;
            return;
        }
    }
}

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void *(*real_reallocarray)(void *, size_t, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);

/* dlsym allocates (calloc) before the real functions are known: serve it from here. */
static char bootstrap[1 << 16] __attribute__((aligned(16)));
static size_t bootstrap_used;
static int resolving;

static int owned(const void *p)
{
    return (const char *)p >= bootstrap && (const char *)p < bootstrap + sizeof bootstrap;
}

static void *bootstrap_alloc(size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (bootstrap_used + size > sizeof bootstrap)
        return NULL;
    void *p = bootstrap + bootstrap_used;
    bootstrap_used += size;
    return p;
}

static int resolve(void)
{
    if (real_malloc)
        return 1;
    if (resolving)
        return 0;
    resolving = 1;
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_free = dlsym(RTLD_NEXT, "free");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_reallocarray = dlsym(RTLD_NEXT, "reallocarray");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    real_valloc = dlsym(RTLD_NEXT, "valloc");
    real_pvalloc = dlsym(RTLD_NEXT, "pvalloc");
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    resolving = 0;
    return 1;
}

#define RET() ((uintptr_t)__builtin_return_address(0))

EXPORT void *malloc(size_t size)
{
    if (!resolve())
        return bootstrap_alloc(size);
    void *p = real_malloc(size);
    if (p)
        count(RET(), size);
    return p;
}

EXPORT void free(void *p)
{
    if (!p || owned(p))
        return;
    resolve();
    real_free(p);
}

EXPORT void *calloc(size_t n, size_t size)
{
    if (!resolve()) {
        size_t total;
        if (__builtin_mul_overflow(n, size, &total))
            return NULL;
        void *p = bootstrap_alloc(total);
        return p; /* static storage is zeroed */
    }
    void *p = real_calloc(n, size);
    if (p)
        count(RET(), n * size);
    return p;
}

EXPORT void *realloc(void *p, size_t size)
{
    if (p && owned(p)) {
        void *q = malloc(size);
        if (q)
            memcpy(q, p, size < sizeof bootstrap ? size : sizeof bootstrap);
        return q;
    }
    resolve();
    void *q = real_realloc(p, size);
    if (q && !p)
        count(RET(), size);
    return q;
}

EXPORT void *reallocarray(void *p, size_t n, size_t m)
{
    resolve();
    if (real_reallocarray) {
        void *q = real_reallocarray(p, n, m);
        if (q && !p)
            count(RET(), n * m);
        return q;
    }
    size_t total;
    if (__builtin_mul_overflow(n, m, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, total);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    resolve();
    int rc = real_posix_memalign(out, align, size);
    if (rc == 0)
        count(RET(), size);
    return rc;
}

#define ALIGNED(name, real, params, args, size_expr)                                           \
    EXPORT void *name params                                                                   \
    {                                                                                          \
        resolve();                                                                             \
        void *p = real args;                                                                   \
        if (p)                                                                                 \
            count(RET(), size_expr);                                                           \
        return p;                                                                              \
    }

ALIGNED(aligned_alloc, real_aligned_alloc, (size_t align, size_t size), (align, size), size)
ALIGNED(memalign, real_memalign, (size_t align, size_t size), (align, size), size)
ALIGNED(valloc, real_valloc, (size_t size), (size), size)
ALIGNED(pvalloc, real_pvalloc, (size_t size), (size), size)
