#!/usr/bin/env bash
# t_gate.sh — the regression gate (--baseline): a program run twice passes; one site doubled
# fails and is named; lines inserted above every site (a real source change, rebuilt) pass; a
# JSON baseline behaves like a trace baseline; junk, truncated and missing baselines exit 2;
# each threshold at and around its edge; per-op comparison; suppressions; the text, markdown,
# JSON and GitHub Actions outputs. Workload: tests/workloads/gate.c (exact counts).
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$REPORT_ASAN" "$WORKLOADS/gate"
unset GITHUB_ACTIONS GITHUB_WORKSPACE POOLPROBE_OPS

GATE=$WORKLOADS/gate

# gate_rc [ARGS...]: the report's exit status; stdout in $TMP/gate.out, stderr in $TMP/gate.err.
gate_rc() {
    local rc=0
    "$REPORT" "$@" >"$TMP/gate.out" 2>"$TMP/gate.err" || rc=$?
    echo "$rc"
}

# The sites named in the JSON gate output's regressions, sorted, comma-separated.
regressed_sites() { # regressed_sites JSON
    json_get "$1" '[.regressions[] | select(.site) | .site] | sort | join(",")'
}

# --- runs ----------------------------------------------------------------------------------

profiled run1 "$TMP/run1.bin" -- "$GATE" 1000
profiled run2 "$TMP/run2.bin" -- "$GATE" 1000
profiled doubled "$TMP/doubled.bin" -- "$GATE" double=parse_header 1000
report_to "$TMP/run1.json" "$TMP/run1.bin"
check_eq "workload: 4250 allocations" 4250 "$(json_get "$TMP/run1.json" .totals.allocs)"
check_eq "workload: encode_body has a second site" 250 \
    "$(json_get "$TMP/run1.json" '.sites[] | select(.key == "encode_body#2") | .allocs')"

# The same program with lines inserted above every allocation site: a real source change,
# rebuilt with the Makefile's workload flags, so every site is at another line and address.
sed 's|^\(.*must([mc]alloc(.*\)$|\n    // lines inserted above this site\n\n\1|' \
    tests/workloads/gate.c >"$TMP/gate_moved.c"
check "moved: the variant differs from the original" \
    sh -c "! cmp -s tests/workloads/gate.c '$TMP/gate_moved.c'"
gcc -std=gnu11 -O1 -g -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls \
    -pthread -Wall -Wextra -I"$TOP/include" -I"$TOP/tests/workloads" "$TMP/gate_moved.c" \
    -o "$TMP/gate_moved" -ldl
profiled moved "$TMP/moved.bin" -- "$TMP/gate_moved" 1000
report_to "$TMP/moved.json" "$TMP/moved.bin"
check_eq "moved: same keys" \
    "$(json_get "$TMP/run1.json" '[.sites[].key] | sort | join(",")')" \
    "$(json_get "$TMP/moved.json" '[.sites[].key] | sort | join(",")')"
line_of() { json_get "$1" ".sites[] | select(.key == \"$2\") | .frames[0].line"; }
check_eq "moved: parse_header is 3 lines lower" $(($(line_of "$TMP/run1.json" parse_header) + 3)) \
    "$(line_of "$TMP/moved.json" parse_header)"
check_eq "moved: encode_body#2 is 9 lines lower" \
    $(($(line_of "$TMP/run1.json" 'encode_body#2') + 9)) "$(line_of "$TMP/moved.json" 'encode_body#2')"

# --- the baseline file -------------------------------------------------------------------------

check_eq "--write-baseline exits 0" 0 "$(gate_rc --write-baseline "$TMP/base.json" "$TMP/run1.bin")"
check "--write-baseline says what it wrote" grep -q "^wrote baseline .*base.json: 5 sites" "$TMP/gate.out"
check_eq "baseline: a poolprobe-report document with every site" "poolprobe-report 1 5 5" \
    "$(json_get "$TMP/base.json" '"\(.format) \(.version) \(.site_count) \(.sites | length)"')"
