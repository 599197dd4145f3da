/* stackstats.c — what the shim aggregates per distinct call stack, indexed by stack id.
 *
 * The stack table (stacktable.c) says which stack a call came from; this file counts what
 * happened there: allocations, frees, sizes, lifetimes, realloc growth, free callers and the
 * what-if free lists. It knows nothing of how stacks are found, and nothing of the trace: the
 * writer asks for a plain copy (pp_stats_snapshot) and encodes it itself.
 *
 * Storage: a two-level array by stack id (pages of PAGE_SLOTS entries, made on first use and
 * published with a compare-and-swap), so a free goes from the id the side table kept straight
 * to its counters without the stack table. Each entry's counters come in two lanes (below),
 * each behind its own spinlock held only for the few additions of one event (and none while
 * the process has one thread: solo.c): no global lock, no system call, no allocation but the
 * arena's, once per new stack or spilled histogram.
 *
 * What is aggregated is listed field by field in trace_format.h (PP_REC_STATS). The size
 * histogram keeps up to PP_EXACT_VALUES distinct values exactly (most sites have one or two
 * sizes, so their percentiles are exact) and spills into log-linear buckets beyond that.
 *
 * Memory: a program may have hundreds of thousands of stacks, most with a handful of events, so
 * an entry holds only what its events update, in small forms that grow from the arena when a
 * stack needs them: the size histogram's exact values, the lifetime histograms' few buckets in
 * use, the final sizes of realloc chains (made on the first). Whatever only a snapshot needs
 * (the what-if hits per level, full bucket arrays to sum into) lives in the writer's snapshot,
 * not in every entry. An entry is one 768-byte arena block (test_stackstats checks it): it was
 * 4 KiB, with both lifetime histograms in full.
 */
#define _GNU_SOURCE
#include <string.h>

#include "shim.h"

/* A stack's aggregates come in two lanes, chosen by the parity of the allocating thread's
 * index, each behind its own lock on its own cache lines: two threads allocating from the same
 * stack then rarely fight over one line (allocbench on 2 threads spent its extra time moving
 * the stack's lock between cores). A block's free, realloc and lifetime go to the lane that
 * allocated it (the side table keeps the thread), so each lane's live count stays exact. Lane 1
 * is allocated when first needed: a single-threaded program has one lane, and its counts,
 * peak and replayed free list are exact. With two lanes the snapshot adds them up: counts stay
 * exact; the peak becomes the sum of the lanes' peaks (an upper bound) and the replayed free
 * list one per lane, as a per-thread pool would be. */
/* Blocks live per allocating thread, for the peak of one thread (a per-thread pool's capacity):
 * a few slots per lane, found by a scan under the lane's lock (one slot in the common case of
 * one thread per stack and lane). Threads past the slots share the last one, whose peak is then
 * an upper bound. thread is the index + 1, 0 = free slot. */
#define THREAD_SLOTS 8
struct thread_live {
    uint32_t thread;
    uint32_t live;
};

/* The what-if free lists: level k is a free list of capacity 2^k that this lane's frees fill
 * and its allocations drain; an allocation is a hit at level k when that list is not empty.
 *
 * The levels are ordered, which is what makes them cheap. Two lists of capacities c < c' fed
 * the same events never cross: the smaller never holds more blocks than the larger (both moves,
 * "take one if any" and "put one back unless full", keep the order), and never has more free
 * room either (the same argument on the room). So the empty levels are always the lowest ones,
 * 0..z-1, and an allocation misses exactly there: instead of a hit counter per level, the lane
 * counts the allocations that found z levels empty (misses_at[z - 1]), and a level's hits are
 * the lane's allocations minus the misses at every z > k (pool_sim_hits). The counts themselves
 * (at most 4096, so 16 bits) sit in two vectors of eight, GCC's vector extensions: one event
 * updates all 13 levels in a few SSE2 instructions (plain code on other CPUs) where a loop of
 * compares cost about 130 instructions per event (callgrind, allocbench). */
#define LEVEL_SLOTS 16 /* PP_POOL_LEVELS rounded up to two vectors; the spare slots stay 0 */
typedef int16_t level_vec __attribute__((vector_size(16)));
struct pool_sim {
    level_vec held[2];                  /* blocks on each level's list */
    uint64_t misses_at[PP_POOL_LEVELS]; /* [z - 1]: allocations that found levels 0..z-1 empty */
};
_Static_assert(PP_POOL_LEVELS <= LEVEL_SLOTS && (1 << (PP_POOL_LEVELS - 1)) <= INT16_MAX,
               "the what-if levels fit two vectors of 16-bit counts");

