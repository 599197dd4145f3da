/* sitewalk.c — the first few return addresses of a call, read off the stack without unwinding.
 *
 * The pooling question is asked per site, and the site is within the first frames of a call:
 * the hook's return address, or the caller of operator new or of a wrapper (xmalloc,
 * PyMem_RawMalloc) one or two frames further. So each allocation needs only its first
 * POOLPROBE_SITE_DEPTH return addresses exactly (the "site prefix"); full stacks are sampled
 * (stacksample.c). Walking a few frames costs a few loads once we know each frame's size.
 *
 * How: a function's frame size at a given return address — the distance from the stack pointer
 * after the call returns to the function's CFA — is fixed by its code (unless it uses alloca).
 * So per thread, a direct-mapped table maps a return address r to that distance d(r), learned
 * from libunwind: when a walk meets an address it does not know, one unw_step walk over the
 * prefix reads every frame's ip and sp, and records d(ip_k) = sp_{k+1} - sp_k, but only when the
 * caller's return address is indeed at sp_{k+1} - 8 (a signal frame, say, is never learned).
 * A walk then goes: r_0 = the hook's return address, c_0 = the caller's stack pointer (the
 * hook's CFA); c_{k+1} = c_k + d(r_k); r_{k+1} = the word at c_{k+1} - 8.
 *
 * Why this is safe: a walk reads only words inside this thread's own stack (bounds from
 * pp_thread_stack; a call on a signal or coroutine stack falls back to libunwind). Why it is
 * right: d(r) is a property of the code at r, so it holds for every call through r; a function
 * whose frame varies (alloca) gives a wrong r_{k+1}, which the sampled full unwinds catch
 * (pp_sitewalk_distrust marks the address, and from then on calls through it use libunwind).
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "shim.h"

#define HOPS 4096             /* return addresses remembered per thread (direct-mapped) */
#define HOP_UNKNOWN 0         /* d(r) = 0 never happens: a frame holds at least its return address */
#define HOP_BAD UINT32_MAX    /* the frame above r cannot be found this way: use libunwind */
#define HOP_END (UINT32_MAX - 1) /* r is the outermost frame: the stack ends here */
#define OWN_FRAMES_MAX 16     /* frames of the shim itself between here and the hook's caller */

struct hop {
    uintptr_t ret;
    uint32_t delta;
};

struct pp_sitewalk {
    uintptr_t stack_lo, stack_hi;
    struct hop hops[HOPS];
};

static struct hop *hop_for(struct pp_sitewalk *w, uintptr_t ret)
{
    return &w->hops[((ret * 0x9e3779b97f4a7c15ull) >> 40) % HOPS];
}

static void set_hop(struct pp_sitewalk *w, uintptr_t ret, uint32_t delta)
{
    struct hop *h = hop_for(w, ret);
    /* A distrusted address stays distrusted while it holds its slot. */
    if (h->ret == ret && h->delta == HOP_BAD)
        return;
    h->ret = ret;
    h->delta = delta;
}

static struct pp_sitewalk *walker_of(struct pp_thread *t, uintptr_t cfa)
{
    if (PP_LIKELY(t->sitewalk != NULL))
        return t->sitewalk;
    if (t->sitewalk_failed || t->exiting)
        return NULL;
    struct pp_sitewalk *w = pp_arena_alloc(sizeof *w);
    if (!w || !pp_thread_stack(t, cfa, &w->stack_lo, &w->stack_hi)) {
        pp_arena_free(w, sizeof *w);
        t->sitewalk_failed = 1;
        return NULL;
    }
    t->sitewalk = w;
    return w;
}

/* The slow path: libunwind from here to the hook's caller (ip == ret, sp == cfa), then want
 * frames from there, learning each frame's size on the way. Returns the frames found (0 when
 * the hook's caller was not found, e.g. libunwind cannot step through our own frames). */
