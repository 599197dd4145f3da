#!/usr/bin/env bash
# t_try.sh — `poolprobe try` (runner/, shim/try.c) on workloads with known answers
# (tests/workloads/trywork.c):
#   - 64 KiB blocks, three in flight, past glibc's trim threshold: the pool serves all but the
#     first three, is confirmed, and its CPU ratio is an order of magnitude like a hand-written
#     pool's (both below 0.1; the effect is far beyond the noise of a loaded machine);
#   - a site called ten times: served, but not confirmed;
#   - blocks pooled through realloc, calloc and malloc_usable_size: the program's output and
#     exit status are the plain run's in every run (the runner compares them; exit 0 says so);
#   - every verdict's emulation on a site of three sizes, with exact hits, misses and drops;
#   - blocks freed by another thread, per-thread and shared;
#   - a C++ site behind operator new is matched through it; a site in a dlopen'ed library too;
#   - a program that fails, crashes or whose output changes from run to run: exit 2, said why.
# Runs are few and short (the machine is shared).
. "${0%/*}/lib.sh"

TRY=$TOP/$B/poolprobe-try
W=$WORKLOADS/trywork
require "$TRY" "$W" "$SHIM"
export POOLPROBE_LIB=$SHIM

# --- the pool that must win ---------------------------------------------------------------------
rc=0
"$TRY" --format json --runs 5 -- "$W" big 6000 >"$TMP/big.json" 2>"$TMP/big.err" || rc=$?
check_eq "big: exit status" 0 "$rc"
check_eq "big: format" "poolprobe-try 1" "$(json_get "$TMP/big.json" '"\(.format) \(.version)"')"
check_eq "big: program" "big 6000" "$(json_get "$TMP/big.json" '.program[1:] | join(" ")')"
check_eq "big: one site, block_alloc" "block_alloc" "$(json_get "$TMP/big.json" '[.sites[].key] | join(",")')"
check_eq "big: the report's verdict is applied" "pool per-thread 3 65536" \
    "$(json_get "$TMP/big.json" '.sites[0].applied | "\(.verdict) \(.kind) \(.capacity) \(.block_bytes | join("/"))"')"
# 18000 allocations; the first round's blocks are new, every later one is reused.
check_eq "big: hits misses drops" "18000 17997 3 0 0" \
    "$(json_get "$TMP/big.json" '.all | "\(.matched) \(.hits) \(.misses) \(.drops) \(.overflows)"')"
check_eq "big: per-site counts" "17997 3" "$(json_get "$TMP/big.json" '.sites[0] | "\(.hits) \(.misses)"')"
# (On failure, the times say why: a run with the pool stalled past the fastest without.)
check_eq "big: confirmed" true \
    "$(json_get "$TMP/big.json" '.all | if .confirmed then "true" else "false: cpu \(.cpu_seconds), wall \(.wall_seconds), ratios \(.cpu_ratio) \(.wall_ratio)" end')"
check_eq "big: cpu ratio median below 0.1" true "$(json_get "$TMP/big.json" '.all.cpu_ratio.median < 0.1')"
check_eq "big: ratios ordered" true \
    "$(json_get "$TMP/big.json" '.all.cpu_ratio | .min <= .median and .median <= .max')"
check_eq "big: median seconds: with below without, plain run timed" true \
    "$(json_get "$TMP/big.json" '.all.cpu_seconds.with < .all.cpu_seconds.without and .plain.cpu_seconds > 0')"
check_eq "big: peak rss of both arms" true \
    "$(json_get "$TMP/big.json" '.all.rss_bytes | .with > 0 and .without > 0')"
# The hand-written pool (trywork bigpool: a free list of three) on the same work, timed the
# same way (user + system of the whole process, best of three): also below 0.1.
best_cpu() { # best_cpu ARGS...: the smallest user+system seconds of three runs, in ms
    local best=999999 i t
    for i in 1 2 3; do
        t=$( { TIMEFORMAT='%3U %3S'; time "$W" "$@" >/dev/null 2>&1; } 2>&1 |
            awk '{ printf "%d", ($1 + $2) * 1000 }')
        [ "$t" -lt "$best" ] && best=$t
    done
    echo "$best"
}
plain_ms=$(best_cpu big 6000)
pool_ms=$(best_cpu bigpool 6000)
check "hand-written pool: cpu ratio below 0.1 (${pool_ms}ms / ${plain_ms}ms)" \
    test $((pool_ms * 10)) -lt "$plain_ms"