/* Level capacities 1, 2, 4 ... 4096; 0 for the spare slots, which therefore never fill. */
static const level_vec level_cap[2] = {
    {1, 2, 4, 8, 16, 32, 64, 128},
    {256, 512, 1024, 2048, 4096, 0, 0, 0},
};

static void pool_sim_alloc(struct pool_sim *p)
{
    unsigned z = 0;
    while (z < PP_POOL_LEVELS && p->held[z / 8][z % 8] == 0)
        z++;
    if (z)
        p->misses_at[z - 1]++;
    /* Every non-empty list gives a block: a comparison is -1 where it holds. */
    p->held[0] += p->held[0] != 0;
    p->held[1] += p->held[1] != 0;
}

static void pool_sim_free(struct pool_sim *p)
{
    /* Every list below its capacity takes the block back. */
    p->held[0] -= p->held[0] < level_cap[0];
    p->held[1] -= p->held[1] < level_cap[1];
}

/* hits[k] += the hits at level k of a lane that made allocs allocations. */
static void pool_sim_hits(const struct pool_sim *p, uint64_t allocs, uint64_t *hits)
{
    uint64_t misses = 0; /* allocations that missed at level k: those with z > k */
    for (unsigned k = PP_POOL_LEVELS; k-- > 0;) {
        misses += p->misses_at[k];
        hits[k] += allocs - misses;
    }
}

/* A lifetime histogram (PP_LIFETIME_*_BUCKETS log-linear buckets) in small form: the counts
 * of up to LIFETIME_SLOTS distinct buckets, as (bucket, count) pairs in the order first seen;
 * past that, every count moves into a full array from the arena. Full, the two histograms are
 * 1,376 bytes, which was most of an entry, and most stacks only ever touch a few buckets
 * (manystacks: one each). The pairs hold exactly what the full array would. */
#define LIFETIME_SLOTS 8
struct lifetime_hist {
    uint64_t *buckets; /* the full array once spilled, NULL before */
    uint8_t nused, bucket[LIFETIME_SLOTS];
    uint64_t count[LIFETIME_SLOTS];
};
_Static_assert(PP_LIFETIME_NS_BUCKETS <= 256 && PP_LIFETIME_ALLOCS_BUCKETS <= 256,
               "a lifetime bucket index fits a byte");

/* Moves h's pairs into a full array of nbuckets; 0 on out of memory. */
__attribute__((noinline, cold)) static int lifetime_spill(struct lifetime_hist *h,
                                                          unsigned nbuckets)
{
    uint64_t *buckets = pp_arena_alloc(nbuckets * sizeof *buckets);
    if (!buckets) {
        pp_tracking_lost("no memory for a lifetime histogram");
        return 0;
    }
    for (unsigned k = 0; k < h->nused; k++)
        buckets[h->bucket[k]] = h->count[k];
    h->buckets = buckets;
    return 1;
}

/* One more value v in a histogram of nbuckets buckets of sub_bits (the last bucket takes
 * everything above). Called with the lane locked. */
static inline void lifetime_add(struct lifetime_hist *h, unsigned nbuckets, unsigned sub_bits,
                                uint64_t v)
{
    unsigned i = pp_hist_index(v, sub_bits);
    if (i >= nbuckets)
        i = nbuckets - 1;
    if (PP_LIKELY(h->buckets)) {
        h->buckets[i]++;
        return;
    }
    for (unsigned k = 0; k < h->nused; k++)
        if (h->bucket[k] == i) {
            h->count[k]++;
            return;
        }
    if (h->nused < LIFETIME_SLOTS) {
        h->bucket[h->nused] = (uint8_t)i;
        h->count[h->nused++] = 1;
        return;
    }
    if (lifetime_spill(h, nbuckets))
        h->buckets[i]++;
}

/* sum[b] += h's count of bucket b, for every b. */
static void lifetime_merge(uint64_t *sum, const struct lifetime_hist *h, unsigned nbuckets)
{
    if (h->buckets) {
        for (unsigned b = 0; b < nbuckets; b++)
            sum[b] += h->buckets[b];
        return;
    }
    for (unsigned k = 0; k < h->nused; k++)
        sum[h->bucket[k]] += h->count[k];
}

