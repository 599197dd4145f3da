#!/usr/bin/env bash
# t_exact.sh — every figure the shim writes, checked against a value derived by hand.
#
# tests/workloads/exact.c makes allocations whose counts, bytes, sizes, lifetimes, live and peak
# figures, realloc chains and what-if free-list hits are known exactly (its header lists them);
# each check below says how its expected value follows. Figures that cannot be exact have
# bounds with their reason: lifetimes in ns (bounded by the workload's own clock readings) and
# sampled counts (bounded by the binomial variance). No check depends on a verdict: the
# recommendation order is checked against the report's own saving_ns, whatever the verdicts.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/exact"
W=$WORKLOADS/exact

# expect JSON FUNC FIELD=VALUE...: each FIELD (a jq path of the site) of the site FUNC.
expect() {
    local json=$1 func=$2 kv
    shift 2
    for kv in "$@"; do
        check_eq "$func ${kv%%=*}" "${kv#*=}" "$(site_field "$json" "$func" "${kv%%=*}")"
    done
}

# The what-if free list's hits at each capacity, as "1:h 2:h 4:h ... 4096:h".
pool_of() { # pool_of JSON FUNC
    site_field "$1" "$2" 'pool_sim | map("\(.capacity):\(.hits)") | join(" ")'
}

# pools H1 H2 H4 H8 REST: the expected pool_of string, REST for every capacity from 16 to 4096.
pools() {
    local s="1:$1 2:$2 4:$3 8:$4" c
    for c in 16 32 64 128 256 512 1024 2048 4096; do s="$s $c:$5"; done
    printf '%s' "$s"
}

# --- one thread ------------------------------------------------------------------------------
before=$(date +%s%N)
profiled single "$TMP/single.bin" -- "$W" single
after=$(date +%s%N)
report_to "$TMP/single.json" "$TMP/single.bin"
J=$TMP/single.json
read -r _ pid <"$TMP/single.out"
read -r _ inner_min outer_max inner_sum outer_sum < <(sed -n 2p "$TMP/single.out")

# The process: its pid and command; it started (CLOCK_REALTIME) while the test's clock says it
# ran; it lasted at least its timed spins and at most the test's measurement (1% allowance: the
# duration comes from the TSC clock, see timed_block below).
check_eq "process pid" "$pid" "$(json_get "$J" '.processes[0].pid')"
check_eq "process argv" "$W single" "$(json_get "$J" '.processes[0].argv | join(" ")')"
check_eq "process depth_limit (default)" 64 "$(json_get "$J" '.processes[0].depth_limit')"
start=$(json_get "$J" '.processes[0].start_realtime_ns')
check "process start $start within the run [$before, $after]" \
    test "$start" -ge "$before" -a "$start" -le "$after"
duration=$(json_get "$J" '.processes[0].duration_ns')
check "process duration $duration ns within [0.99 x $inner_sum, 1.01 x $((after - before))]" \
    test "$duration" -ge $((inner_sum * 99 / 100)) -a "$duration" -le $(((after - before) * 101 / 100))

# Process totals: nothing else in the program allocates (it writes with write(2)), so they are
# the sums of the sites: allocs 3+1+100+50+100+90+40+3+4+3+15 = 409; frees the same less the 4
# leaked blocks; bytes 3000 + 10 + 10000 + 3200 + 32500 + 45000 + 18000 + 768 + 64 + 30000 +
# 360 = 142902 (requested at creation, realloc growth not included). The peak of live bytes is
# the leaked 3000 + 50, live to the end, plus peak_site's 3 x 10000 live together: 33050 (every
# other phase peaks lower). Exact: one thread, so the process counter is updated on every
# event, not in batches.
check_eq "totals.allocs" 409 "$(json_get "$J" .totals.allocs)"
check_eq "totals.frees" 405 "$(json_get "$J" .totals.frees)"
check_eq "totals.bytes" 142902 "$(json_get "$J" .totals.bytes)"
check_eq "totals.peak_live_bytes (exact, single-threaded)" 33050 "$(json_get "$J" .totals.peak_live_bytes)"
check_eq "totals.untracked_frees" 0 "$(json_get "$J" .totals.untracked_frees)"
check_eq "one thread" 1 "$(json_get "$J" '.processes[0].threads')"

