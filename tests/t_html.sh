#!/usr/bin/env bash
# t_html.sh — --format html, opened in a real browser (headless Chromium, offline): the page
# runs without a script error, draws every chart and the flame graph, shows one card per
# recommendation and per busy no-pool site, and, with --baseline, the gate's verdict and exit
# status. The page must need nothing from the network.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/demo"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    record FAIL "FAIL - t_html needs chromium (scripts/install-deps.sh)"
    exit 1
fi

# browser OUT-ARGS... PAGE: one headless Chromium run with a fresh profile and no network.
browser() {
    local profile
    profile=$(mktemp -d "$TMP/chromium.XXXXXX")
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir="$profile" \
        --virtual-time-budget=10000 --hide-scrollbars "$@" 2>/dev/null
}
# status ATTR DOM: the value the page's script wrote into #pp-status.
status() { grep -o "<div id=\"pp-status\"[^>]*>" "$2" | grep -o "$1=\"[^\"]*\"" | cut -d'"' -f2; }

profile "$TMP/demo.bin" -- "$WORKLOADS/demo" 3000 >/dev/null
"$REPORT" -f json "$TMP/demo.bin" >"$TMP/demo.json"
rc=0
"$REPORT" -f html "$TMP/demo.bin" >"$TMP/demo.html" || rc=$?
check_eq "html: exit 0" 0 "$rc"
check "html: one HTML document" grep -q '^<!DOCTYPE html>' "$TMP/demo.html"
check_eq "html: loads no script, style or image from elsewhere" 0 \
    "$(grep -ciE '<(script|img|iframe)[^>]* src=|<link[^>]* href=' "$TMP/demo.html" || true)"
check "html: the libraries' licences are in the page" grep -q '== chart.js ' "$TMP/demo.html"

browser --dump-dom "file://$TMP/demo.html" >"$TMP/demo.dom"
check "browser: the page ran to the end" grep -q 'id="pp-status"' "$TMP/demo.dom"
check_eq "browser: no script error" 0 "$(status data-errors "$TMP/demo.dom")"
charts=$(status data-charts "$TMP/demo.dom")
check "browser: charts made (${charts:-none})" test "${charts:-0}" -gt 0
check_eq "browser: every chart drawn on its canvas" "$charts" "$(status data-drawn "$TMP/demo.dom")"
check "browser: flame graph drawn ($(status data-flame-rects "$TMP/demo.dom") frames)" \
    test "$(status data-flame-rects "$TMP/demo.dom")" -gt 5
# The C runtime's own sites (stdio's buffer) are not the user's to change: no card, as in text.
recs=$(json_get "$TMP/demo.json" '[.sites[] | select(.verdict != "no-pool" and (.runtime | not))] | length')
nopool=$(json_get "$TMP/demo.json" '[.sites[] | select(.verdict == "no-pool" and (.runtime | not))] | length')
check_eq "browser: a card per recommendation and per busy no-pool site, none for the C runtime" \
    $((recs + (nopool < 12 ? nopool : 12))) \
    "$(grep -o '<section class="card"' "$TMP/demo.dom" | wc -l | tr -d ' ')"
verdict=$(site_field "$TMP/demo.json" render_buf verdict)
check "browser: render_buf's card gives its verdict ($verdict)" \
    grep -q "<span class=\"badge v-$verdict\">$verdict</span><h3 class=\"mono\">render_buf</h3>" "$TMP/demo.dom"
check "browser: cards leave a place for the measured saving" grep -q 'class="measured' "$TMP/demo.dom"
browser --window-size=1280,1800 --screenshot="$TMP/demo.png" "file://$TMP/demo.html" >/dev/null
check_eq "browser: screenshot is a PNG" "89504e47" "$(head -c 4 "$TMP/demo.png" | od -An -tx1 | tr -d ' \n')"
check "browser: screenshot is not blank ($(wc -c <"$TMP/demo.png") bytes)" test "$(wc -c <"$TMP/demo.png")" -gt 50000

browser --no-pdf-header-footer --print-to-pdf="$TMP/demo.pdf" "file://$TMP/demo.html" >/dev/null
check_eq "print: a PDF" "%PDF" "$(head -c 4 "$TMP/demo.pdf")"
pages=$(grep -a -o '/Type /Page\b' "$TMP/demo.pdf" | wc -l | tr -d ' ')
check "print: several pages, cards kept whole ($pages)" test "$pages" -ge 2

# --- with --baseline: the gate on the page, and its exit status ---------------------------------
profile "$TMP/more.bin" -- "$WORKLOADS/demo" 6000 >/dev/null
rc=0
"$REPORT" -f html --baseline "$TMP/demo.bin" "$TMP/more.bin" >"$TMP/gate.html" || rc=$?
check_eq "html --baseline with a regression: exit 1" 1 "$rc"
regressions=$("$REPORT" -f json --baseline "$TMP/demo.bin" "$TMP/more.bin" | jq '.regressions | length' || true)
browser --dump-dom "file://$TMP/gate.html" >"$TMP/gate.dom"
check_eq "gate page: no script error" 0 "$(status data-errors "$TMP/gate.dom")"
check "gate page: says it failed, with the count ($regressions)" \
    grep -q "Failed: $regressions regressions." "$TMP/gate.dom"
check "gate page: the total allocations row" grep -q '<td class="mono">allocs</td><td>regression</td>' "$TMP/gate.dom"
rc=0
"$REPORT" -f html --baseline "$TMP/demo.bin" "$TMP/demo.bin" >"$TMP/same.html" || rc=$?
check_eq "html --baseline, no change: exit 0" 0 "$rc"
check "html --baseline, no change: the page says passed" grep -q 'Passed: no regression.' \
    <(browser --dump-dom "file://$TMP/same.html")

