/* hooks.c — every allocation function libpoolprobe.so exports, and nothing else.
 *
 * Each hook is thin: make sure we are started, call the real function, record on success,
 * return exactly what the real function returned with errno as it left it. A free is recorded
 * before the real free (the address may be reused the moment it returns); a realloc takes its
 * block out of the side table before the real realloc for the same reason. Calls nested inside
 * the shim (pp_thread_enter returns NULL) are forwarded untracked.
 *
 * Follow a malloc: pp_ensure_started (one load once started), pp_thread_enter (TLS flags),
 * the real malloc, pp_record_counts_alloc (the process totals, inline; when sampling leaves the
 * allocation out, that is all), pp_record_alloc (record.c says why it never blocks, does I/O or
 * allocates through the hooks), pp_maybe_snapshot (one load and compare, except once per
 * interval).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "try.h"

#define PP_EXPORT __attribute__((visibility("default")))
/* The hook's return address and its caller's stack pointer before the call (the CFA): the
 * shim is built with frame pointers, so the CFA is the frame address + 16. Both must be taken
 * in the exported function itself, never in a helper. */
#define CALLER() ((uintptr_t)__builtin_return_address(0))
#define CALLER_CFA() ((uintptr_t)__builtin_frame_address(0) + 16)

/* The recording itself, errno untouched. Out of line: the hook's own frame then needs only the
 * registers of the counting path (a sampled-out event saved and restored five). */
__attribute__((noinline)) static void record_created(struct pp_thread *t, void *p, size_t size,
                                                     uintptr_t ret, uintptr_t cfa)
{
    int saved = errno;
    pp_maybe_snapshot(t, pp_record_alloc(t, p, size, ret, cfa));
    errno = saved;
}

__attribute__((noinline)) static void record_freed(struct pp_thread *t, void *p, uintptr_t caller)
{
    int saved = errno;
    pp_maybe_snapshot(t, pp_record_free(t, p, caller));
    errno = saved;
}

/* Records a successful creation of p and leaves the shim, errno untouched. */
static inline void created(struct pp_thread *t, void *p, size_t size, enum pp_call call,
                           uintptr_t ret, uintptr_t cfa)
{
    if (!t)
        return;
    if (p && pp_record_counts_alloc(t, size, call))
        record_created(t, p, size, ret, cfa);
    pp_thread_leave(t);
}

PP_EXPORT void *malloc(size_t size)
{
    if (PP_UNLIKELY(!pp_ensure_started()))
        return pp_bootstrap_alloc(size, 16);
    if (PP_UNLIKELY(pp_try_on))
        return pp_try_malloc(size, CALLER(), CALLER_CFA());
    struct pp_thread *t = pp_thread_enter();
    void *p = pp_real.malloc(size);
    created(t, p, size, PP_CALL_MALLOC, CALLER(), CALLER_CFA());
    return p;
}

PP_EXPORT void free(void *p)
{
    if (!p || PP_UNLIKELY(pp_bootstrap_owns(p)))
        return;
    if (PP_UNLIKELY(!pp_ensure_started()))
        return; /* only bootstrap blocks exist before the real free is known */
    if (PP_UNLIKELY(pp_try_on) && pp_try_free(p))
        return;
    struct pp_thread *t = pp_thread_enter();
    if (t) {
        if (pp_record_counts_free(t, p))
            record_freed(t, p, CALLER());
        pp_thread_leave(t);
    }
    pp_real.free(p);
}

PP_EXPORT void *calloc(size_t n, size_t size)
{
    if (PP_UNLIKELY(!pp_ensure_started())) {
        size_t total;
        if (__builtin_mul_overflow(n, size, &total)) {
            errno = ENOMEM;
            return NULL;
        }
        return pp_bootstrap_alloc(total, 16);
    }
    if (PP_UNLIKELY(pp_try_on))
        return pp_try_calloc(n, size, CALLER(), CALLER_CFA());
    struct pp_thread *t = pp_thread_enter();
    void *p = pp_real.calloc(n, size);
    created(t, p, n * size, PP_CALL_CALLOC, CALLER(), CALLER_CFA()); /* no overflow */
    return p;
}

