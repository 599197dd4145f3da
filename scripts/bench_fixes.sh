#!/usr/bin/env bash
# bench_fixes.sh — the checklist's predictions against the fixes written by hand (part of
# `make bench`, section f; runs alone too, after `make all build/workloads/judge`).
#
# For each case of tests/workloads/judge.c: profile the plain program under the shim and read the
# verdict and its predicted saving (saving_ns, plus then.saving_ns for a chained verdict) from
# the report made with min_saving_share=0, so every shape has a prediction; then time the plain
# and the fixed program natively, alternating the two, BENCH_FIX_RUNS rounds (default 5), and
# take the medians. The table sets the predicted share of the plain native run (saving_ns /
# plain time) next to the measured one (1 - fixed / plain) and says whether they agree in sign.
#
# Usage: scripts/bench_fixes.sh   (prints the table on stdout; progress on stderr)
set -eu
set -o pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

B=build
SHIM=$B/libpoolprobe.so
REPORT=$B/poolprobe-report
JUDGE=$B/workloads/judge
runs=${BENCH_FIX_RUNS:-5}
for f in "$SHIM" "$REPORT" "$JUDGE"; do
    [ -f "$f" ] || { echo "bench_fixes: error: $f is missing (make all $JUDGE)" >&2; exit 2; }
done
TMP=$(mktemp -d -t poolprobe-fixes.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# The built-in cost tables, as the tests use them (a table measured here would do as well).
export XDG_CACHE_HOME=$TMP/no-cache

# case:site:requests — requests chosen so a plain native run takes 0.05-0.5 s here.
CASES="buf4k:render_buf:400000 event16:make_event:2000000 frames:decode_frame:400000
classes:class_buf:100000 grow:grow_body:40000 inflight3:big_scratch:4000
threads2:thread_buf:400000 handoff:handoff_buf:200000 ex2:process_input:100000
ex6:decoder_scratch:4000 ex8:scratch_4k:400000 tree:tree_node:400000"

now_ns() { date +%s%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

fmt='%-10s %-13s %-26s %11s %10s %10s %9s %9s  %s\n'
# shellcheck disable=SC2059
printf "$fmt" case site verdict "saving ns" "plain ms" "fixed ms" predicted measured sign
for entry in $CASES; do
    IFS=: read -r name site n <<<"$entry"
    echo "bench_fixes: $name" >&2
    LD_PRELOAD=$PWD/$SHIM POOLPROBE_OUT=$TMP/$name.bin "$JUDGE" "$name" "$n" >/dev/null
    "$REPORT" -f json -t min_saving_share=0 "$TMP/$name.bin" >"$TMP/$name.json"
    # A no-pool verdict's prediction is what the pool would have saved (the "big enough" row,
    # negative when it loses to malloc), so its sign is checked too.
    read -r verdict saving <<<"$(jq -r --arg f "$site" '.processes[0].duration_ns as $d
        | .sites[] | select(.frames[0].function == $f)
        | "\(.verdict)\(if .then then "+" + .then.verdict else "" end)\(if .pool_kind then "(" + .pool_kind + ")" else "" end) \(if .verdict == "no-pool"
            then ((.checks[] | select(.name == "big enough") | .value) * $d) * (.threads // 1)
            else (.saving_ns // 0) + (.then.saving_ns // 0) end)"' "$TMP/$name.json")"
    : >"$TMP/$name.plain"
    : >"$TMP/$name.fixed"
    for _ in $(seq 1 "$runs"); do
        for mode in plain fixed; do
            arg=""
            [ $mode = plain ] || arg=fixed
            t0=$(now_ns)
            "$JUDGE" "$name" "$n" $arg >"$TMP/$name.$mode.out"
            echo $(($(now_ns) - t0)) >>"$TMP/$name.$mode"
        done
    done
    cmp -s <(cut -d' ' -f2- "$TMP/$name.plain.out") <(cut -d' ' -f2- "$TMP/$name.fixed.out") ||
        echo "bench_fixes: $name: the fixed program printed something else" >&2
    plain=$(median <"$TMP/$name.plain")
    fixed=$(median <"$TMP/$name.fixed")
    awk -v c="$name" -v s="$site" -v v="$verdict" -v sv="$saving" -v p="$plain" -v f="$fixed" \
        -v fmt="$fmt" 'BEGIN {
            pred = sv / p; meas = 1 - f / p
            agree = (pred > 0.005 && meas > 0) || (pred < -0.005 && meas < 0) ||
                    (pred >= -0.005 && pred <= 0.005) ? "agree" : "DISAGREE"
            printf fmt, c, s, v, sprintf("%.0f", sv), sprintf("%.1f", p / 1e6),
                   sprintf("%.1f", f / 1e6), sprintf("%+.0f%%", pred * 100),
                   sprintf("%+.0f%%", meas * 100), agree }'
done
echo
echo "predicted: saving_ns of the report (min_saving_share=0) over the plain native run's time;"
echo "measured: 1 - fixed / plain, medians of $runs alternated runs each; load average at the end:"
echo "$(cut -d' ' -f1-3 /proc/loadavg)"