check_eq "baseline: the same document as --format json" \
    "$(jq -S 'del(.processes[].duration_ns, .totals.duration_ns)' "$TMP/run1.json" | md5sum)" \
    "$(jq -S 'del(.processes[].duration_ns, .totals.duration_ns)' "$TMP/base.json" | md5sum)"
check_eq "baseline: --top does not shorten it" 5 \
    "$("$REPORT" --top 1 --write-baseline "$TMP/top1.json" "$TMP/run1.bin" >/dev/null &&
        json_get "$TMP/top1.json" '.sites | length')"
check_eq "baseline: no temporary file left beside it" "$TMP/base.json" "$(echo "$TMP"/base.json*)"

# --- the Tests paragraph: run twice, doubled, moved, each against a trace and a JSON baseline ---

for kind in trace json; do
    if [ $kind = trace ]; then BASE=$TMP/run1.bin; else BASE=$TMP/base.json; fi
    check_eq "$kind baseline: the program run twice passes (exit 0)" 0 \
        "$(gate_rc --baseline "$BASE" "$TMP/run2.bin")"
    check "$kind baseline: text says passed" grep -q "^poolprobe gate: passed - 0 regressions" "$TMP/gate.out"

    check_eq "$kind baseline: one site doubled fails (exit 1)" 1 \
        "$(gate_rc --baseline "$BASE" "$TMP/doubled.bin")"
    check "$kind baseline: the text names parse_header under Regressions" \
        sh -c "sed -n '/^Regressions:/,/^\$/p' '$TMP/gate.out' | grep -q '^  parse_header '"
    gate_rc -f json --baseline "$BASE" "$TMP/doubled.bin" >/dev/null
    cp "$TMP/gate.out" "$TMP/doubled-$kind.json"
    check_eq "$kind baseline: only parse_header regressed among the sites" parse_header \
        "$(regressed_sites "$TMP/doubled-$kind.json")"
    check_eq "$kind baseline: parse_header 1000 -> 2000" "1000 2000" \
        "$(json_get "$TMP/doubled-$kind.json" '.regressions[] | select(.site == "parse_header")
            | "\(.baseline) \(.current)"')"

    check_eq "$kind baseline: lines inserted above every site pass (exit 0)" 0 \
        "$(gate_rc -f json --baseline "$BASE" "$TMP/moved.bin")"
    check_eq "$kind baseline: moved: every site matched, none new" "true 0" \
        "$(json_get "$TMP/gate.out" '"\(.passed) \([.regressions[], .improvements[]] | length)"')"
done
check_eq "a JSON baseline gives the same verdict and rows as the trace" \
    "$(jq -c 'del(.baseline.source)' "$TMP/doubled-trace.json")" \
    "$(jq -c 'del(.baseline.source)' "$TMP/doubled-json.json")"

# --- bad baselines: exit 2, one error line naming the file, nothing on stdout ---------------

size=$(wc -c <"$TMP/base.json")
head -c $((size / 2)) "$TMP/base.json" >"$TMP/truncated.json"
printf 'this is not a baseline\n' >"$TMP/junk.json"
: >"$TMP/empty.json"
echo '{"format": "poolprobe-gate", "version": 1}' >"$TMP/other.json"
jq '.version = 2' "$TMP/base.json" >"$TMP/v2.json"
jq '.sites[0].allocs = "many"' "$TMP/base.json" >"$TMP/mistyped.json"
"$REPORT" -f json --top 2 "$TMP/run1.bin" >"$TMP/top2.json"
tsize=$(wc -c <"$TMP/run1.bin")
head -c $((tsize / 2)) "$TMP/run1.bin" >"$TMP/truncated.bin"

