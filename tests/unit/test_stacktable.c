/* test_stacktable.c — the stack table (shim/stacktable.c): what a stack costs in arena memory,
 * that each distinct stack is interned once under one id, and that a thread's view of the
 * stacks gives its old array back to the arena at the size it took when it grows.
 *
 * Arena bytes are counted at their size class, as in test_stackstats: a stack of 40 frames must
 * take exactly one 384-byte block (its entry and its ips together). Driven on one thread with a
 * zeroed thread state; the lock and the sharing between threads are exercised by real programs.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../shim/arena.c"

/* Bytes of arena blocks stacktable.c took (and gave back) through uthash, views and stacks. */
#include "arena_counted.h"
#include "../../shim/stacktable.c"
#undef pp_arena_alloc

struct pp_config pp_config;
atomic_int pp_locks_orphaned;

static struct pp_thread thread; /* zeroed: no view yet */

/* The ips of stack n: 40 frames, distinct in the last one. */
static void stack_ips(uintptr_t *ips, unsigned n)
{
    for (unsigned i = 0; i < 40; i++)
        ips[i] = 0x400000 + i * 0x40;
    ips[39] = 0x500000 + (uintptr_t)n * 16;
}

int main(void)
{
    pp_config.max_memory = 1ull << 30;
    uintptr_t ips[40];
    int fresh;

    /* The first stack: a 384-byte block, plus the table's first bucket array and view. */
    stack_ips(ips, 0);
    struct pp_stack *first = pp_stack_intern(&thread, ips, 40, 0, &fresh);
    CHECK(first && fresh && pp_stack_id(first) == 0 && pp_stack_depth(first) == 40 &&
              !memcmp(pp_stack_ips(first), ips, sizeof ips),
          "a new stack: id 0, its 40 ips kept");
    uint64_t before = arena_bytes;
    stack_ips(ips, 1);
    pp_stack_intern(&thread, ips, 40, 0, &fresh);
    CHECK_U64(arena_bytes - before, 384, "the next stack of 40 frames: one 384-byte block");

    /* 2000 stacks: each once, found again from the view, the same ids. */
    for (unsigned n = 2; n < 2000; n++) {
        stack_ips(ips, n);
        pp_stack_intern(&thread, ips, 40, 0, &fresh);
    }
    unsigned same = 0;
    for (unsigned n = 0; n < 2000; n++) {
        stack_ips(ips, n);
        struct pp_stack *s = pp_stack_intern(&thread, ips, 40, 0, &fresh);
        same += s && !fresh && pp_stack_id(s) == n && pp_stack_by_id(n) == s;
    }
    CHECK_U64(same, 2000, "2000 stacks interned again: each found, under its own id");
    CHECK_U64(pp_stack_count(), 2000, "... and 2000 stacks in the table");

    /* The view grew 1024 -> 2048 -> 4096 slots (at half load); each old array went back to
     * the arena at its own size, so its class's free list holds it and the next class's does
     * not. */
    CHECK(thread.cache && thread.cache->mask + 1 == 4096, "a view of 4096 slots for 2000 stacks");
    CHECK(free_lists[size_class(view_bytes(1024))] && free_lists[size_class(view_bytes(2048))],
          "the views of 1024 and 2048 slots were given back in their own classes");
    CHECK(!free_lists[size_class(view_bytes(1024)) + 1],
          "... and none in the class above the smallest");

    /* Forgetting the view: the table still has every stack. */
    pp_stack_cache_clear(&thread);
    stack_ips(ips, 1234);
    struct pp_stack *s = pp_stack_intern(&thread, ips, 40, 0, &fresh);
    CHECK(s && !fresh && pp_stack_id(s) == 1234, "without a view: found in the table, not made again");
    return check_summary();
}
