/* test_stackstats.c — the shim's per-stack statistics (shim/stackstats.c): what an entry costs in
 * arena memory, and that the small forms it starts in count exactly what full arrays would.
 *
 * The memory figure is exact, not timed: every arena block stackstats.c asks for is counted at
 * its size class, so an entry that grows past its 768-byte block, or a histogram that spills before
 * it must, fails here. (`make bench` measures the same thing as peak RSS, section b/c.) The
 * counts are checked against a plain model: full bucket arrays indexed by pp_hist_index.
 * Driven directly, on one thread: the lanes and their locks are exercised by real programs.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../shim/arena.c"

/* Bytes of arena blocks stackstats.c took, at their size class (what the arena carves). */
#include "arena_counted.h"
#include "../../shim/stackstats.c"
#undef pp_arena_alloc

struct pp_config pp_config;
atomic_int pp_locks_orphaned;
struct pp_solo pp_solo = {.multi = 1}; /* one thread here, but the lanes' locks are exercised */
static int lost;
void pp_tracking_lost(const char *why)
{
    printf("# tracking lost: %s\n", why);
    lost = 1;
}

/* The model: every lifetime into full arrays, as the snapshot must report them. */
static uint64_t model_ns[PP_LIFETIME_NS_BUCKETS], model_allocs[PP_LIFETIME_ALLOCS_BUCKETS];
static uint64_t model_sizes[PP_SIZE_BUCKETS];

static void model_add(uint64_t *buckets, unsigned nbuckets, unsigned sub_bits, uint64_t v)
{
    unsigned i = pp_hist_index(v, sub_bits);
    buckets[i < nbuckets ? i : nbuckets - 1]++;
}

/* One allocation at stack id by thread, freed at once with these lifetimes. */
static void alloc_free(uint32_t id, uint32_t thread, uint64_t size, uint64_t ns, uint64_t allocs)
{
    pp_stats_on_alloc(id, thread, size);
    pp_stats_on_free(id, thread, size, ns, allocs, 0, 0x1000, 0);
}

static void model_alloc_free(uint32_t id, uint32_t thread, uint64_t size, uint64_t ns,
                             uint64_t allocs)
{
    alloc_free(id, thread, size, ns, allocs);
    model_add(model_ns, PP_LIFETIME_NS_BUCKETS, PP_LIFETIME_NS_SUB_BITS, ns);
    model_add(model_allocs, PP_LIFETIME_ALLOCS_BUCKETS, PP_LIFETIME_ALLOCS_SUB_BITS, allocs);
    model_add(model_sizes, PP_SIZE_BUCKETS, PP_SIZE_SUB_BITS, size);
}

static struct pp_stats_snapshot snap;

/* 1 when stack id's snapshot has the model's lifetimes. */
static int lifetimes_match(uint32_t id)
{
    pp_stats_snapshot(id, &snap);
    return !memcmp(snap.agg.lifetime_ns, model_ns, sizeof model_ns) &&
           !memcmp(snap.agg.lifetime_allocs, model_allocs, sizeof model_allocs);
}