bad_baseline() { # bad_baseline NAME FILE [REPORT]
    check_refused "$1" "$2" "${3:-$REPORT}" --baseline "$2" "$TMP/run2.bin"
}
for report in "$REPORT" "$REPORT_ASAN"; do
    tag=""
    [ "$report" = "$REPORT_ASAN" ] && tag=" (asan)"
    bad_baseline "missing baseline$tag" "$TMP/no-such-baseline.json" "$report"
    bad_baseline "junk baseline$tag" "$TMP/junk.json" "$report"
    bad_baseline "truncated JSON baseline$tag" "$TMP/truncated.json" "$report"
    bad_baseline "truncated trace baseline$tag" "$TMP/truncated.bin" "$report"
    bad_baseline "empty baseline$tag" "$TMP/empty.json" "$report"
    bad_baseline "another JSON format$tag" "$TMP/other.json" "$report"
    bad_baseline "a newer report version$tag" "$TMP/v2.json" "$report"
    bad_baseline "a mistyped site$tag" "$TMP/mistyped.json" "$report"
    bad_baseline "a report written with --top$tag" "$TMP/top2.json" "$report"
done
check "truncated JSON: says it is cut short" grep -q "truncated: the JSON document ends early" \
    <("$REPORT" --baseline "$TMP/truncated.json" "$TMP/run2.bin" 2>&1)
check "--top report: says to use --write-baseline" grep -q "write-baseline" \
    <("$REPORT" --baseline "$TMP/top2.json" "$TMP/run2.bin" 2>&1)
check "ASan: a good gate run is clean" sh -c \
    "'$REPORT_ASAN' --baseline '$TMP/base.json' '$TMP/doubled.bin' >/dev/null 2>'$TMP/asan.err';
     test \$? = 1 && ! grep -q Sanitizer '$TMP/asan.err'"

# --- usage ---------------------------------------------------------------------------------------

check_eq "usage: markdown needs --baseline" 2 "$(gate_rc -f markdown "$TMP/run1.bin")"
check_eq "usage: --suppress needs --baseline" 2 "$(gate_rc --suppress /dev/null "$TMP/run1.bin")"
check_eq "usage: unknown gate threshold" 2 \
    "$(gate_rc --baseline "$TMP/base.json" --gate-threshold nope=1 "$TMP/run2.bin")"
check_eq "usage: bad gate threshold value" 2 \
    "$(gate_rc --baseline "$TMP/base.json" --gate-threshold total_allocs=x "$TMP/run2.bin")"
check_eq "usage: bad --ops" 2 "$(gate_rc --baseline "$TMP/base.json" --ops -3 "$TMP/run2.bin")"
check_eq "usage: a missing suppressions file" 2 \
    "$(gate_rc --baseline "$TMP/base.json" --suppress "$TMP/nope.txt" "$TMP/run2.bin")"
check "usage: the missing suppressions file is named" \
    grep -q "^poolprobe-report: error: $TMP/nope.txt: cannot open" "$TMP/gate.err"
check_eq "usage: a missing current trace" 2 \
    "$(gate_rc --baseline "$TMP/base.json" "$TMP/no-such.bin")"
check "--list-thresholds lists the gate thresholds with reasons" sh -c \
    "'$REPORT' --list-thresholds | grep -A1 '^  total_allocs ' | grep -q 'exact'"

# --- each threshold at and around its edge --------------------------------------------------
# The baseline is the JSON of run1 with one number edited; the threshold is chosen so that the
# current run (run2, identical to run1) is exactly at the edge: it passes there and fails when
# the threshold is one allocation (or byte) lower.

A=$(json_get "$TMP/run1.json" .totals.allocs)
Y=$(json_get "$TMP/run1.json" .totals.bytes)
P=$(json_get "$TMP/run1.json" .totals.peak_live_bytes)
S=$(json_get "$TMP/run1.json" '.sites[] | select(.key == "parse_header") | .allocs')

