/* stack.c — the stack table and what the shim aggregates per distinct call stack.
 *
 * A stack is interned once (global uthash under a lock, cold path) and then found through the
 * calling thread's own view of the stacks it has seen (a flat hash table, no lock). Stack ids index a two-level
 * array that frees read without a lock. Each stack's aggregates sit behind its own spinlock: a
 * global lock never sits on the hot path; two threads contend only when they allocate from the
 * very same stack at the same moment.
 *
 * What is aggregated is listed field by field in trace_format.h (PP_REC_STATS). The size
 * histogram keeps up to PP_EXACT_VALUES distinct values exactly (most sites have one or two
 * sizes, so their percentiles are exact) and spills into log-linear buckets beyond that.
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

#define PP_EXACT_VALUES 8
#define PP_POOL_LEVELS 13 /* what-if free lists of capacity 1, 2, 4 ... 4096 */
#define PP_FREE_CALLERS 4

struct value_hist {
    uint8_t nexact;
    uint64_t value[PP_EXACT_VALUES], count[PP_EXACT_VALUES];
    uint64_t *buckets; /* PP_SIZE_BUCKETS, arena, once more than PP_EXACT_VALUES values */
};

struct free_caller {
    uintptr_t addr;
    uint64_t count;
};

struct aggregate {
    uint64_t allocs, frees, alloc_bytes, min_size, max_size;
    uint64_t live_bytes, peak_live, peak_live_bytes; /* blocks live: allocs - frees */
    uint64_t cross_thread_frees, realloc_calls, realloc_grows, chains_freed, lifetime_ns_sum;
    struct free_caller free_callers[PP_FREE_CALLERS];
    uint64_t other_free_callers;
    uint32_t pooled[PP_POOL_LEVELS];
    uint64_t pool_hits[PP_POOL_LEVELS];
    uint64_t lifetime_ns[PP_LIFETIME_NS_BUCKETS];
    uint64_t lifetime_allocs[PP_LIFETIME_ALLOCS_BUCKETS];
};

/* A stack's aggregates come in two lanes, chosen by the parity of the allocating thread's
 * index, each behind its own lock on its own cache lines: two threads allocating from the same
 * stack then rarely fight over one line (allocbench on 2 threads spent its extra time moving
 * the stack's lock between cores). A block's free, realloc and lifetime go to the lane that
 * allocated it (the side table keeps the thread), so each lane's live count stays exact. Lane 1
 * is allocated when first needed: a single-threaded program has one lane, and its counts,
 * peak and replayed free list are exact. With two lanes the writer adds them up: counts stay
 * exact; the peak becomes the sum of the lanes' peaks (an upper bound) and the replayed free
 * list one per lane, as a per-thread pool would be. */
struct lane {
    pp_spinlock lock;
    struct aggregate agg;
    struct value_hist size, chain_final;
} __attribute__((aligned(64)));

struct pp_stack {
    UT_hash_handle hh;
    uint32_t id;
    uint16_t depth, flags;
    uintptr_t *ips;
    _Atomic(struct lane *) lane1;
    struct lane lane0;
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

/* Stack ids: PAGE_SLOTS stacks per page, up to 2^24 stacks (the side table keeps 24 bits). */
#define PAGE_SLOTS 4096u
#define MAX_STACKS (1u << 24)
static struct pp_stack **pages[MAX_STACKS / PAGE_SLOTS];
static atomic_uint nstacks;
static struct pp_stack *table;
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
    if (id >= MAX_STACKS)
        return NULL;
    struct pp_stack ***page = &pages[id / PAGE_SLOTS];
    if (!*page && !(*page = pp_arena_alloc(PAGE_SLOTS * sizeof **page)))
        return NULL;
    struct pp_stack *s = pp_arena_alloc(sizeof *s);
    uintptr_t *copy = pp_arena_alloc(depth * sizeof *ips);
    if (!s || !copy) {
        pp_arena_free(s, sizeof *s);
        pp_arena_free(copy, depth * sizeof *ips);
        return NULL;
    }
    memcpy(copy, ips, depth * sizeof *ips);
    s->id = id;
    s->depth = (uint16_t)depth;
    s->flags = truncated ? PP_STACK_F_TRUNCATED : 0;
    s->ips = copy;
    s->lane0.agg.min_size = UINT64_MAX;
    (*page)[id % PAGE_SLOTS] = s;
    /* Publish the id only once the slot is filled: frees read pages without the lock. */
    atomic_store_explicit(&nstacks, id + 1, memory_order_release);
    return s;
}

