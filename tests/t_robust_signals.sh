#!/usr/bin/env bash
# t_robust_signals.sh — signals: a handler that allocates on an alternate stack, triggered
# 20000 times while the main thread allocates (it may interrupt the shim itself: those calls
# are forwarded untracked), and ITIMER_PROF at a high rate interrupting malloc/realloc/free in
# two threads, with snapshots written all the time. No deadlock (timeout), same output.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/robust_lib.sh
. "${0%/*}/robust_lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/robust_signals"
W=$WORKLOADS/robust_signals
ROBUST_TIMEOUT=30

# --- a handler on sigaltstack that allocates -----------------------------------------------
S=20000 M=100000
run_native alt -- "$W" altstack $S $M
run_shim alt "$TMP/alt.bin" -- "$W" altstack $S $M
same_behaviour alt quiet
trace_ok alt "$TMP/alt.json" "$TMP/alt.bin"
J=$TMP/alt.json
check_eq "altstack: main_alloc frees = allocs >= $M" true \
    "$(json_get "$J" '[.sites[] | select(.frames[0].function == "main_alloc")][0] | .allocs >= '$M' and .frees == .allocs')"
# 16 warm-up calls outside the handler, then at most one per signal.
check_eq "altstack: handler_alloc frees = allocs, 16 < allocs <= 16 + $S" true \
    "$(json_get "$J" '[.sites[] | select(.frames[0].function == "handler_alloc")][0] | .allocs > 16 and .allocs <= 16 + '$S' and .frees == .allocs')"
# By stack: the site's one shown stack is the warm-up calls' when few handler calls were
# recorded (most signals land while the main thread is inside the shim, and those are forwarded).
"$REPORT" --format json --group-by=stack "$TMP/alt.bin" >"$TMP/alt-stacks.json"
check_eq "altstack: a handler stack unwinds through the signal frame to run_altstack" true \
    "$(json_get "$TMP/alt-stacks.json" '[.sites[] | select(.frames[0].function == "handler_alloc") | [.frames[] | .function] | index("on_usr1") != null and index("run_altstack") != null] | any')"

# --- SIGPROF every 100 us ------------------------------------------------------------------
M=1000000
run_native prof -- "$W" prof $M
POOLPROBE_INTERVAL=0.01 run_shim prof "$TMP/prof.bin" -- "$W" prof $M
same_behaviour prof quiet
check "prof: the timer fired" grep -q 'ticked=yes' "$TMP/prof.shim.out"
trace_ok prof "$TMP/prof.json" "$TMP/prof.bin"
check_eq "prof_alloc allocs" $((2 * M)) "$(site_field "$TMP/prof.json" prof_alloc allocs)"
check_eq "prof_alloc frees" $((2 * M)) "$(site_field "$TMP/prof.json" prof_alloc frees)"
check_eq "prof: the final trace, not a snapshot" false "$(json_get "$TMP/prof.json" '.processes[0].snapshot')"
