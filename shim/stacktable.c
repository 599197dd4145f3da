/* stacktable.c — the stack table: each distinct call stack interned once, then named by its id.
 *
 * A stack is interned once (global uthash under a lock, cold path) and then found through the
 * calling thread's own view of the stacks it has seen (a flat hash table, no lock). Stack ids
 * index a two-level array that the writer reads without a lock. A stack never changes once
 * interned and is never freed, so a pointer to one stays valid for the life of the process.
 *
 * This file only names stacks: what happens at a stack is counted by stackstats.c, by id. It
 * calls nothing but the arena (for uthash, the views and the stacks themselves).
 */
#define _GNU_SOURCE
#include <string.h>

#include "shim.h"

static int table_oom;
#define HASH_NONFATAL_OOM 1
#define uthash_malloc(sz) pp_arena_alloc(sz)
#define uthash_free(ptr, sz) pp_arena_free((ptr), (sz))
#define uthash_nonfatal_oom(obj) (table_oom = 1)
#include <uthash.h>

/* The ips sit in the same arena block as the rest (one block per stack, not two: with the
 * arena's power-of-two blocks, a separate copy of 40 ips took 512 bytes besides the 128 of
 * the entry). */
struct pp_stack {
    UT_hash_handle hh;
    uint32_t id;
    uint16_t depth, flags;
    uintptr_t ips[];
};

/* A thread's view of the stack table: open addressing over (hash, stack) pairs, so a lookup
 * compares hashes in one contiguous array and touches a stack's ips only on a likely match.
 * (It replaced a per-thread uthash whose chain walks were 35% of the shim's own time on
 * cppcheck: every chain element is a cache miss.) Grows at half load; never shrinks. */
struct pp_stack_view_slot {
    uint64_t hash;
    struct pp_stack *stack;
};

struct pp_stack_ref {
    uint32_t mask, count;
    struct pp_stack_view_slot slots[];
};

#define VIEW_INITIAL 1024

/* Stack ids: PAGE_SLOTS stacks per page, up to PP_MAX_STACKS. */
#define PAGE_SLOTS 4096u
static struct pp_stack **pages[PP_MAX_STACKS / PAGE_SLOTS];
static atomic_uint nstacks;
static struct pp_stack *table;

/* A forked child's table does not grow its buckets until the child has added CHILD_QUIET_ADDS
 * stacks of its own. Growing rehashes every stack, rewriting the uthash handle in each: in a
 * child every page holding one is then copied (perf: 285-330 page faults, 1.3 ms, per bash
 * subshell in the address layouts where its few new stacks crossed a bucket threshold). The
 * chains grow a little meanwhile; a child that keeps interning pays the rehash once, later. */
#define CHILD_QUIET_ADDS 4096
static uint32_t child_adds; /* 1 + stacks added since the fork while quiet; 0: not quiet */
static pp_spinlock table_lock;

/* Four independent lanes, so the multiplies of a deep stack overlap instead of forming one
 * dependency chain (the single-lane version was 17% of the shim's time on cppcheck). */
static uint64_t hash_ips(const uintptr_t *ips, unsigned depth)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t l0 = depth, l1 = 0x243f6a8885a308d3ull, l2 = 0x13198a2e03707344ull,
             l3 = 0xa4093822299f31d0ull;
    unsigned i = 0;
    for (; i + 4 <= depth; i += 4) {
        l0 = (l0 ^ ips[i]) * k;
        l1 = (l1 ^ ips[i + 1]) * k;
        l2 = (l2 ^ ips[i + 2]) * k;
        l3 = (l3 ^ ips[i + 3]) * k;
    }
    for (; i < depth; i++)
        l0 = (l0 ^ ips[i]) * k;
    uint64_t h = l0 ^ (l1 >> 17 | l1 << 47) ^ (l2 >> 31 | l2 << 33) ^ (l3 >> 47 | l3 << 17);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

static size_t view_bytes(uint32_t slots)
{
    return sizeof(struct pp_stack_ref) + (size_t)slots * sizeof(struct pp_stack_view_slot);
}

static struct pp_stack *view_find(const struct pp_stack_ref *v, uint64_t h, const uintptr_t *ips,
                                  unsigned depth)
{
    if (!v)
        return NULL;
    for (uint32_t i = (uint32_t)h & v->mask; v->slots[i].stack; i = (i + 1) & v->mask) {
        const struct pp_stack *s = v->slots[i].stack;
        if (v->slots[i].hash == h && s->depth == depth &&
            !memcmp(s->ips, ips, depth * sizeof *ips))
            return v->slots[i].stack;
    }
    return NULL;
}

static void view_put(struct pp_stack_ref *v, uint64_t h, struct pp_stack *s)
{
    uint32_t i = (uint32_t)h & v->mask;
    while (v->slots[i].stack)
        i = (i + 1) & v->mask;
    v->slots[i] = (struct pp_stack_view_slot){h, s};
    v->count++;
}

