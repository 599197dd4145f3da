/* test_live.c — the side table (shim/live.c): every block entered comes back out once, with
 * exactly what was entered, whatever order the blocks leave in.
 *
 * Driven directly on one thread (the shards' locks are exercised by real programs). The
 * deletion is the delicate part: backward-shift deletion pulls the later entries of a probe
 * run into the hole, across the end of the array, and a wrong rule for which entry may move
 * loses a block that a later free then cannot find. So besides a large random run, one shard
 * is filled alone (addresses chosen by their hash), where probe runs are long and wrap.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../shim/arena.c"
#include "../../shim/live.c"

struct pp_config pp_config = {.max_memory = 1ull << 32};
atomic_int pp_locks_orphaned;
struct pp_solo pp_solo = {.multi = 1};
static int lost;
void pp_tracking_lost(const char *why)
{
    printf("# tracking lost: %s\n", why);
    lost = 1;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Block i's address and what is entered for it. */
static uintptr_t *addr;
static void *block(size_t i)
{
    return (void *)addr[i];
}
static int enter(size_t i)
{
    return pp_live_insert(block(i), (uint32_t)(i % (1u << 24)), (uint16_t)i, (int)(i & 1),
                          i * 7, i * 3 + 1, i);
}
/* 1 when block i comes out with exactly what enter put in. */
static int leaves_intact(size_t i)
{
    struct pp_live e;
    if (!pp_live_remove(block(i), &e))
        return 0;
    return e.stack_id == i % (1u << 24) && e.thread == (uint16_t)i && e.realloced == (i & 1) &&
           e.size == i * 7 && e.time_ns == i * 3 + 1 && e.seq == i;
}

static void shuffle(size_t *order, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = next_random() % i, t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

/* Enters blocks 0..n-1, takes them out in a random order; how many came out intact. */
static size_t round_trip(size_t n, size_t *order)
{
    size_t ok = 0;
    for (size_t i = 0; i < n; i++)
        ok += enter(i);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    shuffle(order, n);
    size_t intact = 0;
    for (size_t i = 0; i < n; i++)
        intact += leaves_intact(order[i]);
    return ok == n ? intact : 0;
}

int main(void)
{
    enum { N = 200000, ONE_SHARD = 3000 };
    static uintptr_t addrs[N], shard_addrs[ONE_SHARD];
    static size_t order[N];

    /* One shard alone: its probe runs are long, and the deletions wrap around its array. */
    size_t n = 0;
    for (uintptr_t p = 0x200000000000ull; n < ONE_SHARD; p += 16)
        if (pp_live_hash(p) >> 56 == 7)
            shard_addrs[n++] = p;
    addr = shard_addrs;
    for (size_t i = 0; i < 20; i++)
        enter(i);
    CHECK(!pp_live_big, "a shard of 20 blocks (32 slots) is not big: no prefetch");
    for (size_t i = 0; i < 20; i++)
        leaves_intact(i);
    CHECK_U64(round_trip(ONE_SHARD, order), ONE_SHARD,
              "3,000 blocks in one shard: each leaves once, intact");
    CHECK(pp_live_big, "a shard of 3,000 blocks is big: the hooks prefetch from then on");

    /* Random 16-byte aligned addresses, all distinct. */
    addr = addrs;
    for (size_t i = 0; i < N; i++)
        addrs[i] = (uintptr_t)((next_random() & 0x7ffffffff0ull) | 0x100000000000ull) + i * 16;
    CHECK_U64(round_trip(N, order), N, "200,000 blocks: each leaves once, intact");
    struct pp_live e;
    size_t again = 0;
    for (size_t i = 0; i < N; i++)
        again += pp_live_remove(block(i), &e);
    CHECK_U64(again, 0, "and none of them a second time");

    /* Half of one shard's blocks leave, new ones come, all leave: holes and refills in the same
     * runs. */
    addr = shard_addrs;
    size_t ok = 0;
    for (size_t i = 0; i < ONE_SHARD; i++)
        ok += enter(i);
    for (size_t i = 0; i < ONE_SHARD; i += 2)
        ok += leaves_intact(i);
    for (size_t i = 0; i < ONE_SHARD; i += 2)
        ok += enter(i);
    for (size_t i = 0; i < ONE_SHARD; i++)
        order[i] = i;
    shuffle(order, ONE_SHARD);
    for (size_t i = 0; i < ONE_SHARD; i++)
        ok += leaves_intact(order[i]);
    CHECK_U64(ok, ONE_SHARD * 3, "interleaved: every entry and every exit of one shard");

    /* A size past 2^39 - 1 is kept as 2^39 - 1 (the payload's field), a smaller one exactly. */
    void *p = (void *)0x300000000000ull;
    pp_live_insert(p, 5, 1, 0, 1ull << 40, 9, 9);
    pp_live_remove(p, &e);
    CHECK_U64(e.size, (1ull << 39) - 1, "a size of 2^40 comes back as 2^39 - 1");
    pp_live_insert(p, 5, 1, 0, (1ull << 39) + 5, 9, 9);
    pp_live_remove(p, &e);
    CHECK_U64(e.size, (1ull << 39) - 1, "so does 2^39 + 5");
    pp_live_insert(p, (1u << 24) - 1, 1, 0, (1ull << 39) - 2, 9, 9);
    pp_live_remove(p, &e);
    CHECK_U64(e.size, (1ull << 39) - 2, "2^39 - 2 comes back exactly");
    CHECK_U64(e.stack_id, (1u << 24) - 1, "the largest stack id comes back exactly");

    CHECK(!lost, "tracking never lost");
    return check_summary();
}