# edge NAME JQ-EDIT THRESHOLD BASE VALUE: base VALUE edited in by JQ-EDIT ($v); the threshold
# (VALUE - BASE) / BASE in millionths passes, one unit of 1/BASE less fails, one more passes.
edge() {
    local name=$1 edit=$2 threshold=$3 base=$4 value=$5 step t
    jq --argjson v "$base" "$edit" "$TMP/base.json" >"$TMP/edge.json"
    step=$((1000000 / base))
    t=$(((value - base) * step))
    tm() { printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)); }
    check_eq "$name: exactly at the edge (+$(tm "$t")) passes" 0 \
        "$(gate_rc --baseline "$TMP/edge.json" --gate-threshold "$threshold=$(tm "$t")" "$TMP/run2.bin")"
    check_eq "$name: one over the edge fails" 1 \
        "$(gate_rc --baseline "$TMP/edge.json" --gate-threshold "$threshold=$(tm $((t - step)))" "$TMP/run2.bin")"
    check "$name: the failure names the check" grep -q "^Regressions:" "$TMP/gate.out"
    check_eq "$name: inside the edge passes" 0 \
        "$(gate_rc --baseline "$TMP/edge.json" --gate-threshold "$threshold=$(tm $((t + step)))" "$TMP/run2.bin")"
}
edge "total_allocs" '.totals.allocs = $v' total_allocs 1000 "$A"
edge "total_bytes" '.totals.bytes = $v' total_bytes 100000 "$Y"
edge "peak_live_bytes" '.totals.peak_live_bytes = $v' peak_live_bytes 1000 "$P"
edge "site_allocs" '(.sites[] | select(.key == "parse_header") | .allocs) = $v' site_allocs 100 "$S"

# The default thresholds on the same edits: +5% total allocations exactly passes, +5% and one
# allocation fails (baseline 4000 x 1.05 = 4200; the run has 4250).
jq '.totals.allocs = 4048' "$TMP/base.json" >"$TMP/edge.json" # 4048 x 1.05 = 4250.4
check_eq "total_allocs default: +4.99% passes" 0 "$(gate_rc --baseline "$TMP/edge.json" "$TMP/run2.bin")"
jq '.totals.allocs = 4047' "$TMP/base.json" >"$TMP/edge.json" # 4047 x 1.05 = 4249.35
check_eq "total_allocs default: +5.02% fails" 1 "$(gate_rc --baseline "$TMP/edge.json" "$TMP/run2.bin")"
check "total_allocs default: the row says total allocs" grep -q "^  total allocs .* +5%$" "$TMP/gate.out"

# site_min_share and new_site_share: extra_alloc, a small site (10 or 50 allocations).
profiled extra10 "$TMP/extra10.bin" -- "$GATE" extra=10 1000
profiled extra50 "$TMP/extra50.bin" -- "$GATE" extra=50 1000
A10=$(report_json "$TMP/extra10.bin" | jq .totals.allocs)
A50=$(report_json "$TMP/extra50.bin" | jq .totals.allocs)
report_json "$TMP/extra10.bin" | jq '(.sites[] | select(.key == "extra_alloc") | .allocs) = 1' \
    >"$TMP/extra1.json"
share_edge=$((10 * 1000000 / A10)) # millionths: extra_alloc holds at least this share
check_eq "site_min_share: default 0.5%: a 0.23% site growing 10x passes" 0 \
    "$(gate_rc --baseline "$TMP/extra1.json" "$TMP/extra10.bin")"
check_eq "site_min_share: at the site's share the site is gated and fails" 1 \
    "$(gate_rc -f json --baseline "$TMP/extra1.json" \
        --gate-threshold "site_min_share=0.$(printf %06d $share_edge)" "$TMP/extra10.bin")"
check_eq "site_min_share: ... naming extra_alloc" extra_alloc "$(regressed_sites "$TMP/gate.out")"
check_eq "site_min_share: a millionth above its share it is not gated" 0 \
    "$(gate_rc --baseline "$TMP/extra1.json" \
        --gate-threshold "site_min_share=0.$(printf %06d $((share_edge + 1)))" "$TMP/extra10.bin")"

new_edge=$((50 * 1000000 / A50))
check_eq "new_site_share: default 1%: a new site with 50 of $A50 fails" 1 \
    "$(gate_rc -f json --baseline "$TMP/base.json" "$TMP/extra50.bin")"
check_eq "new_site_share: ... naming the new site" "extra_alloc new_site" \
    "$(json_get "$TMP/gate.out" '.regressions[] | select(.site) | "\(.site) \(.check)"')"
check_eq "new_site_share: at the site's share it fails" 1 \
    "$(gate_rc --baseline "$TMP/base.json" \
        --gate-threshold "new_site_share=0.$(printf %06d $new_edge)" "$TMP/extra50.bin")"
