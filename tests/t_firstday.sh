#!/usr/bin/env bash
# t_firstday.sh — what a new user trips on in the first hour, each tried as they would: shell
# builtins given to `poolprobe run`, thresholds in the units the report prints, the checklist
# legend, cut lines (--wide, the terminal's width), options that would be silently ignored, an
# empty trace, the same trace twice, progress on a terminal, and the version.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/demo"
PP=$TOP/scripts/poolprobe

# --- poolprobe run with a name that is also a shell builtin ------------------------------------
rc=0
"$PP" run -o "$TMP/echo.bin" echo hi >"$TMP/echo.out" 2>"$TMP/echo.err" || rc=$?
check_eq "run echo hi: exit 0" 0 "$rc"
check_eq "run echo hi: prints hi" hi "$(cat "$TMP/echo.out")"
check "run echo hi: the trace reads" "$REPORT" -f json "$TMP/echo.bin"
rc=0
"$PP" run -o "$TMP/true.bin" true 2>/dev/null || rc=$?
check_eq "run true: exit 0" 0 "$rc"
check "run true: trace written" test -s "$TMP/true.bin"
rc=0
"$PP" run -o "$TMP/false.bin" false 2>/dev/null || rc=$?
check_eq "run false: the program's status 1" 1 "$rc"
rc=0
"$PP" run -o "$TMP/cd.bin" cd /tmp 2>"$TMP/cd.err" || rc=$?
check_eq "run cd (a builtin only): exit 2" 2 "$rc"
check "run cd: says it is a shell builtin" grep -q '^poolprobe: error: cd is a shell builtin' "$TMP/cd.err"

# --- one trace of the demo for the rest ---------------------------------------------------------
T=$TMP/demo.bin
profile "$T" -- "$WORKLOADS/demo" >/dev/null
"$REPORT" -f json "$T" >"$TMP/demo.json"
allocs=$(json_get "$TMP/demo.json" .totals.allocs)
bytes=$(json_get "$TMP/demo.json" .totals.bytes)

# --- thresholds: printed exactly, accepted in the units the report prints ------------------------
"$REPORT" --list-thresholds >"$TMP/thresholds.out"
check "--list-thresholds: no exponent notation" sh -c "! grep -q 'e+' '$TMP/thresholds.out'"
check "--list-thresholds: 1 s printed exactly, with its unit" \
    grep -q '^  max_lifetime_ns      1000000000 (1.0s) ' "$TMP/thresholds.out"
same_json() { # same_json NAME ARGS-A -- ARGS-B: the JSON reports are identical
    local name=$1 a=() b=()
    shift
    while [ "$1" != -- ]; do a+=("$1"); shift; done
    shift
    b=("$@")
    "$REPORT" -f json "${a[@]}" "$T" >"$TMP/a.json"
    "$REPORT" -f json "${b[@]}" "$T" >"$TMP/b.json"
    check "$name" cmp "$TMP/a.json" "$TMP/b.json"
}
same_json "-t max_lifetime_ns=1s is 1000000000" -t max_lifetime_ns=1s -- -t max_lifetime_ns=1000000000
same_json "-t max_lifetime_ns=250ms is 250000000" -t max_lifetime_ns=250ms -- -t max_lifetime_ns=250000000
same_json "-t big_enough_bytes=4K is 4096" -t big_enough_bytes=4K -- -t big_enough_bytes=4096
same_json "-t big_enough_bytes='1.0K B' (as the checks print it) is 1024" \
    -t 'big_enough_bytes=1.0K B' -- -t big_enough_bytes=1024
same_json "-t min_share=2% is 0.02" -t min_share=2% -- -t min_share=0.02
# render_buf allocates exactly 4096 bytes: it is big enough at 4K and not at 4.5K (whether its
# pool saves 1% of the run depends on the machine: min_saving_share=0 leaves the size alone).
check_eq "-t big_enough_bytes=4K: render_buf still pooled" pool \
    "$(site_field "$("$REPORT" -f json -t min_saving_share=0 -t big_enough_bytes=4K "$T")" render_buf verdict)"
check_eq "-t big_enough_bytes=4.5K: render_buf too small" "too small" \
    "$(site_field "$("$REPORT" -f json -t min_saving_share=0 -t big_enough_bytes=4.5K "$T")" render_buf reason)"
rc=0
"$REPORT" -t big_enough_bytes=4Q "$T" >/dev/null 2>"$TMP/unit.err" || rc=$?
check_eq "-t big_enough_bytes=4Q: exit 2" 2 "$rc"
check "-t big_enough_bytes=4Q: shows a valid example" grep -q 'e.g. 4K' "$TMP/unit.err"
check_status "-t max_lifetime_ns=1K (a byte unit): exit 2" 2 "$REPORT" -t max_lifetime_ns=1K "$T"

# --- the checklist rows explain their marks -------------------------------------------------------
"$REPORT" "$T" >"$TMP/text.out"
check "text: legend for ok/NO and yes/no" grep -q '^(rows: ok/NO = a condition for pooling holds/fails' \
    "$TMP/text.out"