/* What one lane counts: the fields of struct pp_aggregate that events update (the snapshot's
 * pool_hits are worked out from pool.misses_at), and the lifetime histograms in small form. */
struct lane {
    pp_spinlock lock;
    uint64_t allocs, frees, alloc_bytes, min_size, max_size;
    uint64_t live_bytes, peak_live, peak_live_bytes;
    uint64_t cross_thread_frees, realloc_calls, realloc_grows, chains_freed, lifetime_ns_sum;
    struct pp_free_caller free_callers[PP_FREE_CALLERS];
    uint64_t other_free_callers, thread_mask, peak_live_per_thread;
    struct thread_live per_thread[THREAD_SLOTS];
    struct pool_sim pool;
    struct pp_value_hist size;
    struct pp_value_hist *chain_final; /* made on the first free of a realloc chain */
    struct lifetime_hist lifetime_ns, lifetime_allocs;
    /* A stack's entry is its lane 0, which points to its lane 1 (NULL in lane 1 itself). In
     * here, not beside lane 0: the pointer fits the lane's padding to 768 bytes, an arena
     * class, where lane 0 and a pointer beside it would take the next one. */
    _Atomic(struct lane *) lane1;
} __attribute__((aligned(64)));

/* The slot of an allocating thread (called with the lane locked). */
static struct thread_live *thread_slot(struct lane *l, uint32_t thread)
{
    if (PP_LIKELY(l->per_thread[0].thread == thread + 1))
        return &l->per_thread[0]; /* one thread per stack and lane: no loop */
    for (unsigned i = 0; i < THREAD_SLOTS; i++) {
        struct thread_live *t = &l->per_thread[i];
        if (t->thread == thread + 1)
            return t;
        if (t->thread == 0) {
            t->thread = thread + 1;
            return t;
        }
    }
    return &l->per_thread[THREAD_SLOTS - 1];
}

#define PAGE_SLOTS 4096u
static _Atomic(_Atomic(struct lane *) *) pages[PP_MAX_STACKS / PAGE_SLOTS];
static atomic_uint pages_made; /* every page made has an index below this */

/* Cold: the first event of a stack id (or of a page of them). Two threads may race to make the
 * same entry; the loser gives its copy back. NULL on out of memory. */
__attribute__((noinline, cold)) static struct lane *create(uint32_t id)
{
    _Atomic(struct lane *) *page = atomic_load_explicit(&pages[id / PAGE_SLOTS],
                                                        memory_order_acquire);
    if (!page) {
        _Atomic(struct lane *) *fresh = pp_arena_alloc(PAGE_SLOTS * sizeof *fresh);
        if (!fresh)
            return NULL;
        if (atomic_compare_exchange_strong(&pages[id / PAGE_SLOTS], &page, fresh)) {
            page = fresh;
            unsigned made = atomic_load(&pages_made);
            while (made < id / PAGE_SLOTS + 1 &&
                   !atomic_compare_exchange_weak(&pages_made, &made, id / PAGE_SLOTS + 1))
                ;
        }
        else
            pp_arena_free(fresh, PAGE_SLOTS * sizeof *fresh);
    }
    struct lane *s = atomic_load_explicit(&page[id % PAGE_SLOTS], memory_order_acquire);
    if (s)
        return s;
    struct lane *fresh = pp_arena_alloc(sizeof *fresh);
    if (!fresh)
        return NULL;
    fresh->min_size = UINT64_MAX;
    if (atomic_compare_exchange_strong(&page[id % PAGE_SLOTS], &s, fresh))
        return fresh;
    pp_arena_free(fresh, sizeof *fresh);
    return s;
}

/* The entry of id, or NULL when it has none yet. */
static struct lane *find(uint32_t id)
{
    _Atomic(struct lane *) *page = atomic_load_explicit(&pages[id / PAGE_SLOTS],
                                                        memory_order_acquire);
    return page ? atomic_load_explicit(&page[id % PAGE_SLOTS], memory_order_acquire) : NULL;
}

static struct lane *find_or_create(uint32_t id)
{
    struct lane *s = find(id);
    if (PP_UNLIKELY(!s) && !(s = create(id)))
        pp_tracking_lost("no memory for a stack's statistics");
    return s;
}

static void hist_add(uint64_t *buckets, unsigned nbuckets, unsigned sub_bits, uint64_t v,
                     uint64_t n)
{
    unsigned i = pp_hist_index(v, sub_bits);
    buckets[i < nbuckets ? i : nbuckets - 1] += n;
}

