/* test_arena.c — the shim's arena (shim/arena.c): its size classes and the recycling of blocks.
 *
 * Every request size up to the largest class is checked: its class is the smallest that holds
 * it, wastes less than a quarter of the request beyond 256 bytes, and a block of 64 bytes or
 * more is a whole number of cache lines (blocks start on one). Then blocks are freed and
 * taken again: same class, same block, zeroed; and a mapped block is counted against the cap
 * while it lives.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../shim/arena.c"

struct pp_config pp_config;
atomic_int pp_locks_orphaned;

int main(void)
{
    pp_config.max_memory = 1ull << 30;

    unsigned bad_fit = 0, bad_waste = 0, bad_line = 0, bad_order = 0, top = 0;
    for (size_t size = 1; size <= MAX_BYTES; size++) {
        unsigned c = size_class(size);
        size_t bytes = class_bytes(c);
        if (c >= NCLASSES || bytes < size || (c > 0 && class_bytes(c - 1) >= size))
            bad_fit++;
        if (size > 256 && (bytes - size) * 4 >= size)
            bad_waste++;
        if (bytes >= 64 && bytes % 64)
            bad_line++;
        if (c < top)
            bad_order++;
        top = c;
    }
    CHECK_U64(bad_fit, 0, "every size up to 512 KiB: the smallest class that holds it");
    CHECK_U64(bad_waste, 0, "... wasting under a quarter of it beyond 256 bytes");
    CHECK_U64(bad_line, 0, "... in whole cache lines from 64 bytes up");
    CHECK_U64(bad_order, 0, "... classes growing with the size");
    CHECK_U64(top, NCLASSES - 1, "512 KiB is the last class");
    CHECK_U64(class_bytes(size_class(384)), 384, "a stack of 40 ips (64 + 320 bytes): 384");
    CHECK_U64(class_bytes(size_class(736)), 768, "92 lifetime buckets: 768");
    CHECK_U64(class_bytes(size_class(16392)), 20480,
              "a thread's view of 1024 stacks (16 KiB + 8): 20 KiB, not 32");

    unsigned char *a = pp_arena_alloc(700);
    unsigned char *b = pp_arena_alloc(700);
    CHECK(a && b && ((uintptr_t)a % 64) == 0 && ((uintptr_t)b % 64) == 0 && b - a >= 768,
          "two 700-byte blocks: on cache lines, 768 bytes apart at least");
    memset(a, 0xab, 700);
    pp_arena_free(a, 700);
    unsigned char *c = pp_arena_alloc(760);
    CHECK(c == a, "a 760-byte request takes the freed 700-byte block (class 768)");
    unsigned zero = 1;
    for (unsigned i = 0; i < 768; i++)
        zero &= c[i] == 0;
    CHECK(zero, "... zeroed");
    pp_arena_free(c, 760);
    unsigned char *d = pp_arena_alloc(800);
    CHECK(d && d != a, "an 800-byte request does not (class 896)");
    /* A block that fills what is left of a chunk exactly: the chunk in use is taken as
     * spent, so two 512 KiB blocks come from one fresh 1 MiB chunk. */
    chunk_pos = chunk_end;
    unsigned char *half1 = pp_arena_alloc(MAX_BYTES), *half2 = pp_arena_alloc(MAX_BYTES);
    CHECK(half1 && half2 == half1 + MAX_BYTES, "two 512 KiB blocks fill one 1 MiB chunk");

    pp_arena_lock_for_fork();
    pp_arena_unlock_after_fork();
    CHECK(atomic_load(&lock.held) == 0, "the lock taken for a fork is given back after it");

    uint64_t mapped = atomic_load(&mapped_bytes);
    unsigned char *big = pp_arena_alloc(MAX_BYTES + 1);
    CHECK(big && ((uintptr_t)big % 4096) == 0, "past 512 KiB: mapped pages of its own");
    CHECK_U64(atomic_load(&mapped_bytes) - mapped, MAX_BYTES + 4096,
              "... counted against POOLPROBE_MAX_MEMORY_MB, in whole pages");
    pp_arena_free(big, MAX_BYTES + 1);
    CHECK_U64(atomic_load(&mapped_bytes), mapped, "... and no longer once unmapped");
    pp_config.max_memory = atomic_load(&mapped_bytes) + MAX_BYTES;
    CHECK(pp_arena_alloc(MAX_BYTES + 1) == NULL, "a request past the cap gets NULL");
    return check_summary();
}
