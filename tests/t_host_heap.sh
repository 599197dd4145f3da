#!/usr/bin/env bash
# t_host_heap.sh — the shim leaves the program's heap as it would be natively: after three
# 64 KiB blocks allocated and freed 200 times, glibc's own account of its heap (mallinfo2) is
# byte for byte the native one, in site mode and with full stacks. Before, the shim's first
# stack-bounds query (glibc's pthread_getattr_np reads /proc/self/maps with stdio) left blocks
# above the program's first ones, glibc stopped trimming the heap, and a run that trims on
# every round natively ran several times faster traced (tests/workloads/host_heap.c).
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/robust_lib.sh
. "${0%/*}/robust_lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/host_heap"

run_native heap -- "$WORKLOADS/host_heap" 200
for stacks in site full; do
    like_native "heap-$stacks" heap
    POOLPROBE_STACKS=$stacks run_shim "heap-$stacks" "$TMP/heap-$stacks.bin" -- \
        "$WORKLOADS/host_heap" 200
    same_behaviour "heap-$stacks" quiet
    check_eq "heap-$stacks: scratch's 600 allocations" 600 \
        "$(site_allocs "$TMP/heap-$stacks.bin" scratch)"
done

LIB_FINISHED=1
