#!/usr/bin/env bash
# t_robust_threads.sh — threads never break the host and counts stay exact: 8 threads mixing
# every allocation function with cross-thread frees, threads that exit holding blocks, and
# exit() called while other threads are still allocating (the exit-time write must not be lost
# to a snapshot in progress on another thread).
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/robust_lib.sh
. "${0%/*}/robust_lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/robust_threads"
W=$WORKLOADS/robust_threads

# --- 8 threads x 9 functions, every free on another thread ---------------------------------
N=2000
run_native mix -- "$W" mix $N
run_shim mix "$TMP/mix.bin" -- "$W" mix $N
same_behaviour mix quiet
trace_ok mix "$TMP/mix.json" "$TMP/mix.bin"
J=$TMP/mix.json
for f in mix_malloc mix_calloc mix_realloc mix_reallocarray mix_posix_memalign \
    mix_aligned_alloc mix_memalign mix_valloc mix_pvalloc; do
    check_eq "$f allocs" $((8 * N)) "$(site_field "$J" "$f" allocs)"
    check_eq "$f frees" $((8 * N)) "$(site_field "$J" "$f" frees)"
    check_eq "$f live_at_exit" 0 "$(site_field "$J" "$f" live_at_exit)"
    cross=$(site_field "$J" "$f" 'cross_thread_frees // "absent"')
    if [ "$cross" != absent ]; then
        check_eq "$f cross_thread_frees" $((8 * N)) "$cross"
    fi
done
check_eq "mix_calloc size is n*size" 48 "$(site_field "$J" mix_calloc size.max)"
check_eq "mix_reallocarray size is n*size" 80 "$(site_field "$J" mix_reallocarray size.min)"
# Threads that exited holding their blocks; main freed half of them after they were gone.
check_eq "hold_alloc allocs" $((8 * N)) "$(site_field "$J" hold_alloc allocs)"
check_eq "hold_alloc frees (after the owners exited)" $((4 * N)) "$(site_field "$J" hold_alloc frees)"
check_eq "hold_alloc live_at_exit" $((4 * N)) "$(site_field "$J" hold_alloc live_at_exit)"
check_eq "mix: no untracked frees" 0 "$(json_get "$J" '.processes[0].untracked_frees')"

# --- exit() while 4 threads allocate -------------------------------------------------------
# A 1 ms interval makes snapshots run all the time, so exit() nearly always finds one in
# progress on another thread. The exit-time trace must still be written (not the snapshot),
# with no temporary file left behind.
run_native race -- "$W" exit-race 300 3
mkdir "$TMP/race"
POOLPROBE_INTERVAL=0.001 run_shim race "$TMP/race/trace.bin" -- "$W" exit-race 300 3
same_behaviour race quiet
check_eq "exit-race: status 3 under the shim" 3 "$(cat "$TMP/race.shim.rc")"
trace_ok race "$TMP/race.json" "$TMP/race/trace.bin"
check_eq "exit-race: the final trace, not a snapshot" false \
    "$(json_get "$TMP/race.json" '.processes[0].snapshot')"
check_eq "exit-race: race_alloc counted" true \
    "$(json_get "$TMP/race.json" '[.sites[] | select(.frames[0].function == "race_alloc")][0].allocs > 1000')"
check_eq "exit-race: only trace.bin in the directory" trace.bin "$(cd "$TMP/race" && echo *)"
# The same with the default interval, five times: always status 3 and a readable trace.
for i in 1 2 3 4 5; do
    run_shim "race$i" "$TMP/race$i.bin" -- "$W" exit-race 50 3
    check_eq "exit-race run $i: status 3" 3 "$(cat "$TMP/race$i.shim.rc")"
    check_status "exit-race run $i: trace readable" 0 "$REPORT" --format json "$TMP/race$i.bin"
done
