#!/usr/bin/env bash
# soak.sh — the robustness scenarios whose failures are races, repeated until they would show:
# `make soak`, not part of `make test`. Ends with "N passed, N failed" like tests/run.sh.
#
#   1. tests/t_robust_{threads,signals,processes,output}.sh, SOAK_ROUNDS times (default 10);
#   2. exit() while 4 threads allocate with a snapshot every millisecond, SOAK_RUNS times
#      (default 200) at random moments: status 3, the final trace (not a snapshot), no stray
#      temporary file;
#   3. a signal handler on sigaltstack that allocates, 200000 signals;
#   4. SIGKILL at a random moment between 1.2 and 3 s, SOAK_KILLS times (default 30): the
#      snapshot left behind is always readable.
# Each program runs under `timeout`, so a deadlock fails instead of hanging.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=tests/lib.sh
. tests/lib.sh
# shellcheck source=tests/robust_lib.sh
. tests/robust_lib.sh
require "$SHIM" "$REPORT" "$WORKLOADS/robust_threads" "$WORKLOADS/robust_signals" \
    "$WORKLOADS/robust_output"
set +e

rounds=${SOAK_ROUNDS:-10} runs=${SOAK_RUNS:-200} kills=${SOAK_KILLS:-30}

echo "# soak: $rounds rounds of the robust tests"
for i in $(seq "$rounds"); do
    out=$(POOLPROBE_RESULTS='' tests/run.sh t_robust_threads t_robust_signals t_robust_processes \
        t_robust_output 2>&1)
    check "round $i of the robust tests" grep -q ' 0 failed$' <<<"$out"
done

echo "# soak: $runs exit() races with a snapshot every millisecond"
bad=0
for i in $(seq "$runs"); do
    d=$TMP/race$i
    mkdir "$d"
    POOLPROBE_INTERVAL=0.001 run_shim race "$d/trace.bin" -- "$WORKLOADS/robust_threads" \
        exit-race $((RANDOM % 300 + 1)) 3
    if [ "$(cat "$TMP/race.shim.rc")" != 3 ] || [ "$(cd "$d" && echo *)" != trace.bin ] ||
        [ "$("$REPORT" --format json "$d/trace.bin" 2>/dev/null |
            jq -r '.processes[0].snapshot')" != false ]; then
        bad=$((bad + 1))
        echo "# race $i: status $(cat "$TMP/race.shim.rc"), files: $(cd "$d" && echo *)"
    fi
    rm -rf "$d"
done
check_eq "exit() races: every run kept its final trace" 0 "$bad"

echo "# soak: 200000 signals into a handler that allocates on sigaltstack"
run_native alt -- "$WORKLOADS/robust_signals" altstack 200000 100000
run_shim alt "$TMP/alt.bin" -- "$WORKLOADS/robust_signals" altstack 200000 100000
same_behaviour alt quiet
check_status "altstack: trace readable" 0 "$REPORT" --format json "$TMP/alt.bin"

echo "# soak: $kills runs killed by SIGKILL at a random moment"
bad=0
for i in $(seq "$kills"); do
    rm -f "$TMP/kill.bin"
    {
        env LD_PRELOAD="$SHIM" POOLPROBE_OUT="$TMP/kill.bin" "$WORKLOADS/robust_output" work \
            60000 hang >/dev/null 2>&1 &
        pid=$!
    } 2>/dev/null
    sleep "$((RANDOM % 18 + 12))e-1"
    kill -KILL "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null
    if ! "$REPORT" --format json "$TMP/kill.bin" >/dev/null 2>&1; then
        bad=$((bad + 1))
        echo "# kill $i: no readable trace"
    fi
done
check_eq "SIGKILL: every run left a readable snapshot" 0 "$bad"
LIB_FINISHED=1