struct pp_stack *pp_stack_intern(struct pp_thread *t, const uintptr_t *ips, unsigned depth,
                                 int truncated)
{
    unsigned keylen = depth * (unsigned)sizeof *ips;
    uint64_t h = hash_ips(ips, depth);
    struct pp_stack *s = view_find(t->cache, h, ips, depth);
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
        /* On a failed add the stack still has its id and is usable; it is only found again
         * through thread views, which is fine: it may be interned twice, never lost. */
    }
    pp_spin_unlock(&table_lock);
    if (!s)
        return NULL;

    if (fresh) {
        /* A stack through code we have not mapped yet means something was dlopen'ed. */
        for (unsigned i = 0; i < depth; i++)
            if (!pp_modules_cover(ips[i])) {
                pp_modules_scan();
                break;
            }
    }
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

uint32_t pp_stack_id(const struct pp_stack *s)
{
    return s->id;
}

uint32_t pp_stack_count(void)
{
    return atomic_load_explicit(&nstacks, memory_order_acquire);
}

static void hist_add(uint64_t *buckets, unsigned nbuckets, unsigned sub_bits, uint64_t v,
                     uint64_t n)
{
    unsigned i = pp_hist_index(v, sub_bits);
    buckets[i < nbuckets ? i : nbuckets - 1] += n;
}

/* Moves h's exact values into buckets (PP_SIZE_BUCKETS of them, zeroed). */
static void spill(struct value_hist *h, uint64_t *buckets)
{
    for (unsigned i = 0; i < h->nexact; i++)
        hist_add(buckets, PP_SIZE_BUCKETS, PP_SIZE_SUB_BITS, h->value[i], h->count[i]);
    h->nexact = 0;
    h->buckets = buckets;
}

/* Adds n occurrences of v. When the exact values run out, the buckets come from spare (the
 * writer's snapshot) or, when spare is NULL, from the arena. Called with the lane locked; the
 * arena has its own lock and never calls malloc. */
static void value_hist_add(struct value_hist *h, uint64_t v, uint64_t n, uint64_t *spare)
{
    if (PP_LIKELY(!h->buckets)) {
        for (unsigned i = 0; i < h->nexact; i++)
            if (h->value[i] == v) {
                h->count[i] += n;
                return;
            }
        if (h->nexact < PP_EXACT_VALUES) {
            h->value[h->nexact] = v;
            h->count[h->nexact++] = n;
            return;
        }
        uint64_t *buckets = spare ? spare : pp_arena_alloc(PP_SIZE_BUCKETS * sizeof *buckets);
        if (!buckets) {
            pp_tracking_lost("no memory for a size histogram");
            return;
        }
        spill(h, buckets);
    }
    hist_add(h->buckets, PP_SIZE_BUCKETS, PP_SIZE_SUB_BITS, v, n);
}

static void note_live_bytes(struct aggregate *a, int64_t delta)
{
    a->live_bytes += (uint64_t)delta;
    if (a->live_bytes > a->peak_live_bytes)
        a->peak_live_bytes = a->live_bytes;
}

/* The lane for a thread index (see struct lane); lane 1 is made on first use, and if that fails
 * the thread shares lane 0, which is only slower. */
