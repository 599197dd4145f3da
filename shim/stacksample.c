/* stacksample.c — which full stacks were seen, and how often, for allocations counted by site.
 *
 * In site mode (the default; POOLPROBE_STACKS=full turns it off) every allocation is counted
 * exactly under its site prefix, the first POOLPROBE_SITE_DEPTH frames (sitewalk.c), and only
 * some allocations are unwound in full: the first allocation of every new prefix, then
 * one in about POOLPROBE_STACK_SAMPLE (the gap between two unwinds is drawn uniformly from
 * 1..2N-1, so a loop cannot fall in step with it). Each unwound stack is interned in the stack
 * table like any other, and counted here: (full stack id, its site prefix's id, samples). The
 * analyzer shares a prefix's exact figures among its full stacks in proportion to their samples
 * (STACK_SAMPLES in trace_format.h), and says that those stack-level figures are estimates.
 *
 * The table is small (one entry per distinct full stack seen) and touched only on a sampled
 * allocation, so one spinlock guards it.
 */
#include <string.h>

#include "shim.h"

struct sample {
    uint32_t full_plus1; /* 0 = empty slot */
    uint32_t site;
    uint64_t count;
};

static struct sample *slots;
static uint32_t cap, used; /* cap is a power of two, or 0 */
static pp_spinlock lock;

int pp_stacksample_due(struct pp_thread *t)
{
    if (PP_LIKELY(--t->stack_countdown > 0))
        return 0;
    uint64_t x = t->stack_rng ? t->stack_rng : 0x9e3779b97f4a7c15ull ^ ((uint64_t)t->index << 17);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    t->stack_rng = x;
    uint32_t n = pp_config.stack_sample;
    t->stack_countdown = n <= 1 ? 1 : (int32_t)(1 + (x >> 33) % (2 * n - 1));
    return 1;
}

static void put(struct sample *table, uint32_t mask, uint32_t full, uint32_t site, uint64_t n)
{
    uint32_t i = (full * 0x9e3779b9u) & mask;
    while (table[i].full_plus1 && table[i].full_plus1 != full + 1)
        i = (i + 1) & mask;
    if (!table[i].full_plus1) {
        table[i].full_plus1 = full + 1;
        table[i].site = site;
        used++;
    }
    table[i].count += n;
}

void pp_stacksample_add(uint32_t full, uint32_t site)
{
    pp_spin_lock(&lock);
    if ((used + 1) * 2 > cap) {
        uint32_t bigger = cap ? cap * 2 : 1024;
        struct sample *fresh = pp_arena_alloc((size_t)bigger * sizeof *fresh);
        if (!fresh) {
            pp_spin_unlock(&lock);
            return; /* one sample lost; the exact site figures are not affected */
        }
        uint32_t old_cap = cap;
        struct sample *old = slots;
        used = 0;
        for (uint32_t i = 0; i < old_cap; i++)
            if (old[i].full_plus1)
                put(fresh, bigger - 1, old[i].full_plus1 - 1, old[i].site, old[i].count);
        pp_arena_free(old, (size_t)old_cap * sizeof *old);
        slots = fresh;
        cap = bigger;
    }
    put(slots, cap - 1, full, site, 1);
    pp_spin_unlock(&lock);
}

void pp_stacksample_each(void (*fn)(void *ctx, uint32_t full, uint32_t site, uint64_t count),
                         void *ctx)
{
    pp_spin_lock(&lock);
    for (uint32_t i = 0; i < cap; i++)
        if (slots[i].full_plus1 && slots[i].count)
            fn(ctx, slots[i].full_plus1 - 1, slots[i].site, slots[i].count);
    pp_spin_unlock(&lock);
}

/* Child of fork: counts restart at 0, like the statistics. The parent's table is forgotten,
 * not zeroed: zeroing its counts copied every page of it into each child (about 5 pages of
 * copy-on-write faults per forked subshell); forgotten, it stays shared and unused. */
void pp_stacksample_reset_after_fork(void)
{
    atomic_store(&lock.held, 0);
    slots = NULL;
    cap = used = 0;
}