/* realloc and reallocarray share this; real_call does the actual resize. */
static void *resize(void *p, size_t size, enum pp_call call, uintptr_t caller, uintptr_t cfa,
                    void *(*real_call)(void *, size_t, size_t), size_t n, size_t m)
{
    if (PP_UNLIKELY(p && pp_bootstrap_owns(p))) {
        /* Move a bootstrap block to the real heap (as a new allocation). */
        void *q = malloc(size);
        if (q) {
            size_t old = pp_bootstrap_size(p);
            memcpy(q, p, old < size ? old : size);
        }
        return q;
    }
    if (PP_UNLIKELY(!pp_ensure_started()))
        return p ? NULL : pp_bootstrap_alloc(size, 16);
    if (PP_UNLIKELY(pp_try_on)) {
        if (!size && n && m) { /* reallocarray overflowed: fail, p untouched */
            errno = ENOMEM;
            return NULL;
        }
        return pp_try_realloc(p, size, caller, cfa);
    }
    struct pp_thread *t = pp_thread_enter();
    if (!p) {
        void *q = real_call(NULL, n, m);
        created(t, q, size, call, caller, cfa);
        return q;
    }
    struct pp_live old;
    int tracked = t ? pp_record_realloc_begin(p, &old) : 0;
    void *q = real_call(p, n, m);
    if (t) {
        int saved = errno;
        pp_maybe_snapshot(t, pp_record_realloc_end(t, p, &old, tracked, q, size, caller));
        pp_thread_leave(t);
        errno = saved;
    }
    return q;
}

static void *call_realloc(void *p, size_t n, size_t m)
{
    (void)m;
    return pp_real.realloc(p, n);
}

static void *call_reallocarray(void *p, size_t n, size_t m)
{
    if (pp_real.reallocarray)
        return pp_real.reallocarray(p, n, m);
    size_t total;
    if (__builtin_mul_overflow(n, m, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return pp_real.realloc(p, total);
}

PP_EXPORT void *realloc(void *p, size_t size)
{
    return resize(p, size, PP_CALL_REALLOC, CALLER(), CALLER_CFA(), call_realloc, size, 0);
}

PP_EXPORT void *reallocarray(void *p, size_t n, size_t m)
{
    size_t total;
    if (__builtin_mul_overflow(n, m, &total))
        total = 0; /* the real call fails with ENOMEM; nothing is recorded */
    return resize(p, total, PP_CALL_REALLOCARRAY, CALLER(), CALLER_CFA(), call_reallocarray, n,
                  m);
}

PP_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (PP_UNLIKELY(!pp_ensure_started())) {
        void *p = pp_bootstrap_alloc(size, align);
        if (!p)
            return ENOMEM;
        *out = p;
        return 0;
    }
    if (!pp_real.posix_memalign)
        return ENOMEM;
    struct pp_thread *t = pp_thread_enter();
    int rc = pp_real.posix_memalign(out, align, size);
    created(t, rc == 0 ? *out : NULL, size, PP_CALL_POSIX_MEMALIGN, CALLER(), CALLER_CFA());
    return rc;
}

/* aligned_alloc, memalign, valloc and pvalloc: same shape, different real function. */
#define ALIGNED_HOOK(name, call, params, args, size_expr)                                        \
    PP_EXPORT void *name params                                                                \
    {                                                                                          \
        if (PP_UNLIKELY(!pp_ensure_started()) || !pp_real.name) {                              \
            errno = ENOMEM;                                                                    \
            return NULL;                                                                       \
        }                                                                                      \
        struct pp_thread *t = pp_thread_enter();                                               \
        void *p = pp_real.name args;                                                           \
        created(t, p, size_expr, call, CALLER(), CALLER_CFA());                                \
        return p;                                                                              \
    }

ALIGNED_HOOK(aligned_alloc, PP_CALL_ALIGNED_ALLOC, (size_t align, size_t size), (align, size), size)
ALIGNED_HOOK(memalign, PP_CALL_MEMALIGN, (size_t align, size_t size), (align, size), size)
ALIGNED_HOOK(valloc, PP_CALL_VALLOC, (size_t size), (size), size)
ALIGNED_HOOK(pvalloc, PP_CALL_PVALLOC, (size_t size), (size), size)

/* Only try mode (try.c) hands out blocks the real allocator does not know. */
PP_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (PP_UNLIKELY(pp_bootstrap_owns(p)))
        return pp_bootstrap_size(p);
    if (PP_UNLIKELY(!pp_ensure_started()))
        return 0;
    return pp_try_usable_size(p);
}