# --- refused -------------------------------------------------------------------------------------
check_status "html with --top: exit 2" 2 "$REPORT" -f html --top 2 "$TMP/demo.bin"
script -qec "'$REPORT' -f html '$TMP/demo.bin'" /dev/null >"$TMP/tty.out" || true
check "html to a terminal: refused, says to redirect" grep -q 'redirect it to a file' "$TMP/tty.out"

# --- over time: the SERIES record (one point per trace write, at most 64) ------------------------
page_data() { sed -n 's|.*<script type="application/json" id="pp-data">\(.*\)</script>.*|\1|p' "$1" | sed 's|\\/|/|g'; }
POOLPROBE_INTERVAL=0.05 profile "$TMP/long.bin" -- "$WORKLOADS/demo" 60000 >/dev/null
"$REPORT" -f json "$TMP/long.bin" >"$TMP/long.json"
"$REPORT" -f html "$TMP/long.bin" >"$TMP/long.html"
page_data "$TMP/long.html" >"$TMP/long.data.json"
points=$(json_get "$TMP/long.data.json" '.series.t_ns | length')
check "series: several points (${points:-0}), at most 64" test "${points:-0}" -ge 3 -a "${points:-0}" -le 64
check_eq "series: the last point's allocations are the trace's total" \
    "$(json_get "$TMP/long.json" .totals.allocs)" "$(json_get "$TMP/long.data.json" '.series.process.allocs[-1]')"
check_eq "series: render_buf's line ends at its allocations" 60000 \
    "$(json_get "$TMP/long.data.json" '.series.sites[] | select(.key == "render_buf") | .allocs[-1]')"
check_eq "series: points in time order" true \
    "$(json_get "$TMP/long.data.json" '.series.t_ns as $t | [range(1; $t | length) | $t[.] > $t[. - 1]] | all')"
check_eq "series: cumulative allocations never go down" true \
    "$(json_get "$TMP/long.data.json" '.series.process.allocs as $a | [range(1; $a | length) | $a[.] >= $a[. - 1]] | all')"
browser --dump-dom "file://$TMP/long.html" >"$TMP/long.dom"
check_eq "series page: no script error" 0 "$(status data-errors "$TMP/long.dom")"
check_eq "series page: two more charts than the demo's, all drawn" "$((charts + 2)) $((charts + 2))" \
    "$(status data-charts "$TMP/long.dom") $(status data-drawn "$TMP/long.dom")"
# Several traces, in either order (the report sorts processes): the series is long.bin's.
for order in "tests/golden/v1.0-synthetic.bin $TMP/long.bin" "$TMP/long.bin tests/golden/v1.0-synthetic.bin"; do
    # shellcheck disable=SC2086  # two paths
    "$REPORT" -f html $order >"$TMP/two.html" 2>/dev/null
    check_eq "series of merged traces ($(basename "${order%% *}") first): long.bin's $points points" "$points" \
        "$(page_data "$TMP/two.html" | jq '.series.t_ns | length')"
done
# How the shim bounds the series when it writes more than 64 times: tests/unit/test_shim_series.c.

# --- with --try: the measured saving in the card -------------------------------------------------
TRY=$TOP/$B/poolprobe-try
if [ -x "$TRY" ] && [ -x "$WORKLOADS/trywork" ]; then
    profile "$TMP/big.bin" -- "$WORKLOADS/trywork" big 300 >/dev/null 2>&1
    "$TRY" --format json --trace "$TMP/big.bin" --runs 3 -- "$WORKLOADS/trywork" big 300 \
        >"$TMP/big.try.json" 2>/dev/null || true
    "$REPORT" -f html --try "$TMP/big.try.json" "$TMP/big.bin" >"$TMP/try.html"
    browser --dump-dom "file://$TMP/try.html" >"$TMP/try.dom"
    check_eq "--try page: no script error" 0 "$(status data-errors "$TMP/try.dom")"
    hits=$(json_get "$TMP/big.try.json" '.sites[0].hits')
    check "--try page: block_alloc's card shows what try measured ($hits hits)" \
        grep -q "Measured (try pool): cpu x[0-9.]* ([0-9.]*-[0-9.]*), wall x[0-9.]*, [a-z ]*; $hits pool hits, " "$TMP/try.dom"
else
    record FAIL "FAIL - t_html needs poolprobe-try and the trywork workload (make check-build)"
fi

# --- the flame graph's stacks add up to the totals (small stacks summed, never dropped) -------------
page_data "$TMP/demo.html" >"$TMP/demo.data.json"
check_eq "flame graph: stacks add up to the trace's allocations" "$(json_get "$TMP/demo.json" .totals.allocs)" \
    "$(json_get "$TMP/demo.data.json" '[.stacks[].allocs] | add')"
check_eq "flame graph: and to its bytes" "$(json_get "$TMP/demo.json" .totals.bytes)" \
    "$(json_get "$TMP/demo.data.json" '[.stacks[].bytes] | add')"

# --- a v1.0 trace (no series) still makes a page, which says why there is no chart over time -------
rc=0
"$REPORT" -f html tests/golden/v1.0-synthetic.bin >"$TMP/v10.html" 2>"$TMP/v10.err" || rc=$?
check_eq "v1.0 trace: html exit 0" 0 "$rc"
browser --dump-dom "file://$TMP/v10.html" >"$TMP/v10.dom"
check_eq "v1.0 trace: no script error" 0 "$(status data-errors "$TMP/v10.dom")"
check "v1.0 trace: says it holds no time series" grep -q 'This trace holds no time series' "$TMP/v10.dom"
