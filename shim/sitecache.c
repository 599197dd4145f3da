/* sitecache.c — the stack of a site prefix this thread has seen, without hashing a stack.
 *
 * In site mode every allocation looks up its site prefix (a few return addresses). The stack
 * table's per-thread view can do it, but it hashes the ips with a general hash, probes, and
 * compares with memcmp: about 110 instructions on allocbench. A site prefix is short and the
 * same few come back again and again, so each thread keeps a direct-mapped cache keyed by the
 * prefix's words: one multiply per word and one compare per word on a hit. Stacks are never
 * freed, so a cached pointer stays valid; a miss falls back to the stack table.
 */
#include "shim.h"

#define ENTRIES 512
#define WORDS 4 /* prefixes longer than this are not cached */

struct entry {
    uintptr_t ips[WORDS];
    uint32_t depth;
    struct pp_stack *stack;
};

struct pp_sitecache {
    struct entry entries[ENTRIES];
};

static struct entry *slot_for(struct pp_sitecache *c, const uintptr_t *ips, unsigned n)
{
    uint64_t h = n;
    for (unsigned i = 0; i < n; i++)
        h = (h ^ ips[i]) * 0x9e3779b97f4a7c15ull;
    return &c->entries[(h >> 40) % ENTRIES];
}

struct pp_stack *pp_sitecache_lookup(struct pp_thread *t, const uintptr_t *ips, unsigned n)
{
    struct pp_sitecache *c = t->sitecache;
    if (!c || n > WORDS)
        return NULL;
    const struct entry *e = slot_for(c, ips, n);
    if (e->depth != n)
        return NULL;
    for (unsigned i = 0; i < n; i++)
        if (e->ips[i] != ips[i])
            return NULL;
    return e->stack;
}

void pp_sitecache_fill(struct pp_thread *t, const uintptr_t *ips, unsigned n, struct pp_stack *s)
{
    if (n > WORDS || t->exiting)
        return;
    if (!t->sitecache && !(t->sitecache = pp_arena_alloc(sizeof *t->sitecache)))
        return; /* no cache: lookups go to the stack table, which is only slower */
    struct entry *e = slot_for(t->sitecache, ips, n);
    for (unsigned i = 0; i < n; i++)
        e->ips[i] = ips[i];
    e->depth = n;
    e->stack = s;
}

void pp_sitecache_release(struct pp_thread *t)
{
    pp_arena_free(t->sitecache, sizeof *t->sitecache);
    t->sitecache = NULL;
}