check_eq "new_site_share: a millionth above its share it passes" 0 \
    "$(gate_rc --baseline "$TMP/base.json" \
        --gate-threshold "new_site_share=0.$(printf %06d $((new_edge + 1)))" "$TMP/extra50.bin")"
check_eq "new_site_share: a new site with 10 allocations passes by default" 0 \
    "$(gate_rc --baseline "$TMP/base.json" "$TMP/extra10.bin")"
check_eq "a disabled check (off) does not fail" 0 \
    "$(gate_rc --baseline "$TMP/base.json" --gate-threshold new_site_share=off "$TMP/extra50.bin")"

# --- per operation ---------------------------------------------------------------------------

profiled ops1000 "$TMP/ops1000.bin" -- "$GATE" ops 1000
profiled ops2000 "$TMP/ops2000.bin" -- "$GATE" ops 2000
profiled noops2000 "$TMP/noops2000.bin" -- "$GATE" 2000
check_eq "ops: the trace records POOLPROBE_OPS" 1000 "$(report_json "$TMP/ops1000.bin" | jq .ops)"
check_eq "ops: 2x operations with 2x allocations pass per op" 0 \
    "$(gate_rc -f json --baseline "$TMP/ops1000.bin" "$TMP/ops2000.bin")"
check_eq "ops: the JSON says per_op" true "$(json_get "$TMP/gate.out" .per_op)"
check_eq "ops: allocs/op 4.25 on both sides" "4.25 4.25" \
    "$(json_get "$TMP/gate.out" '.totals.allocs | "\(.baseline_per_op) \(.current_per_op)"')"
check_eq "ops: the same runs without ops fail" 1 \
    "$(gate_rc --baseline "$TMP/run1.bin" "$TMP/noops2000.bin")"
gate_rc --baseline "$TMP/ops1000.bin" "$TMP/ops2000.bin" >/dev/null
check "ops: the text says it compared per operation" grep -q "^note: Compared per operation" "$TMP/gate.out"
check "ops: the text shows allocs/op" grep -q "^  allocs/op  *4.25  *4.25 " "$TMP/gate.out"
check_eq "ops: a run with ops against one without: whole-run counts (fails)" 1 \
    "$(gate_rc --baseline "$TMP/ops1000.bin" "$TMP/noops2000.bin")"
check "ops: ... and says why" grep -q "Only the baseline declares operations" "$TMP/gate.out"
# --ops and POOLPROBE_OPS for programs that do not call POOLPROBE_OPS.
"$REPORT" --ops 1000 --write-baseline "$TMP/base-ops.json" "$TMP/run1.bin" >/dev/null
check_eq "--ops is stored in the baseline" 1000 "$(json_get "$TMP/base-ops.json" .ops)"
check_eq "--ops for the current run: passes per op" 0 \
    "$(gate_rc --baseline "$TMP/base-ops.json" --ops 2000 "$TMP/noops2000.bin")"
check_eq "POOLPROBE_OPS for the current run: passes per op" 0 \
    "$(POOLPROBE_OPS=2000 gate_rc --baseline "$TMP/base-ops.json" "$TMP/noops2000.bin")"
check_eq "POOLPROBE_OPS not a number: exit 2" 2 \
    "$(POOLPROBE_OPS=lots gate_rc --baseline "$TMP/base-ops.json" "$TMP/noops2000.bin")"
check_eq "--ops wins over POOLPROBE_OPS" 1 \
    "$(POOLPROBE_OPS=2000 gate_rc --baseline "$TMP/base-ops.json" --ops 1000 "$TMP/noops2000.bin")"

# --- suppressions -----------------------------------------------------------------------------

cat >"$TMP/suppress.txt" <<'EOF'
# parse_header allocates twice per request on purpose (see the header cache issue)
parse_*

# no other site is accepted
EOF
check_eq "suppressed: the doubled site does not fail" 0 \
    "$(gate_rc -f json --baseline "$TMP/base.json" --suppress "$TMP/suppress.txt" "$TMP/doubled.bin")"
