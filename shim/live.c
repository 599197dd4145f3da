/* live.c — the side table: for every live block, which stack allocated it, when, and how big.
 *
 * Frees need the allocation's stack id, size, time and thread sequence, and may come from any
 * thread. The table is split into 256 shards by pointer hash, each an open-addressing array
 * with linear probing and backward-shift deletion (no tombstones), behind its own spinlock, so
 * threads rarely meet on a lock. An entry is 32 bytes; arrays grow at 70% load, so a live block
 * costs 32-46 bytes here (64 just after a shard doubles). Arrays are mapped from the arena.
 */
#define _GNU_SOURCE
#include <string.h>

#include "shim.h"

#define NSHARDS 256
#define INITIAL_SLOTS 256
#define SIZE_BITS 39  /* sizes up to 512 GiB are kept exactly; larger ones are clamped */
#define STACK_BITS 24

struct slot {
    uintptr_t key;          /* the block's address; 0 = empty */
    uint64_t time_ns;
    uint64_t seq_thread;    /* allocating thread's sequence << 16 | thread index */
    uint64_t size_stack;    /* size << 25 | realloced << 24 | stack id */
};

struct shard {
    pp_spinlock lock;
    uint32_t count;
    size_t mask;
    struct slot *slots;
} __attribute__((aligned(64))); /* one cache line each: no false sharing between shards */

static struct shard shards[NSHARDS];

static inline uint64_t mix(uintptr_t p)
{
    return (uint64_t)(p >> 4) * 0x9e3779b97f4a7c15ull;
}

/* Sampling mode only: a counting filter over addresses, so the free of a block that was never
 * sampled (most of them) costs one byte load instead of a locked table probe. A counter stuck
 * at 255 stays there (the lookup is then merely not skipped). */
#define FILTER_SLOTS (1u << 20)
static _Atomic(unsigned char) *filter;

static inline _Atomic(unsigned char) *filter_slot(uint64_t h)
{
    return &filter[(h >> 8) & (FILTER_SLOTS - 1)];
}

void pp_live_filter_init(void)
{
    filter = pp_arena_map(FILTER_SLOTS);
}

int pp_live_maybe_tracked(const void *p)
{
    return !filter || atomic_load_explicit(filter_slot(mix((uintptr_t)p)), memory_order_relaxed);
}

static void filter_add(uint64_t h, int delta)
{
    if (!filter)
        return;
    _Atomic(unsigned char) *c = filter_slot(h);
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

static inline size_t home(const struct shard *s, uint64_t h)
{
    return (size_t)(h >> 20) & s->mask;
}

static void place(struct shard *s, const struct slot *e)
{
    size_t i = home(s, mix(e->key));
    while (s->slots[i].key && s->slots[i].key != e->key)
        i = (i + 1) & s->mask;
    if (!s->slots[i].key)
        s->count++;
    s->slots[i] = *e;
}

static int grow(struct shard *s)
{
    size_t old_n = s->slots ? s->mask + 1 : 0;
    size_t n = old_n ? old_n * 2 : INITIAL_SLOTS;
    struct slot *fresh = pp_arena_map(n * sizeof *fresh);
    if (!fresh)
        return 0;
    struct slot *old = s->slots;
    s->slots = fresh;
    s->mask = n - 1;
    s->count = 0;
    for (size_t i = 0; i < old_n; i++)
        if (old[i].key)
            place(s, &old[i]);
    if (old)
        pp_arena_unmap(old, old_n * sizeof *old);
    return 1;
}

int pp_live_insert(const void *p, const struct pp_live *e)
{
    uint64_t h = mix((uintptr_t)p);
    struct shard *s = shard_of(h);
    uint64_t size = e->size < (1ull << SIZE_BITS) ? e->size : (1ull << SIZE_BITS) - 1;
    struct slot entry = {
        .key = (uintptr_t)p,
        .time_ns = e->time_ns,
        .seq_thread = e->seq << 16 | e->thread,
        .size_stack = size << (STACK_BITS + 1) | (uint64_t)(e->realloced != 0) << STACK_BITS |
                      (e->stack_id & ((1u << STACK_BITS) - 1)),
    };
    int ok = 1;
    pp_spin_lock(&s->lock);
    if ((!s->slots || (s->count + 1) * 10 > (s->mask + 1) * 7) && !grow(s)) {
        ok = 0;
    } else {
        uint32_t before = s->count;
        place(s, &entry);
        if (s->count != before)
            filter_add(h, +1); /* a new entry, not a stale one replaced */
    }
    pp_spin_unlock(&s->lock);
    return ok;
}

int pp_live_remove(const void *p, struct pp_live *e)
{
    uint64_t h = mix((uintptr_t)p);
    struct shard *s = shard_of(h);
    int found = 0;
    pp_spin_lock(&s->lock);
    if (s->slots) {
        size_t i = home(s, h);
        while (s->slots[i].key && s->slots[i].key != (uintptr_t)p)
            i = (i + 1) & s->mask;
        if (s->slots[i].key) {
            const struct slot *x = &s->slots[i];
            e->time_ns = x->time_ns;
            e->seq = x->seq_thread >> 16;
            e->thread = (uint16_t)x->seq_thread;
            e->size = x->size_stack >> (STACK_BITS + 1);
            e->realloced = (x->size_stack >> STACK_BITS) & 1;
            e->stack_id = (uint32_t)(x->size_stack & ((1u << STACK_BITS) - 1));
            found = 1;
            /* Backward-shift deletion: pull later entries of the probe run into the hole. */
            size_t j = i;
            for (;;) {
                j = (j + 1) & s->mask;
                if (!s->slots[j].key)
                    break;
                size_t k = home(s, mix(s->slots[j].key));
                int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
                if (stays)
                    continue;
                s->slots[i] = s->slots[j];
                i = j;
            }
            s->slots[i].key = 0;
            s->count--;
            filter_add(h, -1);
        }
    }
    pp_spin_unlock(&s->lock);
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
void pp_live_reset_after_fork(void)
{
    for (int i = 0; i < NSHARDS; i++) {
        struct shard *s = &shards[i];
        if (s->slots)
            memset(s->slots, 0, (s->mask + 1) * sizeof *s->slots);
        s->count = 0;
        atomic_store(&s->lock.held, 0);
    }
    if (filter)
        memset((void *)filter, 0, FILTER_SLOTS);
}
