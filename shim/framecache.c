/* framecache.c — skip the unwinder when the caller's stack is provably the one seen before.
 *
 * Unwinding is most of the shim's cost (libunwind's fast path: ~8 ns a frame, ~130 ns at depth
 * 16). Allocation sites are called again and again from the same place with the same stack, so
 * each thread keeps a small direct-mapped cache keyed by the hook's return address and the
 * caller's stack pointer (its CFA). An entry remembers, for every outer frame, the stack slot
 * that holds its return address. A lookup re-reads those slots: if every one still holds the
 * same return address, the call chain is the same and so is the stack; otherwise we unwind.
 *
 * Why this is safe: slots are found by scanning upward from the CFA for each return address in
 * order, and an entry is kept only if every slot lies inside this thread's own stack (bounds
 * from pp_thread_stack), so a lookup reads only mapped memory of this thread's stack. The
 * key includes the CFA, so a call from a signal or coroutine stack never matches an entry made
 * on the thread's stack. The residual risk is a stale copy of a return address in a local
 * variable sitting below the real slot while the real frame changes: the site (frame 0) is
 * still exact — it is the key — only a caller frame could be misattributed.
 *
 * Economy: the scan costs as much as a few unwinds, so an entry is scanned only when its
 * (ret, cfa) comes back a second time (the first miss just records the key), scans stop after
 * 32 KiB of stack, a call whose outer frames keep changing is not rescanned, and a thread
 * whose lookups mostly miss (deep, varying recursion) stops using the cache for a while. perf on cppcheck showed the scan at 29% of its time before these.
 */
#define _GNU_SOURCE
#include <string.h>

#include "shim.h"

#define ENTRIES 256
#define MAX_SLOTS 64          /* stacks deeper than this are not cached */
#define MAX_SCAN_BYTES (32u << 10) /* deeper or bigger frames: not worth a scan */
#define WINDOW 4096           /* lookups per hit-rate check */
#define MIN_HITS (WINDOW / 4) /* below a 25% hit rate the cache pauses... */
#define PAUSE 65536           /* ...for this many allocations */

struct entry {
    uintptr_t ret, cfa;
    struct pp_stack *stack;
    const uintptr_t *ips;
    uint16_t nslots;
    uint16_t changes;             /* times the outer frames were found changed */
    uint32_t slot_off[MAX_SLOTS]; /* slot of ips[k + 1] = cfa + slot_off[k] */
};

/* A call whose outer frames keep changing (same function called from many places at the same
 * depth) is not worth rescanning: after this many changes it is just unwound. */
#define MAX_CHANGES 2

struct pp_framecache {
    uintptr_t stack_lo, stack_hi;
    uint32_t lookups, hits, paused;
    struct entry entries[ENTRIES];
};

static struct entry *slot_for(struct pp_framecache *c, uintptr_t ret, uintptr_t cfa)
{
    uint64_t h = (ret ^ (cfa * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    return &c->entries[(h >> 40) % ENTRIES];
}

/* noinline (here and for the fill): valgrind's suppressions for the deliberate reads of
 * never-written stack words (tests/valgrind.supp) name these two functions. */
__attribute__((noinline)) struct pp_stack *pp_framecache_lookup(struct pp_thread *t,
                                                                uintptr_t ret, uintptr_t cfa)
{
    struct pp_framecache *c = t->framecache;
    if (!c)
        return NULL;
    if (c->paused) {
        c->paused--;
        return NULL;
    }
    if (++c->lookups == WINDOW) {
        if (c->hits < MIN_HITS)
            c->paused = PAUSE;
        c->lookups = c->hits = 0;
    }
    struct entry *e = slot_for(c, ret, cfa);
    if (e->ret != ret || e->cfa != cfa || !e->stack)
        return NULL;
    for (uint32_t k = 0; k < e->nslots; k++)
        if (*(const uintptr_t *)(cfa + e->slot_off[k]) != e->ips[k + 1]) {
            if (e->changes < MAX_CHANGES)
                e->changes++;
            return NULL;
        }
    c->hits++;
    return e->stack;
}

__attribute__((noinline)) void pp_framecache_fill(struct pp_thread *t, uintptr_t ret,
                                                  uintptr_t cfa, struct pp_stack *s,
                                                  const uintptr_t *ips, unsigned depth)
{
    struct pp_framecache *c = t->framecache;
    if (!c) {
        if (t->framecache_failed || t->exiting)
            return;
        c = pp_arena_alloc(sizeof *c);
        if (!c || !pp_thread_stack(t, cfa, &c->stack_lo, &c->stack_hi)) {
            pp_arena_free(c, sizeof *c);
            t->framecache_failed = 1;
            return;
        }
        t->framecache = c;
    }
    if (c->paused || depth == 0 || depth > MAX_SLOTS + 1 || ips[0] != ret)
        return;
    if (cfa < c->stack_lo + 8 || cfa >= c->stack_hi || *(const uintptr_t *)(cfa - 8) != ret)
        return; /* not on this thread's stack, or not the frame layout we expect */
    struct entry *e = slot_for(c, ret, cfa);
    if (e->ret != ret || e->cfa != cfa) {
        /* First sighting of this call: remember it, scan only if it comes back. */
        e->ret = ret;
        e->cfa = cfa;
        e->stack = NULL;
        e->changes = 0;
        return;
    }
    if (e->changes >= MAX_CHANGES)
        return;
    e->stack = NULL; /* invalid until complete */
    uintptr_t limit = c->stack_hi;
    if (limit - cfa > MAX_SCAN_BYTES)
        limit = cfa + MAX_SCAN_BYTES;
    const uintptr_t *p = (const uintptr_t *)cfa;
    for (unsigned k = 1; k < depth; k++) {
        while ((uintptr_t)(p + 1) <= limit && *p != ips[k])
            p++;
        if ((uintptr_t)(p + 1) > limit)
            return;
        e->slot_off[k - 1] = (uint32_t)((uintptr_t)p - cfa);
        p++;
    }
    e->ips = ips;
    e->nslots = (uint16_t)(depth - 1);
    e->stack = s;
}

void pp_framecache_release(struct pp_thread *t)
{
    pp_arena_free(t->framecache, sizeof *t->framecache);
    t->framecache = NULL;
}