/* Moves h's exact values into buckets (PP_SIZE_BUCKETS of them, zeroed). */
static void spill(struct pp_value_hist *h, uint64_t *buckets)
{
    for (unsigned i = 0; i < h->nexact; i++)
        hist_add(buckets, PP_SIZE_BUCKETS, PP_SIZE_SUB_BITS, h->value[i], h->count[i]);
    h->nexact = 0;
    h->buckets = buckets;
}

/* Adds n occurrences of v. When the exact values run out, the buckets come from spare (a
 * snapshot's own array) or, when spare is NULL, from the arena. Called with the lane locked;
 * the arena has its own lock and never calls malloc. */
static void value_hist_add(struct pp_value_hist *h, uint64_t v, uint64_t n, uint64_t *spare)
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

static void note_live_bytes(struct lane *l, int64_t delta)
{
    l->live_bytes += (uint64_t)delta;
    if (l->live_bytes > l->peak_live_bytes)
        l->peak_live_bytes = l->live_bytes;
}

/* Cold: the first event of an odd thread at lane 0's stack. Two threads may race to make lane
 * 1; the loser gives its copy back. If there is no memory the thread shares lane 0, which is
 * only slower. */
__attribute__((noinline, cold)) static struct lane *make_lane1(struct lane *s)
{
    struct lane *l = NULL, *fresh = pp_arena_alloc(sizeof *fresh);
    if (!fresh)
        return s;
    fresh->min_size = UINT64_MAX;
    if (!atomic_compare_exchange_strong_explicit(&s->lane1, &l, fresh, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        pp_arena_free(fresh, sizeof *fresh);
        return l;
    }
    return fresh;
}

/* The lane for a thread index (see struct lane): lane 0 is the entry s itself. */
static inline struct lane *lane_of(struct lane *s, uint32_t thread)
{
    if (!(thread & 1))
        return s;
    struct lane *l = atomic_load_explicit(&s->lane1, memory_order_acquire);
    return PP_LIKELY(l) ? l : make_lane1(s);
}

void pp_stats_on_alloc(uint32_t stack_id, uint32_t thread, uint64_t size)
{
    struct lane *s = find_or_create(stack_id);
    if (PP_UNLIKELY(!s))
        return;
    struct lane *l = lane_of(s, thread);
    int bare = pp_hot_lock(&l->lock);
    l->allocs++;
    l->alloc_bytes += size;
    if (size < l->min_size)
        l->min_size = size;
    if (size > l->max_size)
        l->max_size = size;
    if (l->allocs - l->frees > l->peak_live)
        l->peak_live = l->allocs - l->frees;
    l->thread_mask |= 1ull << (thread & 63);
    struct thread_live *mine = thread_slot(l, thread);
    if (++mine->live > l->peak_live_per_thread)
        l->peak_live_per_thread = mine->live;
    note_live_bytes(l, (int64_t)size);
    /* Most sites allocate one size: that case costs a compare, not a call; so does a site of
     * many sizes once they are in buckets. */
    if (PP_LIKELY(!l->size.buckets && l->size.nexact && l->size.value[0] == size))
        l->size.count[0]++;
    else if (l->size.buckets)
        hist_add(l->size.buckets, PP_SIZE_BUCKETS, PP_SIZE_SUB_BITS, size, 1);
    else
        value_hist_add(&l->size, size, 1, NULL);
    pool_sim_alloc(&l->pool);
    pp_hot_unlock(&l->lock, bare);
}

void pp_stats_on_free(uint32_t stack_id, uint32_t thread, uint64_t size, uint64_t lifetime_ns,
                      uint64_t lifetime_allocs, int cross_thread, uintptr_t free_caller,
                      int was_realloced)
{
    struct lane *s = find(stack_id);
    if (PP_UNLIKELY(!s))
        return; /* its allocation was never counted (out of memory) */
    struct lane *l = lane_of(s, thread);
    int bare = pp_hot_lock(&l->lock);
    l->frees++;
    struct thread_live *owner = thread_slot(l, thread); /* thread: the allocating one */
    if (owner->live)
        owner->live--;
    note_live_bytes(l, -(int64_t)size);
    l->lifetime_ns_sum += lifetime_ns;
    lifetime_add(&l->lifetime_ns, PP_LIFETIME_NS_BUCKETS, PP_LIFETIME_NS_SUB_BITS, lifetime_ns);
    lifetime_add(&l->lifetime_allocs, PP_LIFETIME_ALLOCS_BUCKETS, PP_LIFETIME_ALLOCS_SUB_BITS,
                 lifetime_allocs);
    if (cross_thread)
        l->cross_thread_frees++;
    unsigned i;
    for (i = 0; i < PP_FREE_CALLERS; i++) {
        if (l->free_callers[i].addr == free_caller) {
            l->free_callers[i].count++;
            break;
        }
        if (l->free_callers[i].count == 0) {
            l->free_callers[i].addr = free_caller;
            l->free_callers[i].count = 1;
            break;
        }
    }
    if (i == PP_FREE_CALLERS)
        l->other_free_callers++;
    if (was_realloced) {
        l->chains_freed++;
        if (PP_UNLIKELY(!l->chain_final) &&
            !(l->chain_final = pp_arena_alloc(sizeof *l->chain_final)))
            pp_tracking_lost("no memory for a realloc chain histogram");
        else
            value_hist_add(l->chain_final, size, 1, NULL);
    }
    pool_sim_free(&l->pool);
    pp_hot_unlock(&l->lock, bare);
}

void pp_stats_on_realloc(uint32_t stack_id, uint32_t thread, uint64_t old_size,
                         uint64_t new_size)
{
    struct lane *s = find(stack_id);
    if (PP_UNLIKELY(!s))
        return;
    struct lane *l = lane_of(s, thread);
    int bare = pp_hot_lock(&l->lock);
    l->realloc_calls++;
    if (new_size > old_size)
        l->realloc_grows++;
    note_live_bytes(l, (int64_t)(new_size - old_size));
    pp_hot_unlock(&l->lock, bare);
}

/* ---- a consistent sum of a stack's lanes, for the writer ---- */

/* dst += src, into dst's local buckets once exact values no longer fit. */
static void merge_value_hist(struct pp_value_hist *dst, uint64_t *dst_buckets,
                             const struct pp_value_hist *src)
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

static void merge_lane(struct pp_stats_snapshot *d, struct lane *l)
{
    pp_spin_lock(&l->lock);
    struct pp_aggregate *a = &d->agg;
    const struct lane *b = l;
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
    /* A thread's blocks all go to one lane: the per-thread peak is the larger lane's. */
    a->thread_mask |= b->thread_mask;
    if (b->peak_live_per_thread > a->peak_live_per_thread)
        a->peak_live_per_thread = b->peak_live_per_thread;
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
    pool_sim_hits(&l->pool, b->allocs, a->pool_hits);
    lifetime_merge(a->lifetime_ns, &b->lifetime_ns, PP_LIFETIME_NS_BUCKETS);
    lifetime_merge(a->lifetime_allocs, &b->lifetime_allocs, PP_LIFETIME_ALLOCS_BUCKETS);
    merge_value_hist(&d->size, d->size_buckets, &l->size);
    if (l->chain_final)
        merge_value_hist(&d->chain_final, d->chain_buckets, l->chain_final);
    pp_spin_unlock(&l->lock);
}

int pp_stats_snapshot(uint32_t stack_id, struct pp_stats_snapshot *d)
{
    struct lane *s = find(stack_id);
    if (!s)
        return 0; /* before the memset: most ids of a forked child have no entry */
    memset(d, 0, sizeof *d);
    merge_lane(d, s);
    struct lane *l1 = atomic_load_explicit(&s->lane1, memory_order_acquire);
    if (l1)
        merge_lane(d, l1);
    return d->agg.allocs || d->agg.frees;
}

int pp_stats_active(uint32_t stack_id)
{
    return find(stack_id) != NULL;
}

/* ---- fork ---- */

/* Child of fork: counts restart at 0. The entries are not zeroed but forgotten (the page
 * pointers cleared), so the child makes fresh entries for the stacks it uses: zeroing every
 * entry copied each page of them (copy-on-write), which made a forked bash subshell cost 5 ms
 * more. Forgetting also drops any lane lock another parent thread held at fork time. The old
 * entries stay mapped, unused, in the child. */
void pp_stats_reset_after_fork(void)
{
    uint32_t used = atomic_load(&pages_made); /* a bound: reading the whole array faults */
    for (uint32_t p = 0; p < used; p++)
        if (atomic_load_explicit(&pages[p], memory_order_relaxed))
            atomic_store_explicit(&pages[p], NULL, memory_order_relaxed);
}