check_eq "suppressed: listed as suppressed" "parse_header suppressed" \
    "$(json_get "$TMP/gate.out" '.suppressed[] | "\(.site) \(.status)"')"
check_eq "suppressed: no regressions (totals without the suppressed site)" 0 \
    "$(json_get "$TMP/gate.out" '.regressions | length')"
gate_rc --baseline "$TMP/base.json" --suppress "$TMP/suppress.txt" "$TMP/doubled.bin" >/dev/null
check "suppressed: the text has a Suppressed section" grep -q "^Suppressed" "$TMP/gate.out"
printf 'encode_body#2\n' >"$TMP/other-suppress.txt"
check_eq "suppressing another site does not hide the regression" 1 \
    "$(gate_rc --baseline "$TMP/base.json" --suppress "$TMP/other-suppress.txt" "$TMP/doubled.bin")"

# --- outputs -------------------------------------------------------------------------------------

gate_rc --baseline "$TMP/base.json" "$TMP/doubled.bin" >/dev/null
check_eq "text fits 80 columns" 0 "$(awk 'length > 80' "$TMP/gate.out" | wc -l | tr -d ' ')"
check "text: regressions come before unchanged totals" sh -c \
    "grep -n -e '^Regressions:' -e '^Unchanged totals:' '$TMP/gate.out' | head -1 | grep -q Regressions"
check "text: a row has baseline, current, change and threshold" \
    grep -qE '^  parse_header +1000 +2000 +\+100\.0% +\+10%$' "$TMP/gate.out"
check_eq "no annotations outside GitHub Actions" 0 "$(grep -c '^::error' "$TMP/gate.err" || true)"

check_eq "markdown: exit 1" 1 "$(gate_rc -f markdown --baseline "$TMP/base.json" "$TMP/doubled.bin")"
check "markdown: a heading" grep -q "^### poolprobe: 2 allocation regressions$" "$TMP/gate.out"
check "markdown: a table header" grep -qF "| what | where, share | baseline | current | change | threshold |" "$TMP/gate.out"
check "markdown: the site's row" grep -qE '^\| `parse_header` \| gate\.c:[0-9]+, 38\.10% \| 1000 \| 2000 \| \+100\.0% \| \+10% \|$' "$TMP/gate.out"

check_eq "json: exit 1" 1 "$(gate_rc -f json --baseline "$TMP/base.json" "$TMP/doubled.bin")"
check_eq "json: format, version, passed" "poolprobe-gate 1 false" \
    "$(json_get "$TMP/gate.out" '"\(.format) \(.version) \(.passed)"')"
check_eq "json: regressions, improvements, totals present" "array array object" \
    "$(json_get "$TMP/gate.out" '"\(.regressions | type) \(.improvements | type) \(.totals | type)"')"
check_eq "json: the totals row of allocations" "regression 4250 5250 0.05" \
    "$(json_get "$TMP/gate.out" '.totals.allocs | "\(.status) \(.baseline) \(.current) \(.threshold)"')"

GITHUB_ACTIONS=true GITHUB_WORKSPACE=$TOP gate_rc -f json --baseline "$TMP/base.json" "$TMP/doubled.bin" >/dev/null
check "GitHub: stdout stays valid JSON" jq -e . "$TMP/gate.out"
check_eq "GitHub: one ::error line per regression" 2 "$(grep -c '^::error ' "$TMP/gate.err")"
check "GitHub: the site's annotation has its file and line" grep -qE \
    '^::error file=tests/workloads/gate\.c,line=[0-9]+,title=poolprobe allocation regression::site parse_header: 1000 -> 2000 \(\+100\.0%25, threshold \+10%25\)$' \
    "$TMP/gate.err"
check "GitHub: the total's annotation" grep -q '^::error title=poolprobe allocation regression::total allocs: 4250 -> 5250' "$TMP/gate.err"
GITHUB_ACTIONS=true gate_rc --baseline "$TMP/base.json" "$TMP/run2.bin" >/dev/null
check_eq "GitHub: no annotation when nothing regressed" 0 "$(grep -c '^::error' "$TMP/gate.err" || true)"