# --- the text form says the same ---------------------------------------------------------------
rc=0
"$TRY" --trace "$TMP/none" -- "$W" big 10 >"$TMP/notrace.out" 2>"$TMP/notrace.err" || rc=$?
check_eq "missing --trace file: exit 2" 2 "$rc"
check "missing --trace file: said so" grep -q "^poolprobe try: error: $TMP/none: " "$TMP/notrace.err"
LD_PRELOAD=$SHIM POOLPROBE_OUT=$TMP/big.bin "$W" big 300 >/dev/null 2>&1
rc=0
"$TOP/scripts/poolprobe" try --trace "$TMP/big.bin" --runs 5 -- "$W" big 300 \
    >"$TMP/big.txt" 2>"$TMP/big.txt.err" || rc=$?
check_eq "text via the launcher: exit status" 0 "$rc"
check "text: names the trace" grep -q "^sites and verdicts from $TMP/big.bin$" "$TMP/big.txt"
check "text: the site and its verdict" \
    grep -q "^site block_alloc (report: pool, saves 897 of 900 allocations)$" "$TMP/big.txt"
check "text: applied" grep -q "^  applied   pool (per-thread, capacity 3, blocks of 65536 B)$" "$TMP/big.txt"
check "text: hits" grep -q "^  hits      897 of 900 allocations (3 misses, 0 drops above the cap, 0 frees past capacity)$" "$TMP/big.txt"

# --- poolprobe-report --try shows the measurement next to the recommendation ------------------
"$TRY" --format json --trace "$TMP/big.bin" --runs 5 -- "$W" big 300 >"$TMP/big300.json" 2>/dev/null
"$REPORT" --try "$TMP/big300.json" "$TMP/big.bin" >"$TMP/report.txt"
cpu=$(json_get "$TMP/big300.json" '.sites[0].cpu_ratio | "x\(.median * 1000 | round / 1000)"')
check "report --try: measured line under the recommendation" \
    grep -q "^    measured (try pool): cpu x0\.[0-9]* (.*), wall x[0-9.]*, \(confirmed\|not confirmed\)$" "$TMP/report.txt"
check_eq "report --try json: measured per site" "pool 897 3 true" \
    "$(report_json --try "$TMP/big300.json" "$TMP/big.bin" | jq -r '.sites[] | select(.key == "block_alloc") | .measured | "\(.verdict) \(.hits) \(.misses) \(.alone)"')"
check_eq "report --try json: same ratio as the try result" \
    "$(json_get "$TMP/big300.json" '.sites[0].cpu_ratio.median')" \
    "$(report_json --try "$TMP/big300.json" "$TMP/big.bin" | jq -r '.sites[] | select(.key == "block_alloc") | .measured.cpu_ratio.median')"
check_eq "report without --try: no measured" null \
    "$(report_json "$TMP/big.bin" | jq -r '.sites[] | select(.key == "block_alloc") | .measured')"
check_refused "report --try with a trace instead of a try result" "$TMP/big.bin" "$REPORT" \
    --try "$TMP/big.bin" "$TMP/big.bin"
echo '{"format": "poolprobe-report", "version": 1, "sites": []}' >"$TMP/notry.json"
check_refused "report --try with a JSON report" "$TMP/notry.json" "$REPORT" \
    --try "$TMP/notry.json" "$TMP/big.bin"
rc=0
"$TRY" --runs 1 --trace "$TMP/big.bin" -- "$W" rare 10 >/dev/null 2>"$TMP/nomatch.err" || rc=$?
check_eq "a trace whose sites the program never reaches: exit 2" 2 "$rc"
check "... and said so" grep -q "no allocation of the sites tried was made at them" "$TMP/nomatch.err"

# --- a site called ten times: served, not confirmed --------------------------------------------
rc=0
"$TRY" --format json --runs 5 --site rare_alloc --as pool -- "$W" rare 3000000 \
    >"$TMP/rare.json" 2>"$TMP/rare.err" || rc=$?
check_eq "rare: exit status" 0 "$rc"
check_eq "rare: applied as asked" "pool no-pool 1" \
    "$(json_get "$TMP/rare.json" '.sites[0] | "\(.verdict) \(.report_verdict) \(.applied.capacity)"')"
check_eq "rare: hits misses" "10 9 1" "$(json_get "$TMP/rare.json" '.all | "\(.matched) \(.hits) \(.misses)"')"
check_eq "rare: not confirmed" false "$(json_get "$TMP/rare.json" '.all.confirmed')"

