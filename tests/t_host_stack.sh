#!/usr/bin/env bash
# t_host_stack.sh — the shim takes little of the program's stack: a malloc whose stack the frame
# cache knows uses under 512 bytes below its caller, and on a 16 KiB makecontext stack (where
# every call misses the cache and unwinds) malloc at depth, with 3 KiB left, works and takes
# under 512 bytes too: the unwind and the snapshot writer run on the shim's own stack
# (shim/altstack.c). Each figure is measured by painting the stack (tests/workloads/host_stack.c).
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/robust_lib.sh
. "${0%/*}/robust_lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/host_stack"
W=$WORKLOADS/host_stack

bytes() { sed -n 's/^[a-z]*: \([0-9]*\) bytes$/\1/p' "$1"; }

# --- hot path: a thread's own stack, the call site warm in the frame cache ---------------------
run_native hot -- "$W" hot 1000
run_shim hot "$TMP/hot.bin" -- "$W" hot 1000
check_eq "hot: exit status native, under the shim" "0 0" \
    "$(cat "$TMP/hot.native.rc") $(cat "$TMP/hot.shim.rc")"
hot=$(bytes "$TMP/hot.shim.out")
echo "# hot path: $hot bytes below the caller under the shim, $(bytes "$TMP/hot.native.out") natively"
check "hot: under 512 bytes below the caller (malloc and free, real allocator included)" \
    test "${hot:-99999}" -lt 512
trace_ok hot "$TMP/hot.json" "$TMP/hot.bin"
check_site "$TMP/hot.json" stack_site 1017 1017 48

# --- worst case: 16 KiB makecontext stack, 24 frames of 512 bytes deep, every call unwinds -----
# Natively about 3.3 KiB are left there; before the unwind moved off the program's stack, the
# shim needed about 9 KiB and this died on the guard page.
for interval in 1 0.001; do
    name="coroutine, interval $interval"
    run_native "$name" -- "$W" coroutine 3000 24
    POOLPROBE_INTERVAL=$interval run_shim "$name" "$TMP/co.bin" -- "$W" coroutine 3000 24
    check_eq "$name: exit status native, under the shim" "0 0" \
        "$(cat "$TMP/$name.native.rc") $(cat "$TMP/$name.shim.rc")"
    worst=$(bytes "$TMP/$name.shim.out")
    echo "# $name: $worst bytes below the caller under the shim, $(bytes "$TMP/$name.native.out") natively"
    check "$name: under 512 bytes below the caller" test "${worst:-99999}" -lt 512
    trace_ok "$name" "$TMP/co.json" "$TMP/co.bin"
    check_site "$TMP/co.json" stack_site 3001 3001 48
    check_eq "$name: the stack walked off the coroutine's stack into its frames" 24 \
        "$(jq '[.sites[] | select(.frames[0].function == "stack_site") | .frames[]
                | select(.function == "descend")] | length' "$TMP/co.json")"
done

LIB_FINISHED=1
