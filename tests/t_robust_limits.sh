#!/usr/bin/env bash
# t_robust_limits.sh — limits: allocation failure under `ulimit -v` comes back exactly as native
# (NULL/ENOMEM, error codes, realloc's block intact, posix_memalign's *out untouched); huge and
# invalid alignments give what glibc gives (EINVAL, ENOMEM); and the shim's own memory running
# out (POOLPROBE_MAX_MEMORY_MB) costs one "poolprobe:" line and nothing else: same output and
# status, a readable trace flagged tracking_lost.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/robust_lib.sh
. "${0%/*}/robust_lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/robust_limits"
W=$WORKLOADS/robust_limits

# --- failures under ulimit -v (400 MiB: 1 GiB requests fail, the shim itself fits) -----------
# Both runs in a subshell with the same limit.
(
    ulimit -v 409600
    run_native huge -- "$W" huge
    run_shim huge "$TMP/huge.bin" -- "$W" huge
)
same_behaviour huge quiet
check_eq "huge: 21 calls failed natively" 21 "$(grep -c 'NULL\|rc=ENOMEM' "$TMP/huge.native.out")"
check "huge: realloc's block intact" grep -q '^realloc(p, GIB) .*NULL errno=ENOMEM block=intact' \
    "$TMP/huge.shim.out"
check "huge: posix_memalign's *out untouched" \
    grep -q '^posix_memalign(&out, 64, GIB) *rc=ENOMEM errno=ENOMEM out=untouched' "$TMP/huge.shim.out"
check "huge: errno preserved on success" grep -q 'errno preserved on 10$' "$TMP/huge.shim.out"
trace_ok huge "$TMP/huge.json" "$TMP/huge.bin"
check_site "$TMP/huge.json" ok_alloc 10 10 100
check_eq "huge: no failed call recorded (no site of 1 GiB or more)" 0 \
    "$(json_get "$TMP/huge.json" '[.sites[] | select(.size.max >= 1073741824)] | length')"

# --- alignments ----------------------------------------------------------------------------
run_native align -- "$W" align
run_shim align "$TMP/align.bin" -- "$W" align
same_behaviour align quiet
check "align: 1 MiB alignment honoured" \
    grep -q '^posix_memalign(&out, (size_t)1 << 20, 100) *rc=0 errno=0 out=set aligned$' "$TMP/align.shim.out"
check "align: posix_memalign alignment 3 is EINVAL" \
    grep -q '^posix_memalign(&out, 3, 10) *rc=EINVAL errno=0 out=untouched$' "$TMP/align.shim.out"
check_eq "align: nothing misaligned" 0 "$(grep -c MISALIGNED "$TMP/align.shim.out" || true)"
trace_ok align "$TMP/align.json" "$TMP/align.bin"
ok=$(sed -n 's/^align: \([0-9]*\) successful calls$/\1/p' "$TMP/align.shim.out")
# posix_memalign is called from show_pm, the others from align_calls (one site per line).
sum_of() { json_get "$TMP/align.json" "[.sites[] | select(.frames[0].function == \"align_calls\" or
    .frames[0].function == \"show_pm\") | .$1] | add"; }
check_eq "align: every successful call counted" "$ok" "$(sum_of allocs)"
check_eq "align: and every one freed" "$ok" "$(sum_of frees)"

# --- the shim's own memory runs out --------------------------------------------------------
# 2^16 distinct stacks. At 1 MiB the shim cannot even set up its first thread; at 4 MiB it
# tracks a while, then stops. Either way: one line, nothing else changes. With full stacks: in
# site mode (the default) they share a few site prefixes and fit in 4 MiB.
run_native stacks -- "$W" stacks 16
for mb in 1 4; do
    cp "$TMP/stacks.native.out" "$TMP/stacks$mb.native.out"
    cp "$TMP/stacks.native.rc" "$TMP/stacks$mb.native.rc"
    POOLPROBE_STACKS=full POOLPROBE_MAX_MEMORY_MB=$mb run_shim "stacks$mb" "$TMP/stacks$mb.bin" -- "$W" stacks 16
    same_behaviour "stacks$mb"
    check_eq "stacks, ${mb} MiB: exactly one line on stderr" 1 \
        "$(wc -l <"$TMP/stacks$mb.shim.err" | tr -d ' ')"
    check_eq "stacks, ${mb} MiB: and it starts poolprobe:" 1 "$(poolprobe_lines "$TMP/stacks$mb.shim.err")"
    trace_ok "stacks$mb" "$TMP/stacks$mb.json" "$TMP/stacks$mb.bin"
    check_eq "stacks, ${mb} MiB: processes[].tracking_lost" true \
        "$(json_get "$TMP/stacks$mb.json" '.processes[0].tracking_lost')"
done
check_eq "stacks, 4 MiB: tracked some stacks before stopping" true \
    "$(json_get "$TMP/stacks4.json" '(.totals.allocs > 100) and (.totals.allocs < 65536)')"
check_eq "stacks, 4 MiB: what was tracked is consistent (stack_leaf frees = allocs)" true \
    "$(json_get "$TMP/stacks4.json" '[.sites[] | select(.frames[0].function == "stack_leaf")][0] | .allocs > 0 and .frees == .allocs')"
