/* live.c — the side table: for every live block, which stack allocated it, when, and how big.
 *
 * Frees need the allocation's stack id, size, time and thread sequence, and may come from any
 * thread. The table is split into 256 shards by pointer hash, each an open-addressing table with
 * linear probing and backward-shift deletion (no tombstones), behind its own spinlock, so
 * threads rarely meet on a lock; while one thread uses the shim, it takes none (solo.c).
 *
 * Memory is the point of the layout: 32 bytes a block (8-byte key, 24-byte payload), keys and
 * payloads in separate arrays so a probe walks 8-byte keys only, and tables grow by a quarter
 * (home slots by multiply-shift, so a capacity need not be a power of two) between 68% and 85%
 * load: 38-47 bytes per live block, never the 64-91 of a doubling table. Arrays come from the
 * arena's page mappings.
 */
#define _GNU_SOURCE
#include <string.h>

#include "shim.h"

#define NSHARDS 256
#define INITIAL_SLOTS 16  /* a short process touches few pages: 256 shards x 8 KiB did */
#define SMALL_TABLE 4096  /* bytes: smaller tables come from the arena's chunks, not own pages */
#define MAX_LOAD_PCT 85
#define SIZE_BITS 39  /* sizes up to 512 GiB are kept exactly; larger ones are clamped */
#define STACK_BITS 24
/* A shard this big (all of them: 256 x 64 slots of 32 bytes, 512 KiB) has outgrown the core's
 * caches: from then on the hooks prefetch (pp_live_warm). Below it the table stays cached and a
 * prefetch is only instructions (about 15 an event: allocbench, a few dozen live blocks). */
#define BIG_SHARD 64

struct payload {
    uint64_t time_ns;
    uint64_t seq_thread;    /* allocating thread's sequence << 16 | thread index */
    uint64_t size_stack;    /* size << 25 | realloced << 24 | stack id */
};

struct shard {
    pp_spinlock lock;
    uint32_t count;
    uint32_t cap;           /* slots; 0 until the first insert */
    uintptr_t *keys;        /* block addresses, 0 = empty; cap of them, then the payloads */
    struct payload *vals;
} __attribute__((aligned(64))); /* one cache line each: no false sharing between shards */

static struct shard shards[NSHARDS];
int pp_live_big; /* some shard reached BIG_SHARD slots */

/* Sampling mode only: a counting filter over addresses (shim.h), so the free of a block that was
 * never sampled (most of them) costs one byte load instead of a locked table probe. A counter
 * stuck at 255 stays there (the lookup is then merely not skipped). */
_Atomic(unsigned char) *pp_live_filter;

void pp_live_filter_init(void)
{
    pp_live_filter = pp_arena_map(PP_LIVE_FILTER_SLOTS);
}