/* Adds s to the thread's view, growing it first at half load; on out of memory the view just
 * stays as it is (lookups then go to the global table). */
static void view_add(struct pp_thread *t, uint64_t h, struct pp_stack *s)
{
    struct pp_stack_ref *v = t->cache;
    if (!v || (v->count + 1) * 2 > v->mask + 1) {
        uint32_t slots = v ? (v->mask + 1) * 2 : VIEW_INITIAL;
        struct pp_stack_ref *bigger = pp_arena_alloc(view_bytes(slots));
        if (!bigger)
            return;
        bigger->mask = slots - 1;
        for (uint32_t i = 0; v && i <= v->mask; i++)
            if (v->slots[i].stack)
                view_put(bigger, v->slots[i].hash, v->slots[i].stack);
        if (v)
            pp_arena_free(v, view_bytes(v->mask + 1));
        t->cache = v = bigger;
    }
    view_put(v, h, s);
}

static struct pp_stack *create(const uintptr_t *ips, unsigned depth, int truncated)
{
    uint32_t id = atomic_load_explicit(&nstacks, memory_order_relaxed);
    if (id >= PP_MAX_STACKS)
        return NULL;
    struct pp_stack ***page = &pages[id / PAGE_SLOTS];
    if (!*page && !(*page = pp_arena_alloc(PAGE_SLOTS * sizeof **page)))
        return NULL;
    struct pp_stack *s = pp_arena_alloc(sizeof *s + depth * sizeof *ips);
    if (!s)
        return NULL;
    memcpy(s->ips, ips, depth * sizeof *ips);
    s->id = id;
    s->depth = (uint16_t)depth;
    s->flags = truncated ? PP_STACK_F_TRUNCATED : 0;
    (*page)[id % PAGE_SLOTS] = s;
    /* Publish the id only once the slot is filled: frees read pages without the lock. */
    atomic_store_explicit(&nstacks, id + 1, memory_order_release);
    return s;
}

struct pp_stack *pp_stack_intern(struct pp_thread *t, const uintptr_t *ips, unsigned depth,
                                 int truncated, int *fresh_out)
{
    unsigned keylen = depth * (unsigned)sizeof *ips;
    uint64_t h = hash_ips(ips, depth);
    struct pp_stack *s = view_find(t->cache, h, ips, depth);
    *fresh_out = 0;
    if (PP_LIKELY(s))
        return s;

    unsigned hv = (unsigned)(h ^ (h >> 32));
    int fresh = 0;
    pp_spin_lock(&table_lock);
    HASH_FIND_BYHASHVALUE(hh, table, ips, keylen, hv, s);
    if (!s && (s = create(ips, depth, truncated))) {
        table_oom = 0;
        HASH_ADD_KEYPTR_BYHASHVALUE(hh, table, s->ips, keylen, hv, s);
        fresh = 1;
        if (PP_UNLIKELY(child_adds) && ++child_adds > CHILD_QUIET_ADDS) {
            table->hh.tbl->noexpand = 0;
            child_adds = 0;
        }
        /* On a failed add the stack still has its id and is usable; it is only found again
         * through thread views, which is fine: it may be interned twice, never lost. */
    }
    pp_spin_unlock(&table_lock);
    if (!s)
        return NULL;

    *fresh_out = fresh;
    if (!t->exiting)
        view_add(t, h, s);
    return s;
}

struct pp_stack *pp_stack_by_id(uint32_t id)
{
    if (id >= atomic_load_explicit(&nstacks, memory_order_acquire))
        return NULL;
    return pages[id / PAGE_SLOTS][id % PAGE_SLOTS];
}

const uintptr_t *pp_stack_ips(const struct pp_stack *s)
{
    return s->ips;
}

unsigned pp_stack_depth(const struct pp_stack *s)
{
    return s->depth;
}

uint32_t pp_stack_id(const struct pp_stack *s)
{
    return s->id;
}

void pp_stack_view(const struct pp_stack *s, struct pp_stack_view *v)
{
    v->id = s->id;
    v->depth = s->depth;
    v->flags = s->flags;
    v->ips = s->ips;
}

uint32_t pp_stack_count(void)
{
    return atomic_load_explicit(&nstacks, memory_order_acquire);
}

void pp_stack_cache_clear(struct pp_thread *t)
{
    if (t->cache)
        pp_arena_free(t->cache, view_bytes(t->cache->mask + 1));
    t->cache = NULL;
}

/* ---- fork ---- */

void pp_stack_lock_for_fork(void)
{
    pp_spin_lock(&table_lock);
}

void pp_stack_unlock_after_fork(void)
{
    pp_spin_unlock(&table_lock);
}

void pp_stack_child_after_fork(void)
{
    pp_spin_unlock(&table_lock);
    if (table) {
        table->hh.tbl->noexpand = 1;
        child_adds = 1;
    }
}