# --- what the program sees does not change -------------------------------------------------------
rc=0
"$TRY" --format json --runs 2 --site 'usable_*' --as pool --capacity 2 --object-bytes 100 \
    --each -- "$W" usable >"$TMP/usable.json" 2>"$TMP/usable.err" || rc=$?
check_eq "usable: outputs and exit status as a plain run's in every run" 0 "$rc"
check_eq "usable: both sites pooled (hits misses, each alone)" "usable_alloc 199 1,usable_calloc 199 1" \
    "$(json_get "$TMP/usable.json" '[.sites[] | "\(.key) \(.hits) \(.misses)"] | join(",")')"
check_eq "usable: measured alone with --each" "true true" \
    "$(json_get "$TMP/usable.json" '[.sites[].measured_alone] | map(tostring) | join(" ")')"
check_eq "usable: two runs cannot confirm" false "$(json_get "$TMP/usable.json" '.all.confirmed')"
"$W" usable >"$TMP/usable.plain" 2>/dev/null
# 200 rounds of: aligned (1) + usable size >= 100 (1) + 90 x ('a' + round % 26) + 100 zeros.
check_eq "usable: the plain output (alignment, usable size, zeroing, contents)" "usable 1964920" \
    "$(cat "$TMP/usable.plain")"

# --- each verdict's emulation, counted exactly (trywork mixed: 100, 1000, 5000 bytes in turn) --
LD_PRELOAD=$SHIM POOLPROBE_OUT=$TMP/mixed.bin "$W" mixed >/dev/null 2>&1
try_mixed() { # try_mixed NAME EXPECTED ARGS...: "applied matched hits misses drops" of mixed_alloc
    local name=$1 want=$2 rc=0
    shift 2
    "$TRY" --format json --runs 1 --trace "$TMP/mixed.bin" --site mixed_alloc "$@" -- "$W" mixed \
        >"$TMP/mixed.json" 2>"$TMP/mixed.err" || rc=$?
    check_eq "$name: exit status" 0 "$rc"
    check_eq "$name: applied, matched hits misses drops" "$want" \
        "$(json_get "$TMP/mixed.json" '.sites[0] | "\(.applied | [.verdict, .kind, .capacity, (.block_bytes // null | if . then join("/") else . end), .presize_bytes] | map(select(. != null) | tostring) | join(" ")) \(.matched) \(.hits) \(.misses) \(.drops)"')"
}
# 200 requests fit the 1024-byte class (one miss, then reused), 100 of 5000 bytes are dropped.
try_mixed "pool-capped" "pool-capped per-thread 1 1024 300 199 1 100" --as pool-capped --cap-bytes 1024 --capacity 1
try_mixed "pool-capped, shared" "pool-capped shared 1 1024 300 199 1 100" --as pool-capped --cap-bytes 1024 --capacity 1 --kind shared
# A scratch block of the site's largest size serves every request.
try_mixed "stack" "stack per-thread 1 5000 300 299 1 0" --as stack
try_mixed "presize" "presize 1000 300 100 200 0" --as presize --object-bytes 1000
try_mixed "none" "none 300 0 0 0" --as none

# --- two threads, every block freed by the other one (prodcons) ---------------------------------
# Per-thread: the producer's list never gets a block back (they go to the consumer's list, full
# after 64): no hit, every free past capacity but the first 64. Shared: the blocks come back.
rc=0
"$TRY" --format json --runs 1 --site produce_msg --as pool --capacity 64 -- \
    "$WORKLOADS/prodcons" 20000 >"$TMP/pc.json" 2>/dev/null || rc=$?
check_eq "cross-thread, per-thread pool: matched hits misses overflows" "0 20000 0 20000 19936" \
    "$rc $(json_get "$TMP/pc.json" '.all | "\(.matched) \(.hits) \(.misses) \(.overflows)"')"
rc=0
"$TRY" --format json --runs 1 --site produce_msg --as pool --capacity 64 --kind shared -- \
    "$WORKLOADS/prodcons" 20000 >"$TMP/pcs.json" 2>/dev/null || rc=$?
check_eq "cross-thread, shared pool: blocks come back" "0 20000 true" \
    "$rc $(json_get "$TMP/pcs.json" '.all | "\(.matched) \(.hits + .misses == .matched and .hits >= 1000)"')"

# The judge's own numbers, as the report gives them (tests/workloads/judge.c; the same threshold
# as t_verdicts): tiers by block size, capacity per thread, drops above the cap (1 in 1000).
judge_try() { # judge_try CASE EXPECTED: "site verdict applied matched hits misses drops"
    local rc=0
    "$TRY" --format json --runs 1 -t min_saving_share=0 -- "$WORKLOADS/judge" "$1" 40000 \
        >"$TMP/judge-$1.json" 2>"$TMP/judge-$1.err" || rc=$?
    check_eq "judge $1: exit status" 0 "$rc"
    check_eq "judge $1: the report's numbers applied, counts" "$2" \
        "$(json_get "$TMP/judge-$1.json" '.sites[0] | "\(.key) \(.report_verdict) \(.applied.kind) \(.applied.capacity) \(.applied.block_bytes | join("/")) \(.matched) \(.hits) \(.misses) \(.drops)"')"
}
judge_try classes "class_buf tiered per-thread 1 1024/16384/262144 40000 39997 3 0"
judge_try frames "decode_frame pool-capped per-thread 1 1024 40000 39959 1 40"

# --- C++: the site is behind operator new (a chain of two return addresses, matched by unwinding)
rc=0
"$TRY" --format json --runs 1 --site 'make_widget*' --as pool --capacity 1 -- \
    "$WORKLOADS/cxxnew" 1000 >"$TMP/cxx.json" 2>"$TMP/cxx.err" || rc=$?
check_eq "c++: exit status" 0 "$rc"
check_eq "c++: one chain (stacks differing above the site share it), all matched" \
    "make_widget(unsigned long) 1 1000 999 1" \
    "$(json_get "$TMP/cxx.json" '.sites[0] | "\(.key) \(.chains) \(.matched) \(.hits) \(.misses)"')"

# Two sites on one line of C++ (a map's nodes and its buckets, told apart by the container's
# growth path, ~10 frames below the site): each gets its own stacks.
rc=0
"$TRY" --format json --runs 1 --site 'count_words*' --as pool -- "$WORKLOADS/containers" \
    >"$TMP/cont.json" 2>"$TMP/cont.err" || rc=$?
check_eq "c++ containers: exit status" 0 "$rc"
check_eq "c++ containers: nodes and buckets matched apart" \
    "count_words(unsigned int)#2 1 100000,count_words(unsigned int) 1 1200" \
    "$(json_get "$TMP/cont.json" '[.sites[] | "\(.key) \(.chains) \(.matched)"] | join(",")')"

# --- a site in a library dlopen'ed after start: resolved once the module is there --------------
sed -n '/^cat >"$TMP\/plugin.c"/,/^C$/p' tests/t_robust_libraries.sh | sed '1d;$d' >"$TMP/plugin.c"
gcc -shared -fPIC -O1 -g -fno-omit-frame-pointer -fno-inline -o "$TMP/libplugin.so" "$TMP/plugin.c"
rc=0
"$TRY" --format json --runs 1 --site plugin_alloc --as pool --capacity 1 -- \
    "$WORKLOADS/robust_dlopen" "$TMP/libplugin.so" 1 3000 >"$TMP/dl.json" 2>"$TMP/dl.err" || rc=$?
check_eq "dlopen: exit status" 0 "$rc"
# The shim looks for new modules every 256th allocation it cannot match: at most 256 of the
# 3000 are made before the plugin's chain is resolved.
check_eq "dlopen: matched once loaded, then one miss and only hits" "true 1 0" \
    "$(json_get "$TMP/dl.json" '.all | "\(.matched >= 2744 and .hits == .matched - 1) \(.misses) \(.unresolved_chains)"')"

# --- trouble: exit 2, and why ---------------------------------------------------------------------
for mode in fail crash; do
    rc=0
    "$TRY" --runs 1 -- "$W" $mode >"$TMP/$mode.out" 2>"$TMP/$mode.err" || rc=$?
    check_eq "$mode: exit 2" 2 "$rc"
    check_eq "$mode: nothing on stdout" "" "$(cat "$TMP/$mode.out")"
done
check "fail: said why" grep -q "^poolprobe try: error: the program fails without the shim: exit status 3;" "$TMP/fail.err"
check "crash: said why" grep -q "^poolprobe try: error: the program fails without the shim: killed by signal 11 " "$TMP/crash.err"
rc=0
"$TRY" --runs 1 -- "$W" pid >"$TMP/pid.out" 2>"$TMP/pid.err" || rc=$?
check_eq "output changes between runs: exit 2" 2 "$rc"
check "output changes between runs: said so" grep -q "the program's output differs from its plain run" "$TMP/pid.err"
check_status "--as bogus: exit 2" 2 "$TRY" --as bogus -- "$W" big 10
check_status "no program: exit 2" 2 "$TRY" --runs 3

LIB_FINISHED=1
