#!/usr/bin/env bash
# t_sitemode.sh — site mode (the default): every call counted exactly under its site, full
# stacks sampled; POOLPROBE_STACKS=full keeps every full stack exact.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/deepsite"

N=30000
M=$((N / 3))
W=$((N / 10))
"$WORKLOADS/deepsite" $N >"$TMP/plain.out"
profiled site "$TMP/site.bin" -- "$WORKLOADS/deepsite" $N
POOLPROBE_STACKS=full profiled full "$TMP/full.bin" -- "$WORKLOADS/deepsite" $N
POOLPROBE_STACK_SAMPLE=1 profiled every "$TMP/every.bin" -- "$WORKLOADS/deepsite" $N
for mode in site full every; do
    check "$mode: same output as without the shim" cmp "$TMP/plain.out" "$TMP/$mode.out"
done

# --- by site: exact in every mode --------------------------------------------------------
for mode in site full; do
    report_to "$TMP/$mode.json" "$TMP/$mode.bin"
    check_site "$TMP/$mode.json" make_record $((N + M)) $((N + M)) 48
    check_eq "$mode: make_record called from hop1" hop1 \
        "$(site_field "$TMP/$mode.json" make_record frames[1].function)"
    check_eq "$mode: by site, figures are not marked as estimates" false \
        "$(json_get "$TMP/$mode.json" .stacks_estimated)"
    # The site behind two wrapper levels is the third frame: inside the site prefix.
    "$REPORT" --format json --wrappers 'my_xmalloc*' "$TMP/$mode.bin" >"$TMP/$mode.wrap.json"
    check_site "$TMP/$mode.wrap.json" wrapped_alloc $W $W 200
    # The same behind a wrapper whose frame size changes from call to call (alloca).
    "$REPORT" --format json --wrappers 'var_xmalloc*' "$TMP/$mode.bin" >"$TMP/$mode.var.json"
    check_site "$TMP/$mode.var.json" varframe_alloc $W $W 96
    check_eq "$mode: varframe_alloc is one site, one prefix" 1 \
        "$(site_field "$TMP/$mode.var.json" varframe_alloc stacks)"
done
summary() { # the exact per-site figures of a JSON report, one line per site
    json_get "$1" '.sites[] | [.key, .allocs, .frees, .bytes, .size.min, .size.max, .size.p50,
        .live_at_exit, .realloc_calls] | @tsv' | sort
}
summary "$TMP/site.json" >"$TMP/site.sum"
summary "$TMP/full.json" >"$TMP/full.sum"
check "by site: site mode and full stacks give the same figures" \
    diff -u "$TMP/full.sum" "$TMP/site.sum"
# Peaks differ, and site mode has the right one: one block of make_record is live at a time.
# Full stacks add their stacks' peaks (1 + 1, an upper bound); a site prefix is one stack.
check_eq "site: make_record peak_live exact" 1 "$(site_field "$TMP/site.json" make_record peak_live)"
check_eq "full: make_record peak_live is the sum of its two stacks' peaks" 2 \
    "$(site_field "$TMP/full.json" make_record peak_live)"

# --- by stack: exact with full stacks, estimated from samples otherwise -------------------
stack_allocs() { # stack_allocs JSON CALLER: allocs of make_record's stack through CALLER
    json_get "$1" "[.sites[] | select(.frames[0].function == \"make_record\")
        | select([.frames[].function] | index(\"$2\"))][0].allocs"
}
for mode in site full every; do
    "$REPORT" --format json --group-by stack "$TMP/$mode.bin" >"$TMP/$mode.stacks.json"
    "$REPORT" --group-by stack "$TMP/$mode.bin" >"$TMP/$mode.stacks.txt"
done
check_eq "full: via_import stack exact" $N "$(stack_allocs "$TMP/full.stacks.json" via_import)"
check_eq "full: via_export stack exact" $M "$(stack_allocs "$TMP/full.stacks.json" via_export)"
check_eq "full: stacks not marked as estimates" false \
    "$(json_get "$TMP/full.stacks.json" .stacks_estimated)"
check "full: no estimate note" sh -c "! grep -q 'estimates' '$TMP/full.stacks.txt'"
# Every call unwound: the shares are the true counts.
check_eq "every call unwound: via_import stack" $N "$(stack_allocs "$TMP/every.stacks.json" via_import)"
check_eq "every call unwound: via_export stack" $M "$(stack_allocs "$TMP/every.stacks.json" via_export)"
check_eq "site: stacks marked as estimates (JSON)" true \
    "$(json_get "$TMP/site.stacks.json" .stacks_estimated)"
check "site: the text report says the stack figures are estimates" \
    grep -q 'figures per stack are estimates' "$TMP/site.stacks.txt"
a=$(stack_allocs "$TMP/site.stacks.json" via_import)
b=$(stack_allocs "$TMP/site.stacks.json" via_export)
check_eq "site: the two stacks' estimates add up to the exact site count (+-1 rounding)" true \
    "$(json_get "$TMP/site.stacks.json" "($a + $b - $((N + M))) | fabs <= 1")"
check_eq "site: via_import's estimated share is 75% +- 10 points" true \
    "$(json_get "$TMP/site.stacks.json" "$a / ($a + $b) | . >= 0.65 and . <= 0.85")"
# The gate by stack says so too.
rc=0
"$REPORT" --group-by stack --baseline "$TMP/site.bin" "$TMP/site.bin" >"$TMP/gate.txt" 2>&1 || rc=$?
check_eq "gate by stack on the same trace passes" 0 "$rc"
check "gate by stack says its figures are estimates" grep -q 'Full stacks were sampled' "$TMP/gate.txt"

# --- settings ---------------------------------------------------------------------------
POOLPROBE_STACKS=bogus profile "$TMP/bogus.bin" -- "$WORKLOADS/deepsite" 30 >/dev/null 2>"$TMP/bogus.err"
check_eq "a bad POOLPROBE_STACKS is said once" \
    "poolprobe: POOLPROBE_STACKS=bogus is neither site nor full; using site" "$(cat "$TMP/bogus.err")"
POOLPROBE_SITE_DEPTH=1 profile "$TMP/d1.bin" -- "$WORKLOADS/deepsite" 300 >/dev/null
report_to "$TMP/d1.json" "$TMP/d1.bin"
check_site "$TMP/d1.json" make_record $((300 + 100)) $((300 + 100)) 48
