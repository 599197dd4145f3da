#!/usr/bin/env bash
# t_solo.sh — while a process has one thread the shim's hot tables take no locks (shim/solo.c);
# a second thread's first event must end that before it touches them. The solo workload does it
# 9 times in one run (a parent and 8 forked children, each single-threaded, then two threads
# sharing one site's lane and the side table's shards): every count stays exact.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/solo"

N=60000 C=8 P=9
"$WORKLOADS/solo" $N $C >"$TMP/plain.out"
for mode in solo locked; do
    mkdir "$TMP/$mode"
    solo=1
    [ $mode = locked ] && solo=0
    POOLPROBE_SOLO=$solo profiled "$mode" "$TMP/$mode/t.bin" -- "$WORKLOADS/solo" $N $C
    check "$mode: same output as natively" cmp "$TMP/plain.out" "$TMP/$mode.out"
    check_eq "$mode: a trace per process" $P "$(find "$TMP/$mode" -name 't*.bin' | wc -l)"
    report_to "$TMP/$mode.json" "$TMP/$mode"/t*.bin
    J=$TMP/$mode.json
    check_site "$J" keep_block $((P * N)) $((P * N)) 48
    check_eq "$mode: keep_block bytes" $((P * N * 48)) "$(site_field "$J" keep_block bytes)"
    check_eq "$mode: keep_block live at exit" 0 "$(site_field "$J" keep_block live_at_exit)"
    check_site "$J" helper_block $((P * N / 2)) $((P * N / 2)) 80
    check_eq "$mode: no untracked frees" 0 \
        "$(json_get "$J" '[.processes[].untracked_frees] | add')"
    # Each handed-over block is freed on the helper thread: some of keep_block's frees are
    # cross-thread, never all of them (the timing decides how many).
    check_eq "$mode: some keep_block frees cross-thread" true \
        "$(json_get "$J" "[.sites[] | select(.frames[0].function == \"keep_block\")][0]
            | .cross_thread_frees > 0 and .cross_thread_frees < $((P * N))")"
done

# The mechanism itself, seen from outside: every process registers for membarrier once (at
# start, and again in each forked child), and ends solo with one PRIVATE_EXPEDITED barrier when
# its helper thread starts; with POOLPROBE_SOLO=0 it never runs one, and neither does a process
# that stays single-threaded.
require "$(command -v strace || echo strace)"
membarriers() { # membarriers OUT -- CMD...: "<registrations> <barriers>" of a traced run
    local out=$1
    shift 2
    profile "$out" -- strace -f -qq -e trace=membarrier -o "$TMP/strace.txt" "$@" >/dev/null
    echo "$(grep -c 'REGISTER_PRIVATE_EXPEDITED' "$TMP/strace.txt")" \
        "$(grep -c 'membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED' "$TMP/strace.txt")"
}
mkdir "$TMP/st"
check_eq "solo: 3 processes register once each, end solo once each" "3 3" \
    "$(membarriers "$TMP/st/a.bin" -- "$WORKLOADS/solo" 2000 2)"
check_eq "POOLPROBE_SOLO=0: no barrier" "3 0" \
    "$(POOLPROBE_SOLO=0 membarriers "$TMP/st/b.bin" -- "$WORKLOADS/solo" 2000 2)"
check_eq "a single-threaded program: registered, never a barrier" "1 0" \
    "$(membarriers "$TMP/st/c.bin" -- "$WORKLOADS/solo" 2000 0 single)"