__attribute__((noinline, cold)) static unsigned learn(struct pp_sitewalk *w, uintptr_t ret,
                                                      uintptr_t cfa, uintptr_t *out,
                                                      unsigned want)
{
    unw_context_t ctx;
    unw_cursor_t cur;
    unw_word_t ip = 0, sp = 0;
    if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0)
        return 0;
    int found = 0;
    for (int i = 0; i < OWN_FRAMES_MAX && unw_step(&cur) > 0; i++) {
        unw_get_reg(&cur, UNW_REG_IP, &ip);
        unw_get_reg(&cur, UNW_REG_SP, &sp);
        if (ip == ret && sp == cfa) {
            found = 1;
            break;
        }
    }
    if (!found)
        return 0;
    unsigned n = 0;
    out[n++] = ret;
    while (n < want) {
        uintptr_t prev_ip = ip, prev_sp = sp;
        if (unw_step(&cur) <= 0) {
            if (w)
                set_hop(w, prev_ip, HOP_END);
            break;
        }
        unw_get_reg(&cur, UNW_REG_IP, &ip);
        unw_get_reg(&cur, UNW_REG_SP, &sp);
        if (w) {
            /* libunwind just read this frame, so the word below its sp is readable. */
            int plain = sp > prev_sp && sp - prev_sp < HOP_END &&
                        *(const uintptr_t *)(sp - 8) == ip;
            set_hop(w, prev_ip, plain ? (uint32_t)(sp - prev_sp) : HOP_BAD);
        }
        out[n++] = ip;
    }
    return n;
}

/* libunwind could not find the hook's caller by its stack pointer: take its plain backtrace
 * (our own frames dropped) and keep the first frames. Out of line: its buffer must not sit in
 * the walk's frame. */
__attribute__((noinline, cold)) static unsigned first_frames(uintptr_t *out, unsigned want)
{
    uintptr_t ips[PP_UNWIND_MAX];
    int truncated;
    unsigned depth = pp_unwind_capture(ips, &truncated), n;
    for (n = 0; n < depth && n < want; n++)
        out[n] = ips[n];
    return n;
}

struct slow_walk {
    struct pp_sitewalk *w;
    uintptr_t ret, cfa, *out;
    unsigned want, n;
};

static void slow_walk_on_altstack(void *arg)
{
    struct slow_walk *j = arg;
    j->n = learn(j->w, j->ret, j->cfa, j->out, j->want);
    if (!j->n)
        j->n = first_frames(j->out, j->want);
}

/* Out of line and cold, so the job sits in no frame of the walk's fast path. libunwind needs
 * kilobytes of stack: it runs on the shim's own (altstack.c). */
__attribute__((noinline, cold)) static unsigned slow_walk(struct pp_thread *t,
                                                          struct pp_sitewalk *w, uintptr_t ret,
                                                          uintptr_t cfa, uintptr_t *out,
                                                          unsigned want)
{
    struct slow_walk job = {w, ret, cfa, out, want, 0};
    pp_altstack_run(t, slow_walk_on_altstack, &job);
    return job.n;
}

unsigned pp_sitewalk(struct pp_thread *t, uintptr_t ret, uintptr_t cfa, uintptr_t *out,
                     unsigned want)
{
    struct pp_sitewalk *w = walker_of(t, cfa);
    unsigned n = 1;
    out[0] = ret;
    if (PP_LIKELY(w != NULL)) {
        uintptr_t r = ret, c = cfa;
        while (n < want) {
            const struct hop *h = hop_for(w, r);
            if (h->ret != r || h->delta == HOP_UNKNOWN || h->delta == HOP_BAD)
                break;
            if (h->delta == HOP_END)
                return n;
            c += h->delta;
            if (c - 8 < w->stack_lo || c > w->stack_hi)
                break;
            r = *(const uintptr_t *)(c - 8);
            out[n++] = r;
        }
        if (n == want)
            return n;
    }
    return slow_walk(t, w, ret, cfa, out, want);
}

void pp_sitewalk_distrust(struct pp_thread *t, uintptr_t ret)
{
    if (t->sitewalk)
        set_hop(t->sitewalk, ret, HOP_BAD);
}

void pp_sitewalk_release(struct pp_thread *t)
{
    pp_arena_free(t->sitewalk, sizeof *t->sitewalk);
    t->sitewalk = NULL;
}
