/* pools.c — the program's own pools, counted through the markers of include/poolprobe.h.
 *
 * A program that has pools marks each get, hit or miss, and put with the pool's name
 * (POOLPROBE_POOL_GET("name") ...); this file counts them per name so the report can say
 * whether each pool still earns its keep (the seeds' exercises 10 and 12). The name is a string
 * that lives as long as the program, so a pool is found by its pointer: an open-addressed table
 * of PP_MAX_POOLS slots, claimed with a compare-and-swap, the counters atomic. No lock, no
 * allocation, no system call; a pool past the table's size is not counted. Two different
 * pointers to equal names are two slots, merged by name in the snapshot.
 */
#define _GNU_SOURCE
#include <string.h>

#include "shim.h"

struct pool_slot {
    _Atomic(const char *) key;
    _Atomic int ready; /* name copied */
    char name[64];
    atomic_ullong count[4]; /* get, hit, miss, put */
};

static struct pool_slot slots[PP_MAX_POOLS];

static struct pool_slot *slot_of(const char *key)
{
    uintptr_t h = (uintptr_t)key;
    h ^= h >> 17;
    h *= 0x9e3779b97f4a7c15ull;
    for (unsigned probe = 0; probe < PP_MAX_POOLS; probe++) {
        struct pool_slot *s = &slots[(h + probe) % PP_MAX_POOLS];
        const char *k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == key)
            return s;
        if (k)
            continue;
        const char *empty = NULL;
        if (atomic_compare_exchange_strong(&s->key, &empty, key)) {
            size_t n = strnlen(key, sizeof s->name - 1);
            memcpy(s->name, key, n);
            s->name[n] = '\0';
            atomic_store_explicit(&s->ready, 1, memory_order_release);
            return s;
        }
        if (empty == key)
            return s;
    }
    return NULL;
}

/* The public marker (include/poolprobe.h declares it weak for the program). */
__attribute__((visibility("default"))) void poolprobe_pool_event(const char *name, int event);

void poolprobe_pool_event(const char *name, int event)
{
    if (!name || event < 0 || event > 3)
        return;
    struct pool_slot *s = slot_of(name);
    if (s)
        atomic_fetch_add_explicit(&s->count[event], 1, memory_order_relaxed);
}

uint32_t pp_pools_snapshot(struct pp_pool_counts *out, uint32_t max)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < PP_MAX_POOLS; i++) {
        struct pool_slot *s = &slots[i];
        if (!atomic_load_explicit(&s->ready, memory_order_acquire))
            continue;
        uint64_t c[4];
        for (int e = 0; e < 4; e++)
            c[e] = atomic_load_explicit(&s->count[e], memory_order_relaxed);
        uint32_t k = 0;
        while (k < n && strcmp(out[k].name, s->name) != 0)
            k++;
        if (k == n) {
            if (n == max)
                continue;
            memset(&out[n], 0, sizeof out[n]);
            memcpy(out[n].name, s->name, sizeof out[n].name);
            n++;
        }
        out[k].gets += c[0];
        out[k].hits += c[1];
        out[k].misses += c[2];
        out[k].puts += c[3];
    }
    return n;
}
