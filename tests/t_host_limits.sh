#!/usr/bin/env bash
# t_host_limits.sh — hostile sizes: a trace over PP_TRACE_MAX_BYTES (512 MiB) and a JSON
# baseline over PP_BASELINE_JSON_MAX_BYTES (128 MiB) are refused at once with exit 2 and one
# "poolprobe-report: error: FILE: ..." line that names the limit (sparse files: nothing is
# read); and the shim's "poolprobe:" line for an output it cannot write gives the reason
# before the path, so a long POOLPROBE_OUT cannot hide it.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$REPORT_ASAN" "$WORKLOADS/seeds"

printf 'PPTRACE\0' >"$TMP/huge.bin"
truncate -s 600M "$TMP/huge.bin"
start=$(date +%s%N)
check_refused "600 MiB trace" "$TMP/huge.bin" "$REPORT" "$TMP/huge.bin"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
echo "# refusing the 600 MiB trace took $elapsed_ms ms"
check "600 MiB trace: refused in under 2 s" test "$elapsed_ms" -lt 2000
check "600 MiB trace: the error names the limit" \
    grep -q "600 MiB, over the 512 MiB limit for a trace" "$TMP/bad.err"
check_refused "600 MiB trace (ASan build)" "$TMP/huge.bin" "$REPORT_ASAN" "$TMP/huge.bin"

profile "$TMP/small.bin" -- "$WORKLOADS/seeds" 10 >/dev/null
printf '{"sites": [' >"$TMP/huge.json"
truncate -s 200M "$TMP/huge.json"
check_refused "200 MiB JSON baseline" "$TMP/huge.json" "$REPORT" --baseline "$TMP/huge.json" \
    "$TMP/small.bin"
check "200 MiB JSON baseline: the error names the limit" \
    grep -q "200 MiB, over the 128 MiB limit for a JSON baseline" "$TMP/bad.err"
check_refused "600 MiB trace as the baseline" "$TMP/huge.bin" "$REPORT" --baseline \
    "$TMP/huge.bin" "$TMP/small.bin"

# --- a long POOLPROBE_OUT the shim cannot write: the reason comes first --------------------------
long=$TMP
for _ in $(seq 1 12); do long=$long/$(printf 'd%.0s' $(seq 1 200)); done
mkdir -p "$long"
long=$long/$(printf 'n%.0s' $(seq 1 300)).bin # a 300-byte name in a 2.4 KB path: ENAMETOOLONG
rc=0
LD_PRELOAD=$SHIM POOLPROBE_OUT=$long "$WORKLOADS/seeds" 10 >/dev/null 2>"$TMP/long.err" || rc=$?
check_eq "long POOLPROBE_OUT: the program's status" 0 "$rc"
check_eq "long POOLPROBE_OUT: one poolprobe: line" 1 "$(grep -c '^poolprobe:' "$TMP/long.err")"
check "long POOLPROBE_OUT: it says why (file name too long)" \
    grep -q '^poolprobe: cannot write the trace (file name too long): ' "$TMP/long.err"

LIB_FINISHED=1