# The same with POOLPROBE_SOLO=0 (every hot section locked, as in a threaded process): every
# count, size and peak the same, the process peak included (a single thread still updates it
# on every event, not in batches).
POOLPROBE_SOLO=0 profiled single-locked "$TMP/single-locked.bin" -- "$W" single
report_to "$TMP/single-locked.json" "$TMP/single-locked.bin"
counts() { # counts JSON: the figures that do not depend on time, one line
    json_get "$1" '[.totals.allocs, .totals.frees, .totals.bytes, .totals.peak_live_bytes,
        (.sites[] | [.key, .allocs, .frees, .bytes, .live_at_exit, .peak_live,
            .peak_live_bytes, .size.p50, .lifetime_allocs.p95, .realloc_calls])] | tostring'
}
check_eq "POOLPROBE_SOLO=0: the same figures" "$(counts "$J")" "$(counts "$TMP/single-locked.json")"
check_eq "exact run: sample_every 1" 1 "$(json_get "$J" .sample_every)"
check_eq "eleven sites" 11 "$(json_get "$J" .site_count)"
check "text report: 409 allocations, 405 frees" grep -q '^  409 allocations, 405 frees, ' \
    <("$REPORT" "$TMP/single.bin")

# seq_pair: 100 x {malloc(100); free}. Each block is freed before the next allocation, so its
# lifetime in allocations is 0 (render_buf's shape); one block live at a time. The free list of
# any capacity misses the first allocation and serves the other 99.
expect "$J" seq_pair allocs=100 frees=100 bytes=10000 live_at_exit=0 live_bytes_at_exit=0 \
    peak_live=1 peak_live_bytes=100 size.min=100 size.max=100 size.p50=100 size.p95=100 \
    size.p99=100 size.exact=true lifetime_allocs.p50=0 lifetime_allocs.p95=0 \
    lifetime_allocs.p99=0 lifetime_allocs.count=100 lifetime_ns.count=100 \
    cross_thread_frees=0 realloc_calls=0 chains_freed=0 'free_callers[0].function=seq_pair' \
    'free_callers[0].count=100' other_free_callers=0
check_eq "seq_pair: free list serves 99 of 100 at every capacity" "$(pools 99 99 99 99 99)" \
    "$(pool_of "$J" seq_pair)"

# batch_site: 5 rounds of 10 live blocks. Block i of a round is followed by 9 - i allocations
# before it is freed: lifetimes in allocations 0..9, five of each (buckets of 2 per power of
# two: 0, 1, 2, 3 exact; then 4-5, 6-7, 8-11). p50 = rank 25 -> bucket 4-5 -> its middle 4;
# p95 = rank 48 and p99 = rank 50 -> bucket 8-11 -> 9. Free list of capacity c: the first round
# misses; each later round finds min(10, c) blocks pooled: 4 x min(10, c) hits.
expect "$J" batch_site allocs=50 frees=50 bytes=3200 live_at_exit=0 peak_live=10 \
    peak_live_bytes=640 size.p50=64 lifetime_allocs.p50=4 lifetime_allocs.p95=9 \
    lifetime_allocs.p99=9 lifetime_allocs.count=50 'free_callers[0].count=50'
check_eq "batch_site: free list hits 4 x min(10, capacity)" "$(pools 4 8 16 32 40)" \
    "$(pool_of "$J" batch_site)"

# six_sizes: 6 distinct sizes, within the 8 the shim keeps exactly, so the percentiles are the
# nearest-rank values themselves: cumulative counts 10, 30, 60, 80, 95, 100 -> p50 (rank 50)
# 300, p95 (rank 95) 500, p99 (rank 99) 600. (In buckets p50 would be 287, the middle of
# 256..319.) Bytes 100x10 + 200x20 + 300x30 + 400x20 + 500x15 + 600x5 = 32500.
expect "$J" six_sizes allocs=100 frees=100 bytes=32500 size.min=100 size.max=600 \
    size.p50=300 size.p95=500 size.p99=600 size.exact=true peak_live=1 peak_live_bytes=600 \
    lifetime_allocs.p99=0
check_eq "six_sizes: free list serves 99 of 100" "$(pools 99 99 99 99 99)" \
    "$(pool_of "$J" six_sizes)"

# nine_sizes: 9 distinct sizes, one more than the exact set: log-linear buckets of 4 per power
# of two. p50 (rank 45, true 500) is the middle of bucket 448..511: 479; p95 (rank 86) and p99
# (rank 90) fall in 896..1023, clamped to the exact max 900: the middle of 896..900, 898. Each
# within 12.5% of the true value (half a bucket, a quarter of its power of two, wide).
expect "$J" nine_sizes allocs=90 frees=90 bytes=45000 size.min=100 size.max=900 \
    size.p50=479 size.p95=898 size.p99=898 size.exact=false peak_live_bytes=900
check_eq "nine_sizes: free list serves 89 of 90" "$(pools 89 89 89 89 89)" \
    "$(pool_of "$J" nine_sizes)"