static struct lane *lane_of(struct pp_stack *s, uint32_t thread)
{
    if (!(thread & 1))
        return &s->lane0;
    struct lane *l = atomic_load_explicit(&s->lane1, memory_order_acquire);
    if (PP_LIKELY(l))
        return l;
    struct lane *fresh = pp_arena_alloc(sizeof *fresh);
    if (!fresh)
        return &s->lane0;
    fresh->agg.min_size = UINT64_MAX;
    if (!atomic_compare_exchange_strong_explicit(&s->lane1, &l, fresh, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        pp_arena_free(fresh, sizeof *fresh);
        return l;
    }
    return fresh;
}

void pp_stack_on_alloc(struct pp_stack *s, uint32_t thread, uint64_t size)
{
    struct lane *l = lane_of(s, thread);
    pp_spin_lock(&l->lock);
    struct aggregate *a = &l->agg;
    a->allocs++;
    a->alloc_bytes += size;
    if (size < a->min_size)
        a->min_size = size;
    if (size > a->max_size)
        a->max_size = size;
    if (a->allocs - a->frees > a->peak_live)
        a->peak_live = a->allocs - a->frees;
    note_live_bytes(a, (int64_t)size);
    value_hist_add(&l->size, size, 1, NULL);
    /* What-if free list: an allocation is served when the list is not empty. */
    for (unsigned k = 0; k < PP_POOL_LEVELS; k++)
        if (a->pooled[k]) {
            a->pooled[k]--;
            a->pool_hits[k]++;
        }
    pp_spin_unlock(&l->lock);
}

void pp_stack_on_free(struct pp_stack *s, uint32_t thread, uint64_t size, uint64_t lifetime_ns,
                      uint64_t lifetime_allocs, int cross_thread, uintptr_t free_caller,
                      int was_realloced)
{
    struct lane *l = lane_of(s, thread);
    pp_spin_lock(&l->lock);
    struct aggregate *a = &l->agg;
    a->frees++;
    note_live_bytes(a, -(int64_t)size);
    a->lifetime_ns_sum += lifetime_ns;
    hist_add(a->lifetime_ns, PP_LIFETIME_NS_BUCKETS, PP_LIFETIME_NS_SUB_BITS, lifetime_ns, 1);
    hist_add(a->lifetime_allocs, PP_LIFETIME_ALLOCS_BUCKETS, PP_LIFETIME_ALLOCS_SUB_BITS,
             lifetime_allocs, 1);
    if (cross_thread)
        a->cross_thread_frees++;
    unsigned i;
    for (i = 0; i < PP_FREE_CALLERS; i++) {
        if (a->free_callers[i].addr == free_caller) {
            a->free_callers[i].count++;
            break;
        }
        if (a->free_callers[i].count == 0) {
            a->free_callers[i].addr = free_caller;
            a->free_callers[i].count = 1;
            break;
        }
    }
    if (i == PP_FREE_CALLERS)
        a->other_free_callers++;
    if (was_realloced) {
        a->chains_freed++;
        value_hist_add(&l->chain_final, size, 1, NULL);
    }
    /* What-if free list: a freed block goes back to the list unless it is full. */
    for (unsigned k = 0; k < PP_POOL_LEVELS; k++)
        if (a->pooled[k] < (1u << k))
            a->pooled[k]++;
    pp_spin_unlock(&l->lock);
}

void pp_stack_on_realloc(struct pp_stack *s, uint32_t thread, uint64_t old_size,
                         uint64_t new_size)
{
    struct lane *l = lane_of(s, thread);
    pp_spin_lock(&l->lock);
    l->agg.realloc_calls++;
    if (new_size > old_size)
        l->agg.realloc_grows++;
    note_live_bytes(&l->agg, (int64_t)(new_size - old_size));
    pp_spin_unlock(&l->lock);
}

void pp_stack_cache_clear(struct pp_thread *t)
{
    if (t->cache)
        pp_arena_free(t->cache, view_bytes(t->cache->mask + 1));
    t->cache = NULL;
}

/* ---- a consistent sum of a stack's lanes, for the writer ---- */

struct snapshot {
    struct aggregate agg;
    struct value_hist size, chain_final;
    uint64_t size_buckets[PP_SIZE_BUCKETS], chain_buckets[PP_SIZE_BUCKETS];
};

/* dst += src, into dst's local buckets once exact values no longer fit. */
static void merge_value_hist(struct value_hist *dst, uint64_t *dst_buckets,
                             const struct value_hist *src)
{
    for (unsigned i = 0; i < src->nexact; i++)
        value_hist_add(dst, src->value[i], src->count[i], dst_buckets);
    if (!src->buckets)
        return;
    if (!dst->buckets)
        spill(dst, dst_buckets);
    for (unsigned b = 0; b < PP_SIZE_BUCKETS; b++)
        dst_buckets[b] += src->buckets[b];
}

static void merge_lane(struct snapshot *d, struct lane *l)
{
    pp_spin_lock(&l->lock);
    struct aggregate *a = &d->agg;
    const struct aggregate *b = &l->agg;
    if (b->allocs && (!a->allocs || b->min_size < a->min_size))
        a->min_size = b->min_size;
    if (b->max_size > a->max_size)
        a->max_size = b->max_size;
    a->allocs += b->allocs;
    a->frees += b->frees;
    a->alloc_bytes += b->alloc_bytes;
    a->live_bytes += b->live_bytes;
    a->peak_live += b->peak_live;
    a->peak_live_bytes += b->peak_live_bytes;
    a->cross_thread_frees += b->cross_thread_frees;
    a->realloc_calls += b->realloc_calls;
    a->realloc_grows += b->realloc_grows;
    a->chains_freed += b->chains_freed;
    a->lifetime_ns_sum += b->lifetime_ns_sum;
    a->other_free_callers += b->other_free_callers;
    for (unsigned i = 0; i < PP_FREE_CALLERS && b->free_callers[i].count; i++) {
        unsigned j = 0;
        while (j < PP_FREE_CALLERS && a->free_callers[j].count &&
               a->free_callers[j].addr != b->free_callers[i].addr)
            j++;
        if (j == PP_FREE_CALLERS) {
            a->other_free_callers += b->free_callers[i].count;
            continue;
        }
        a->free_callers[j].addr = b->free_callers[i].addr;
        a->free_callers[j].count += b->free_callers[i].count;
    }
    for (unsigned k = 0; k < PP_POOL_LEVELS; k++)
        a->pool_hits[k] += b->pool_hits[k];
    for (unsigned k = 0; k < PP_LIFETIME_NS_BUCKETS; k++)
        a->lifetime_ns[k] += b->lifetime_ns[k];
    for (unsigned k = 0; k < PP_LIFETIME_ALLOCS_BUCKETS; k++)
        a->lifetime_allocs[k] += b->lifetime_allocs[k];
    merge_value_hist(&d->size, d->size_buckets, &l->size);
    merge_value_hist(&d->chain_final, d->chain_buckets, &l->chain_final);
    pp_spin_unlock(&l->lock);
}

static void take_snapshot(struct pp_stack *s, struct snapshot *d)
{
    memset(d, 0, sizeof *d);
    merge_lane(d, &s->lane0);
    struct lane *l1 = atomic_load_explicit(&s->lane1, memory_order_acquire);
    if (l1)
        merge_lane(d, l1);
}

void pp_stack_view(struct pp_stack *s, struct pp_stack_view *v)
{
    v->id = s->id;
    v->depth = s->depth;
    v->flags = s->flags;
    v->ips = s->ips;
}

/* ---- encoding of one STATS entry (the writer owns the file; the layout is ours) ---- */

static unsigned char *encode_buckets(unsigned char *p, const uint64_t *b, unsigned n,
                                     unsigned sub_bits)
{
    uint16_t nonzero = 0;
    for (unsigned i = 0; i < n; i++)
        nonzero += b[i] != 0;
    if (!nonzero) {
        p = pp_put_u8(p, PP_HIST_EXACT);
        return pp_put_u16(p, 0);
    }
    p = pp_put_u8(p, PP_HIST_LOGLIN);
    p = pp_put_u8(p, (uint8_t)sub_bits);
    p = pp_put_u16(p, nonzero);
    for (unsigned i = 0; i < n; i++)
        if (b[i]) {
            p = pp_put_u16(p, (uint16_t)i);
            p = pp_put_u64(p, b[i]);
        }
    return p;
}

static unsigned char *encode_value_hist(unsigned char *p, const struct value_hist *h)
{
    if (h->buckets)
        return encode_buckets(p, h->buckets, PP_SIZE_BUCKETS, PP_SIZE_SUB_BITS);
    unsigned order[PP_EXACT_VALUES];
    for (unsigned i = 0; i < h->nexact; i++) {
        unsigned j = i;
        while (j > 0 && h->value[order[j - 1]] > h->value[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    p = pp_put_u8(p, PP_HIST_EXACT);
    p = pp_put_u16(p, h->nexact);
    for (unsigned i = 0; i < h->nexact; i++) {
        p = pp_put_u64(p, h->value[order[i]]);
        p = pp_put_u64(p, h->count[order[i]]);
    }
    return p;
}

size_t pp_stack_stats_max_size(void)
{
    return 4 + 14 * 8 + 1 + PP_FREE_CALLERS * 16 + 8 + 1 + PP_POOL_LEVELS * 12 +
           2 * (4 + PP_SIZE_BUCKETS * 10) + (4 + PP_LIFETIME_NS_BUCKETS * 10) +
           (4 + PP_LIFETIME_ALLOCS_BUCKETS * 10);
}

/* The snapshot is big (two bucket arrays): a writer runs in a hook, possibly deep in the
 * host's stack, so it lives in static storage; there is one writer at a time (writer.c). */
static struct snapshot encoding;

unsigned char *pp_stack_encode_stats(struct pp_stack *s, unsigned char *p, unsigned char *end)
{
    (void)end; /* the caller reserved pp_stack_stats_max_size() bytes */
    struct snapshot *d = &encoding;
    take_snapshot(s, d);
    const struct aggregate *a = &d->agg;
    if (!a->allocs && !a->frees)
        return p; /* nothing to say about this stack */
    p = pp_put_u32(p, s->id);
    p = pp_put_u64(p, a->allocs);
    p = pp_put_u64(p, a->frees);
    p = pp_put_u64(p, a->alloc_bytes);
    p = pp_put_u64(p, a->allocs ? a->min_size : 0);
    p = pp_put_u64(p, a->max_size);
    p = pp_put_u64(p, a->live_bytes);
    p = pp_put_u64(p, a->peak_live);
    p = pp_put_u64(p, a->peak_live_bytes);
    p = pp_put_u64(p, a->cross_thread_frees);
    p = pp_put_u64(p, a->realloc_calls);
    p = pp_put_u64(p, a->realloc_grows);
    p = pp_put_u64(p, a->chains_freed);
    p = pp_put_u64(p, a->lifetime_ns_sum);
    uint8_t ncallers = 0;
    while (ncallers < PP_FREE_CALLERS && a->free_callers[ncallers].count)
        ncallers++;
    p = pp_put_u8(p, ncallers);
    for (unsigned i = 0; i < ncallers; i++) {
        p = pp_put_u64(p, a->free_callers[i].addr);
        p = pp_put_u64(p, a->free_callers[i].count);
    }
    p = pp_put_u64(p, a->other_free_callers);
    p = pp_put_u8(p, PP_POOL_LEVELS);
    for (unsigned k = 0; k < PP_POOL_LEVELS; k++) {
        p = pp_put_u32(p, 1u << k);
        p = pp_put_u64(p, a->pool_hits[k]);
    }
    p = encode_value_hist(p, &d->size);
    p = encode_buckets(p, a->lifetime_ns, PP_LIFETIME_NS_BUCKETS, PP_LIFETIME_NS_SUB_BITS);
    p = encode_buckets(p, a->lifetime_allocs, PP_LIFETIME_ALLOCS_BUCKETS,
                       PP_LIFETIME_ALLOCS_SUB_BITS);
    p = encode_value_hist(p, &d->chain_final);
    return p;
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

static void reset_value_hist(struct value_hist *h)
{
    uint64_t *b = h->buckets;
    memset(h, 0, sizeof *h);
    if (b) {
        memset(b, 0, PP_SIZE_BUCKETS * sizeof *b);
        h->buckets = b;
    }
}

static void reset_lane(struct lane *l)
{
    atomic_store(&l->lock.held, 0);
    memset(&l->agg, 0, sizeof l->agg);
    l->agg.min_size = UINT64_MAX;
    reset_value_hist(&l->size);
    reset_value_hist(&l->chain_final);
}

/* Child of fork: only the forking thread survives, so no stack lock can be legitimately held;
 * a lock another parent thread held at fork time is simply released. Counts restart at 0. */
void pp_stack_reset_after_fork(void)
{
    uint32_t n = pp_stack_count();
    for (uint32_t id = 0; id < n; id++) {
        struct pp_stack *s = pages[id / PAGE_SLOTS][id % PAGE_SLOTS];
        reset_lane(&s->lane0);
        struct lane *l1 = atomic_load(&s->lane1);
        if (l1)
            reset_lane(l1);
    }
}