# Improvements: the doubled run as the baseline, the normal run as current.
check_eq "improvement: exit 0" 0 "$(gate_rc -f json --baseline "$TMP/doubled.bin" "$TMP/run2.bin")"
check_eq "improvement: parse_header listed" "parse_header -0.5" \
    "$(json_get "$TMP/gate.out" '.improvements[] | select(.site) | "\(.site) \(.change)"')"

# --write-baseline together with --baseline: gate, and write the new baseline.
check_eq "--write-baseline with --baseline: the gate's exit code" 1 \
    "$(gate_rc --baseline "$TMP/base.json" --write-baseline "$TMP/next.json" "$TMP/doubled.bin")"
check_eq "--write-baseline with --baseline: the new baseline is written" 2000 \
    "$(json_get "$TMP/next.json" '.sites[] | select(.key == "parse_header") | .allocs')"
check_eq "a written baseline of the doubled run passes it" 0 \
    "$(gate_rc --baseline "$TMP/next.json" "$TMP/doubled.bin")"
cp "$TMP/base.json" "$TMP/inplace.json"
check_eq "one file as --baseline and --write-baseline: compared before it is replaced" 1 \
    "$(gate_rc --baseline "$TMP/inplace.json" --write-baseline "$TMP/inplace.json" "$TMP/doubled.bin")"
check_eq "... and then replaced" 2000 \
    "$(json_get "$TMP/inplace.json" '.sites[] | select(.key == "parse_header") | .allocs')"
check_eq "a bad baseline is not replaced by --write-baseline" 2 \
    "$(gate_rc --baseline "$TMP/junk.json" --write-baseline "$TMP/junk.json" "$TMP/doubled.bin")"
check "... it is left as it was" grep -q "^this is not a baseline" "$TMP/junk.json"

# --- the README's CI script, as a team would copy it --------------------------------------------

awk '/^## Use it in CI/ { in_ci = 1 } in_ci && /^```sh$/ { on = 1; next }
     on && /^```$/ { exit } on { print }' README.md >"$TMP/poolprobe-gate.sh"
check "README: 'Use it in CI' has the script" grep -q -- '--write-baseline' "$TMP/poolprobe-gate.sh"
check "README: it has the GitHub Actions job" sh -c \
    "sed -n '/^## Use it in CI/,/^## Layout/p' README.md | grep -q 'ci/poolprobe-gate.sh'"
mkdir -p "$TMP/ci"
ci_gate() { # ci_gate PROGRAM [ARGS...]: the README script's exit status, run from $TMP/ci
    local program=$1 rc=0
    shift
    (cd "$TMP/ci" && BUILD=true PROGRAM="$program" POOLPROBE_LIB="$SHIM" \
        POOLPROBE_REPORT="$REPORT" GITHUB_STEP_SUMMARY="$TMP/ci/summary.md" \
        sh "$TMP/poolprobe-gate.sh" "$@") >"$TMP/ci/out.txt" 2>&1 || rc=$?
    echo "$rc"
}
mkdir -p "$TMP/ci/ci"
check_eq "README script: --update writes the baseline" 0 "$(ci_gate "$GATE 1000" --update)"
check "README script: the baseline is a report" jq -e '.format == "poolprobe-report"' \
    "$TMP/ci/ci/poolprobe-baseline.json"
check_eq "README script: the same program passes" 0 "$(ci_gate "$GATE 1000")"
check_eq "README script: the doubled site fails" 1 "$(ci_gate "$GATE double=parse_header 1000")"
check "README script: the markdown for the comment" grep -q '^| `parse_header`' "$TMP/ci/poolprobe-out/gate.md"
check "README script: the job summary gets it" grep -q '^### poolprobe: ' "$TMP/ci/summary.md"
printf '# accepted\nparse_header\n' >"$TMP/ci/ci/poolprobe-suppress.txt"
check_eq "README script: the suppressions file is used" 0 "$(ci_gate "$GATE double=parse_header 1000")"
check_eq "README script: a failing program is trouble" 2 "$(ci_gate false)"

LIB_FINISHED=1