"$REPORT" --site render_buf "$T" >"$TMP/explain.out"
check "--site: legend above the checklist" grep -q '^  (rows: ok/NO' "$TMP/explain.out"
# User-facing text that cites what a user cannot look up (the Go articles' exercise numbers).
check "text and --help cite no exercise or case numbers" \
    sh -c "! cat '$TMP/text.out' '$TMP/explain.out' | grep -Eqi 'seed|exercise [0-9]|case [0-9]'"
check "--help cites no seeds" sh -c "! '$REPORT' --help | grep -qi seed"

# --- cut lines: 79 columns by default, --wide, the terminal's width -------------------------------
check_eq "text: no line over 79 columns" 0 "$(awk 'length > 79' "$TMP/text.out" | wc -l | tr -d ' ')"
check "text: the too-rare row is cut" grep -q '^  cache_put .*\.\.\.$' "$TMP/text.out"
"$REPORT" --wide "$T" >"$TMP/wide.out"
check "--wide: the too-rare row in full" \
    grep -q '^  cache_put  *too rare .*need >= 2.0%, >= 1.0K/s$' "$TMP/wide.out"
check_eq "--wide: nothing cut" 0 "$(grep -c '\.\.\.$' "$TMP/wide.out" || true)"
script -qec "stty cols 120; '$REPORT' '$T'" /dev/null >"$TMP/tty.out"
check "terminal of 120 columns: the too-rare row in full" \
    grep -q '^  cache_put  *too rare .*need >= 2.0%, >= 1.0K/s' "$TMP/tty.out"
check_eq "terminal of 120 columns: no line over 119" 0 \
    "$(tr -d '\r' <"$TMP/tty.out" | awk 'length > 119' | wc -l | tr -d ' ')"

# --- options that would be ignored are refused, or work ---------------------------------------------
check_option_refused "--site with --format json" "--site explains sites as text only" --site render_buf -f json "$T"
check_option_refused "--site with --write-baseline" "--site and --write-baseline do not go together" \
    --site render_buf --write-baseline "$TMP/base.json" "$T"
check "--site with --write-baseline: no baseline written" test ! -e "$TMP/base.json"
check_option_refused "--site with --top" "--top does not apply" --site render_buf --top 1 "$T"
check_option_refused "--top with --baseline" "--top does not apply to the regression gate" --top 2 --baseline "$T" "$T"
check_option_refused "--wide with --format json" "--wide is for the text report only" --wide -f json "$T"
check "--help documents --top 0" grep -q '(0: all, the default)' <("$REPORT" --help)
check "--top=0 is the whole report" cmp "$TMP/text.out" <("$REPORT" --top=0 "$T")
"$REPORT" --ops 1000 "$T" >"$TMP/ops.out"
want=$(awk -v a="$allocs" -v b="$bytes" \
    'BEGIN { printf "%.2f allocations, %.0fK bytes", a / 1000, b / 1000 / 1024 }')
check_eq "--ops 1000: the per-operation line" "  1000 operations: $want per operation" \
    "$(grep ' operations: ' "$TMP/ops.out")"
check "no --ops and none declared: no per-operation line" sh -c "! grep -q ' operations: ' '$TMP/text.out'"

# --- the same trace twice, an empty trace -------------------------------------------------------------
ln -s "$T" "$TMP/link.bin"
check_option_refused "the same trace twice" "given twice" "$T" "$T"
check_option_refused "the same trace through a symlink" "merging a trace with itself would double every count" \
    "$T" "$TMP/link.bin"
: >"$TMP/empty.bin"
check_refused "empty trace" "$TMP/empty.bin" "$REPORT" "$TMP/empty.bin"
check "empty trace: says it is empty and why" \
    grep -q 'empty file, not a trace yet: .* still running, or ended before its first snapshot' "$TMP/bad.err"
check "empty trace: not 'bad magic'" sh -c "! grep -q 'bad magic' '$TMP/bad.err'"

# --- progress on a terminal only ---------------------------------------------------------------------
POOLPROBE_PROGRESS_AFTER_MS=0 script -qec "'$REPORT' '$T' >/dev/null" /dev/null >"$TMP/progress.tty"
check "terminal: progress line for reading" grep -q 'poolprobe-report: reading trace 1 of 1 ' "$TMP/progress.tty"
check "terminal: progress line for symbolizing" grep -q 'poolprobe-report: symbolizing and grouping' "$TMP/progress.tty"
check "terminal: the line is erased at the end" sh -c "tail -c 8 '$TMP/progress.tty' | od -c | grep -q '033   \\[   K'"
POOLPROBE_PROGRESS_AFTER_MS=0 "$REPORT" "$T" >/dev/null 2>"$TMP/progress.err"
check_eq "not a terminal: no progress" "" "$(cat "$TMP/progress.err")"
script -qec "'$REPORT' '$T' >/dev/null" /dev/null >"$TMP/quick.tty"
check_eq "terminal, work under a second: no progress" "" "$(cat "$TMP/quick.tty")"

# --- one version everywhere ---------------------------------------------------------------------------
version=$(cat VERSION)
check "VERSION is a version number" grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+' VERSION
check_eq "poolprobe-report --version" "poolprobe-report $version" "$("$REPORT" --version | cut -d' ' -f1-2)"
check_eq "poolprobe --version" "poolprobe $version" "$("$PP" --version | head -n 1)"