static void filter_add(uint64_t h, int delta)
{
    if (!pp_live_filter)
        return;
    _Atomic(unsigned char) *c = pp_live_filter_slot(h);
    unsigned char v = atomic_load_explicit(c, memory_order_relaxed);
    while (v != 255 && !(delta < 0 && v == 0) &&
           !atomic_compare_exchange_weak_explicit(c, &v, (unsigned char)(v + delta),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

static inline struct shard *shard_of(uint64_t h)
{
    return &shards[h >> 56];
}

/* Home slot: bits 24..55 of the hash scaled to [0, cap) (bits 56..63 chose the shard). */
static inline uint32_t home_in(uint32_t cap, uint64_t h)
{
    return (uint32_t)((((h >> 24) & 0xffffffffull) * cap) >> 32);
}

static inline uint32_t home(const struct shard *s, uint64_t h)
{
    return home_in(s->cap, h);
}

static inline uint32_t next(const struct shard *s, uint32_t i)
{
    return i + 1 == s->cap ? 0 : i + 1;
}

static size_t table_bytes(uint32_t cap)
{
    return (size_t)cap * (sizeof(uintptr_t) + sizeof(struct payload));
}

/* Index of key's slot, or of the empty slot where it would go. */
static uint32_t find(const struct shard *s, uintptr_t key, uint64_t h)
{
    uint32_t i = home(s, h);
    while (s->keys[i] && s->keys[i] != key)
        i = next(s, i);
    return i;
}

/* Arrays below SMALL_TABLE bytes share the arena's chunks; bigger ones get their own pages
 * (exact sizes: the arena's power-of-two classes would waste up to half). */
static void *table_alloc(size_t bytes)
{
    return bytes < SMALL_TABLE ? pp_arena_alloc(bytes) : pp_arena_map(bytes);
}

static void table_free(void *p, size_t bytes)
{
    if (bytes < SMALL_TABLE)
        pp_arena_free(p, bytes);
    else
        pp_arena_unmap(p, bytes);
}

static int grow(struct shard *s)
{
    uint32_t old_cap = s->cap;
    /* Small tables double (cheap and few); from 256 slots on, a quarter at a time. */
    uint64_t want = !old_cap ? INITIAL_SLOTS : old_cap < 256 ? (uint64_t)old_cap * 2
                                                             : (uint64_t)old_cap + old_cap / 4;
    if (want > UINT32_MAX / 2)
        return 0;
    uint32_t cap = ((uint32_t)want + 15) & ~15u;
    uintptr_t *keys = table_alloc(table_bytes(cap));
    if (!keys)
        return 0;
    uintptr_t *old_keys = s->keys;
    struct payload *old_vals = s->vals;
    s->keys = keys;
    s->vals = (struct payload *)(keys + cap);
    s->cap = cap;
    if (cap >= BIG_SHARD && !__atomic_load_n(&pp_live_big, __ATOMIC_RELAXED))
        __atomic_store_n(&pp_live_big, 1, __ATOMIC_RELAXED);
    for (uint32_t i = 0; i < old_cap; i++)
        if (old_keys[i]) {
            uint32_t j = find(s, old_keys[i], pp_live_hash(old_keys[i]));
            s->keys[j] = old_keys[i];
            s->vals[j] = old_vals[i];
        }
    if (old_keys)
        table_free(old_keys, table_bytes(old_cap));
    return 1;
}

void pp_live_prefetch(const void *p)
{
    uint64_t h = pp_live_hash((uintptr_t)p);
    const struct shard *s = shard_of(h);
    /* Without the lock: a table another thread is growing gives a stale slot, and a prefetch of
     * a wrong (even unmapped) line is only wasted, never a fault. */
    uint32_t cap = __atomic_load_n(&s->cap, __ATOMIC_RELAXED);
    const uintptr_t *keys = __atomic_load_n(&s->keys, __ATOMIC_RELAXED);
    const struct payload *vals = __atomic_load_n(&s->vals, __ATOMIC_RELAXED);
    if (!cap)
        return;
    uint32_t i = home_in(cap, h);
    __builtin_prefetch(&keys[i], 1);
    __builtin_prefetch(&vals[i], 1);
}

int pp_live_insert(const void *p, uint32_t stack_id, uint16_t thread, int realloced,
                   uint64_t size, uint64_t time_ns, uint64_t seq)
{
    uint64_t h = pp_live_hash((uintptr_t)p);
    struct shard *s = shard_of(h);
    if (size >= (1ull << SIZE_BITS))
        size = (1ull << SIZE_BITS) - 1;
    struct payload val = {
        .time_ns = time_ns,
        .seq_thread = seq << 16 | thread,
        .size_stack = size << (STACK_BITS + 1) | (uint64_t)(realloced != 0) << STACK_BITS |
                      (stack_id & ((1u << STACK_BITS) - 1)),
    };
    int ok = 1;
    int bare = pp_hot_lock(&s->lock);
    if ((uint64_t)(s->count + 1) * 100 > (uint64_t)s->cap * MAX_LOAD_PCT && !grow(s)) {
        ok = 0;
    } else {
        uint32_t i = find(s, (uintptr_t)p, h);
        if (!s->keys[i]) {
            /* A new entry; an existing one is a stale block whose free we never saw. */
            s->keys[i] = (uintptr_t)p;
            s->count++;
            filter_add(h, +1);
        }
        s->vals[i] = val;
    }
    pp_hot_unlock(&s->lock, bare);
    return ok;
}

int pp_live_remove(const void *p, struct pp_live *e)
{
    uint64_t h = pp_live_hash((uintptr_t)p);
    struct shard *s = shard_of(h);
    int found = 0;
    int bare = pp_hot_lock(&s->lock);
    if (s->cap) {
        uint32_t i = find(s, (uintptr_t)p, h);
        if (s->keys[i]) {
            const struct payload *x = &s->vals[i];
            e->time_ns = x->time_ns;
            e->seq = x->seq_thread >> 16;
            e->thread = (uint16_t)x->seq_thread;
            e->size = x->size_stack >> (STACK_BITS + 1);
            e->realloced = (x->size_stack >> STACK_BITS) & 1;
            e->stack_id = (uint32_t)(x->size_stack & ((1u << STACK_BITS) - 1));
            found = 1;
            /* Backward-shift deletion: pull later entries of the probe run into the hole. */
            uint32_t j = i;
            for (;;) {
                j = next(s, j);
                if (!s->keys[j])
                    break;
                uint32_t k = home(s, pp_live_hash(s->keys[j]));
                int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
                if (stays)
                    continue;
                s->keys[i] = s->keys[j];
                s->vals[i] = s->vals[j];
                i = j;
            }
            s->keys[i] = 0;
            s->count--;
            filter_add(h, -1);
        }
    }
    pp_hot_unlock(&s->lock, bare);
    return found;
}

void pp_live_lock_for_fork(void)
{
    for (int i = 0; i < NSHARDS; i++)
        pp_spin_lock(&shards[i].lock);
}

void pp_live_unlock_after_fork(void)
{
    for (int i = NSHARDS - 1; i >= 0; i--)
        pp_spin_unlock(&shards[i].lock);
}

/* Child of fork: blocks inherited from the parent are not the child's; forget them all. */
/* Child of fork: blocks inherited from the parent are untracked, so the child starts from
 * empty tables. The parent's arrays are forgotten, not zeroed: zeroing (and then inserting into)
 * them copied every page they span, copy-on-write, which made a forked bash subshell cost
 * several ms more; they stay mapped, unused, in the child. The filter goes the same way. A lock
 * another parent thread held at fork time is released with the rest. */
void pp_live_reset_after_fork(void)
{
    for (int i = 0; i < NSHARDS; i++) {
        struct shard *s = &shards[i];
        if (s->keys || atomic_load_explicit(&s->lock.held, memory_order_relaxed))
            *s = (struct shard){0};
    }
    pp_live_big = 0;
    if (pp_live_filter)
        /* NULL on failure: frees then probe the table */
        pp_live_filter = pp_arena_map(PP_LIVE_FILTER_SLOTS);
}