int main(void)
{
    pp_config.max_memory = 1ull << 30;

    /* 1. Memory per stack: 4096 stacks (one page of ids), one short-lived block each. */
    for (uint32_t id = 0; id < 4096; id++)
        alloc_free(id, 0, 16 + id % 16, 100 + id, id % 3);
    CHECK_U64(arena_bytes, 4096 * 768 + 4096 * sizeof(void *),
              "4096 stacks: one 768-byte entry each, and one page of pointers to them");
    CHECK_U64(sizeof(struct lane), 768, "an entry is exactly its arena block");
    pp_stats_snapshot(4095, &snap);
    CHECK(snap.agg.allocs == 1 && snap.agg.frees == 1 && snap.agg.lifetime_ns_sum == 4195 &&
              snap.agg.lifetime_ns[pp_hist_index(4195, PP_LIFETIME_NS_SUB_BITS)] == 1 &&
              snap.agg.lifetime_allocs[0] == 1,
          "... and each counts its block");

    /* 2. An odd thread's lane is made on its first event: one more block. */
    uint64_t before = arena_bytes;
    alloc_free(1, 1, 16, 100, 0);
    CHECK_U64(arena_bytes - before, 768, "thread 1 at a stack: a second lane, 768 bytes");
    pp_stats_snapshot(1, &snap);
    CHECK_U64(snap.agg.allocs, 2, "... and the snapshot sums both lanes");

    /* 3. Lifetimes: 8 distinct buckets stay in the entry, the ninth spills
     * into full arrays, and the counts are the model's all along. Stack 4096 is new, on the
     * page of ids that stack 4097 made. */
    const uint32_t id = 4096;
    alloc_free(4097, 0, 16, 100, 0);
    before = arena_bytes;
    for (unsigned k = 0; k < 8; k++)
        for (unsigned rep = 0; rep <= k; rep++)
            model_alloc_free(id, 0, 32, 1000ull << (2 * k), 1ull << k);
    uint64_t entry = arena_bytes - before;
    CHECK_U64(entry, 768, "8 distinct lifetime buckets of each kind: no spill, one entry");
    CHECK(lifetimes_match(id), "... the small forms count what full arrays would");
    model_alloc_free(id, 0, 32, 1ull << 50, 1ull << 45); /* both past their last bucket */
    CHECK_U64(arena_bytes - before - entry, 768 + 640,
              "one more bucket of each kind: both spill to full arrays (92 and 80 buckets)");
    CHECK(lifetimes_match(id), "... with every count moved, the clamped value in the last bucket");
    for (unsigned v = 0; v < 5000; v += 7)
        model_alloc_free(id, 0, 32, (uint64_t)v * v * v, v);
    CHECK(lifetimes_match(id), "... and counting on in the full arrays");
    CHECK_U64(snap.agg.frees, 1 + 8 * 9 / 2 + 715,
              "... every free counted once");

    /* 4. The lane of thread 1 keeps its own small forms; the snapshot adds both lanes up. */
    for (unsigned v = 0; v < 3; v++)
        model_alloc_free(id, 1, 32, 10 + v, 0);
    CHECK(lifetimes_match(id), "a small lane and a spilled one add up exactly");

    /* 5. Sizes: many distinct ones spill the size histogram; counted on in buckets. */
    memset(model_sizes, 0, sizeof model_sizes);
    for (uint64_t size = 1; size < 300000; size = size * 3 + 1)
        for (unsigned rep = 0; rep < 3; rep++)
            model_alloc_free(6000, 0, size, 5, 0);
    pp_stats_snapshot(6000, &snap);
    CHECK(snap.size.buckets && !memcmp(snap.size_buckets, model_sizes, sizeof model_sizes),
          "12 distinct sizes: the size histogram's buckets are the model's");

    /* 6. The final sizes of realloc chains: a histogram made on the first such free. */
    before = arena_bytes;
    alloc_free(6001, 0, 100, 5, 0);
    CHECK_U64(arena_bytes - before, 768, "a stack without realloc chains: the entry alone");
    for (unsigned n = 0; n < 3; n++) {
        pp_stats_on_alloc(6001, 0, 100);
        pp_stats_on_free(6001, 0, 4000 + n % 2, 5, 0, 0, 0x1000, 1);
    }
    CHECK_U64(arena_bytes - before, 768 + 256, "its first chain freed: a 144-byte histogram");
    pp_stats_snapshot(6001, &snap);
    CHECK(snap.agg.chains_freed == 3 && snap.chain_final.nexact == 2 &&
              snap.chain_final.value[0] == 4000 && snap.chain_final.count[0] == 2 &&
              snap.chain_final.value[1] == 4001 && snap.chain_final.count[1] == 1,
          "... holding each chain's final size");

    /* 7. Live and peak: per stack, and per allocating thread. Threads 0 and 2 share lane 0,
     * each in its own slot: the peak of one thread is not the two threads' sum. */
    for (unsigned n = 0; n < 3; n++) {
        pp_stats_on_alloc(6002, 0, 8);
        pp_stats_on_alloc(6002, 2, 8);
    }
    pp_stats_on_free(6002, 0, 8, 5, 0, 0, 0x1000, 0);
    pp_stats_on_alloc(6002, 2, 8);
    pp_stats_on_alloc(6002, 2, 8);
    pp_stats_snapshot(6002, &snap);
    CHECK_U64(snap.agg.peak_live, 7, "8 allocations with a free between: peak 7 live");
    CHECK_U64(snap.agg.peak_live_per_thread, 5, "... of which 5 on thread 2 at most");
    CHECK_U64(snap.agg.live_bytes, 7 * 8, "... 7 blocks of 8 bytes live at the end");

    /* A thread's frees count against its own live blocks: 2 live, both freed, 2 again. */
    for (unsigned round = 0; round < 2; round++) {
        pp_stats_on_alloc(6005, 0, 8);
        pp_stats_on_alloc(6005, 0, 8);
        pp_stats_on_free(6005, 0, 8, 5, 0, 0, 0x1000, 0);
        pp_stats_on_free(6005, 0, 8, 5, 0, 0, 0x1000, 0);
    }
    pp_stats_snapshot(6005, &snap);
    CHECK_U64(snap.agg.peak_live_per_thread, 2, "2 blocks live at a time on one thread: peak 2");

    /* 8. More threads in a lane than slots: the ones past the 7th share the last slot, whose
     * peak is then an upper bound (threads 0, 2 ... 18 are all in lane 0). */
    for (uint32_t t = 0; t < 20; t += 2)
        pp_stats_on_alloc(6003, t, 8);
    pp_stats_snapshot(6003, &snap);
    CHECK_U64(snap.agg.peak_live_per_thread, 3, "10 threads, one block each: 3 in the shared slot");
    CHECK_U64(snap.agg.peak_live, 10, "... and 10 live in all");
    CHECK_U64(snap.agg.thread_mask, 0x55555, "... from threads 0, 2 ... 18 (bits 0, 2 ... 18)");

    /* 9. The what-if free lists: 5000 blocks live, all freed, then 5000 taken again. Level k
     * (a list of capacity 2^k) kept min(2^k, 5000) of them, so that many are hits. */
    for (unsigned round = 0; round < 2; round++) {
        for (unsigned n = 0; n < 5000; n++)
            pp_stats_on_alloc(6004, 0, 64);
        for (unsigned n = 0; n < 5000; n++)
            pp_stats_on_free(6004, 0, 64, 5, 0, 0, 0x1000, 0);
    }
    pp_stats_snapshot(6004, &snap);
    unsigned levels_right = 0;
    for (unsigned k = 0; k < PP_POOL_LEVELS; k++)
        levels_right += snap.agg.pool_hits[k] == ((1u << k) < 5000 ? (1u << k) : 5000);
    CHECK_U64(levels_right, PP_POOL_LEVELS, "every level's hits: min(capacity, 5000)");

    /* 10. A forked child forgets every entry, on every page of ids made (a third page now). */
    pp_stats_on_alloc(8192, 0, 8);
    pp_stats_reset_after_fork();
    CHECK(!pp_stats_active(0) && !pp_stats_active(4095) && !pp_stats_active(4096) &&
              !pp_stats_active(6004) && !pp_stats_active(8192),
          "after fork: no stack has an entry, on any of the 3 pages");
    pp_stats_on_alloc(6004, 0, 64);
    pp_stats_snapshot(6004, &snap);
    CHECK_U64(snap.agg.allocs, 1, "... and a stack used again starts from 0");

    CHECK(!lost, "nothing ran out of memory");
    return check_summary();
}