# eight_sizes: 8 distinct sizes, exactly as many as the shim keeps exactly: cumulative 5, 10,
# ... 40 -> p50 (rank 20) 400, p95 (rank 38) and p99 (rank 40) 800. (In buckets: 415 and 784.)
expect "$J" eight_sizes allocs=40 bytes=18000 size.min=100 size.max=800 size.p50=400 \
    size.p95=800 size.p99=800 size.exact=true

# grow_chain: 4 x {malloc(16); realloc 32, 64, 128, 100; free}: 16 realloc calls, 12 of them
# grows, 4 chains freed at final size 100 (exact). A realloc keeps the block's origin and its
# creation size (16), and does not count as an allocation in lifetimes. Live bytes peak at 128.
expect "$J" grow_chain allocs=4 frees=4 bytes=64 size.min=16 size.max=16 size.p50=16 \
    realloc_calls=16 realloc_grows=12 chains_freed=4 chain_final_size.p50=100 \
    chain_final_size.p99=100 chain_final_size.count=4 chain_final_size.exact=true \
    live_bytes_at_exit=0 peak_live=1 peak_live_bytes=128 lifetime_allocs.p99=0
check_eq "grow_chain: free list serves 3 of 4" "$(pools 3 3 3 3 3)" "$(pool_of "$J" grow_chain)"

# leak_site: 3 x malloc(1000), never freed: all live at exit, no lifetimes, no free callers.
expect "$J" leak_site allocs=3 frees=0 live_at_exit=3 live_bytes_at_exit=3000 peak_live=3 \
    peak_live_bytes=3000 lifetime_ns.count=0 lifetime_allocs.count=0 'free_callers | length=0'
check_eq "leak_site: a free list never fills" "$(pools 0 0 0 0 0)" "$(pool_of "$J" leak_site)"

# leak_grown: malloc(10) grown to 50 and kept: live bytes follow the realloc, the creation
# size stays 10, and a chain is only counted once freed.
expect "$J" leak_grown allocs=1 frees=0 bytes=10 size.max=10 size.p50=10 live_at_exit=1 \
    live_bytes_at_exit=50 peak_live_bytes=50 realloc_calls=1 realloc_grows=1 chains_freed=0 \
    chain_final_size.count=0

# many_freers: freed by five functions; the shim keeps the first four it sees (free_a .. free_d)
# and counts the rest (free_e's 1) apart. The report sorts them by count.
expect "$J" many_freers allocs=15 frees=15 bytes=360 other_free_callers=1 \
    'free_callers | map("\(.function):\(.count)") | join(" ")=free_a:5 free_b:4 free_c:3 free_d:2'

# peak_site: 3 x malloc(10000) live together (lifetimes 2, 1, 0 allocations: p50 1, p95 2).
expect "$J" peak_site allocs=3 frees=3 bytes=30000 peak_live=3 peak_live_bytes=30000 \
    lifetime_allocs.p50=1 lifetime_allocs.p95=2 lifetime_allocs.p99=2
check_eq "peak_site: one round, no reuse" "$(pools 0 0 0 0 0)" "$(pool_of "$J" peak_site)"

# timed_block: 3 blocks held for >= 2 ms each. The workload read CLOCK_MONOTONIC after malloc
# returned and before calling free (inner), and before malloc and after free (outer); the
# shim's lifetime lies between the two. Allowance 1% either way: the shim reads the TSC scaled
# by a ratio calibrated over 100 us at start (good to ~0.05%), not CLOCK_MONOTONIC itself.
expect "$J" timed_block allocs=3 frees=3 bytes=768 lifetime_ns.count=3 lifetime_allocs.p50=0
sum=$(site_field "$J" timed_block lifetime_ns.sum)
check "timed_block: lifetime sum $sum ns within [0.99 x $inner_sum, 1.01 x $outer_sum]" \
    test "$sum" -ge $((inner_sum * 99 / 100)) -a "$sum" -le $((outer_sum * 101 / 100))
# The median lifetime is reported as the middle of its bucket (2 per power of two): between
# 5/6 and 5/4 of any value in that bucket, the value itself lying in [inner_min, outer_max].
p50=$(site_field "$J" timed_block lifetime_ns.p50)
check "timed_block: lifetime p50 $p50 ns within [5/6 x 0.99 x $inner_min, 5/4 x 1.01 x $outer_max]" \
    test "$p50" -ge $((inner_min * 5 / 6 * 99 / 100)) -a "$p50" -le $((outer_max * 5 / 4 * 101 / 100))
check "timed_block: every lifetime >= 2 ms (the spin)" test "$inner_min" -ge 2000000

# Recommendations come most time saved first: the text report's order must be the JSON sites
# that have a recommendation, sorted by saving_ns (ties keep the site order). The rate
# threshold is off so that a slow run cannot change which sites qualify.
"$REPORT" --threshold min_rate=0 "$TMP/single.bin" >"$TMP/rec.txt"
"$REPORT" --threshold min_rate=0 --format json "$TMP/single.bin" >"$TMP/rec.json"
want=$(jq -r '[.sites | to_entries[] | select(.value.verdict != "no-pool")
        | {i: .key, s: .value.allocs_saved, t: .value.saving_ns}] | sort_by(-.t, .i) | map(.s)
        | join(" ")' "$TMP/rec.json")
got=$(sed -n 's/^    saves \([0-9]*\) .*/\1/p' "$TMP/rec.txt" | tr '\n' ' ' | sed 's/ $//')
check_eq "recommendations in order of time saved" "$want" "$got"
check "the order is tested: at least two different savings ($want)" \
    test "$(printf '%s\n' $want | sort -u | wc -l)" -ge 2

# --- two threads -----------------------------------------------------------------------------
profiled threads "$TMP/threads.bin" -- "$W" threads
report_to "$TMP/threads.json" "$TMP/threads.bin"
J=$TMP/threads.json
check_eq "threads: two threads seen" 2 "$(json_get "$J" '.processes[0].threads')"
# handoff: the main thread makes 5 blocks in a row and makes no other allocation before the
# second thread frees them all: 5 cross-thread frees, lifetimes 4, 3, 2, 1, 0 allocations of
# the allocating thread (p50 = rank 3 = 2; p95 in bucket 4-5: 4), freed by handoff_free.
expect "$J" handoff allocs=5 frees=5 cross_thread_frees=5 lifetime_allocs.p50=2 \
    lifetime_allocs.p95=4 'free_callers[0].function=handoff_free' 'free_callers[0].count=5'
# thread_pair: the second thread's own pairs (its own lane of counters: min and max too): not
# cross-thread, lifetime 0 in its own count.
expect "$J" thread_pair allocs=10 frees=10 size.min=32 size.max=32 cross_thread_frees=0 \
    lifetime_allocs.p99=0 \
    peak_live=1
check_eq "thread_pair: free list serves 9 of 10" "$(pools 9 9 9 9 9)" "$(pool_of "$J" thread_pair)"

# inlined_alloc is inlined into inline_host: the site is the inlined function, marked so, and
# its caller is the function it was inlined into.
expect "$J" inlined_alloc allocs=1 frees=1 'frames[0].inlined=true' \
    'frames[1].function=inline_host' 'frames[1].inlined=null'

# two_frees: one function frees from two call sites (two return addresses): one free caller
# in the report, by function, with both counts added.
expect "$J" two_frees allocs=4 frees=4 'free_callers | map("\(.function):\(.count)") | join(" ")=two_frees:4'

# final_sizes: 95 chains end at 100 bytes, 4 at 200, 1 at 300: p95 (rank 95) is 100, p99
# (rank 99) 200; a p96 would be 200 and a p100 300.
expect "$J" final_sizes allocs=100 realloc_calls=100 realloc_grows=100 chains_freed=100 \
    chain_final_size.p50=100 chain_final_size.p95=100 chain_final_size.p99=200 \
    chain_final_size.count=100 chain_final_size.exact=true

# --- sampled: 1 allocation in 4, fixed seed ----------------------------------------------------
N=40000
profiled sample "$TMP/sample.bin" -- env POOLPROBE_SAMPLE=4 POOLPROBE_SAMPLE_SEED=7 "$W" sample $N
report_to "$TMP/sample.json" "$TMP/sample.bin"
J=$TMP/sample.json
check_eq "sampled: sample_every 4" 4 "$(json_get "$J" .sample_every)"
# Process totals count every call, sampled or not.
check_eq "sampled: totals.allocs exact" $N "$(json_get "$J" .totals.allocs)"
check_eq "sampled: totals.frees exact" $N "$(json_get "$J" .totals.frees)"
# The site's count is 4 x X, X ~ Binomial(N, 1/4): standard deviation sqrt(16 N 3/16) =
# sqrt(3 N) = 346 for N = 40000; allow 5 of them (1732). Unscaled it would be ~N/4.
est=$(site_field "$J" sampled_pair allocs)
check "sampled: allocs estimate $est within 1732 (5 sd) of $N" \
    test $((est > N ? est - N : N - est)) -le 1732
check_eq "sampled: the estimate is a whole number of samples (multiple of 4)" 0 $((est % 4))
# Each sampled block is freed and has size 200, and the free list misses only the first
# sampled block: exact relations between the scaled figures.
expect "$J" sampled_pair frees="$est" bytes=$((est * 200)) size.p50=200 \
    'pool_sim[0].hits'=$((est - 4)) lifetime_allocs.p99=0

LIB_FINISHED=1
