#!/usr/bin/env bash
# t_verdicts.sh — the checklist's verdicts on sites whose answer can be argued from the seeds,
# asserted exactly, with the numbers needed to act; and the same verdicts at 10x the run length
# (a verdict that flips with run length is a bug).
#
# Whether a fix is worth it is a prediction in time (the cost model against the run's duration),
# so it moves with the machine and its load; the shape of the fix (which pool, its classes, cap
# and capacity) does not. Reports named *.shape.json are made with min_saving_share=0 and assert
# the shape; the others keep the default and assert only verdicts far from the 1% line (a
# saving of several percent, or of hundredths of one).
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/verdicts" "$WORKLOADS/seeds" "$WORKLOADS/judge"

SHAPE="-t min_saving_share=0"

for N in 3000 30000; do
    profiled "verdicts-$N" "$TMP/v$N.bin" -- "$WORKLOADS/verdicts" $N
    report_to "$TMP/v$N.json" "$TMP/v$N.bin"
    # shellcheck disable=SC2086
    report_to "$TMP/v$N.shape.json" $SHAPE "$TMP/v$N.bin"
    J=$TMP/v$N.shape.json

    # Case 3 in C terms: consistent 2-4 KiB frames, one 1 MiB frame per 1000 requests.
    check_eq "N=$N frame_buf verdict" pool-capped "$(site_field "$J" frame_buf verdict)"
    check_eq "N=$N frame_buf cap_bytes" 4096 "$(site_field "$J" frame_buf cap_bytes)"
    check_eq "N=$N frame_buf above_cap_share" 0.001 "$(site_field "$J" frame_buf above_cap_share)"
    check_eq "N=$N frame_buf capacity" 1 "$(site_field "$J" frame_buf capacity)"
    check_eq "N=$N frame_buf object_bytes" 4096 "$(site_field "$J" frame_buf object_bytes)"
    check_eq "N=$N frame_buf failed only the spread row" '["size spread"]' \
        "$(json_get "$J" '[.sites[] | select(.key == "frame_buf") | .checks[]
            | select(.kind == "pooling" and (.pass | not)) | .name] | tojson')"

    # Exercise 11: three size classes.
    check_eq "N=$N class_buf verdict" tiered "$(site_field "$J" class_buf verdict)"
    check_eq "N=$N class_buf tiers" '[[2048,0.5],[16384,0.3],[131072,0.2]]' \
        "$(json_get "$J" '[.sites[] | select(.key == "class_buf") | .tiers[]
            | [.upper_bytes, (.share * 1000 | round / 1000)]] | tojson')"

    # Grown by realloc doubling from 16 B to 4 KiB: pre-size.
    check_eq "N=$N grow_buf verdict" presize "$(site_field "$J" grow_buf verdict)"
    check_eq "N=$N grow_buf presize_bytes" 4096 "$(site_field "$J" grow_buf presize_bytes)"
    check_eq "N=$N grow_buf realloc_calls_saved" $((8 * N)) \
        "$(site_field "$J" grow_buf realloc_calls_saved)"
    check_eq "N=$N grow_buf realloc_calls" $((8 * N)) "$(site_field "$J" grow_buf realloc_calls)"
    # ...and then the presized 4 KiB block, one live at a time, is a per-thread pool's.
    check_eq "N=$N grow_buf then" '{"verdict":"pool","pool_kind":"per-thread","capacity_per_thread":1,"object_bytes":4096}' \
        "$(json_get "$J" '.sites[] | select(.key == "grow_buf") | .then
            | {verdict, pool_kind, capacity_per_thread, object_bytes} | tojson')"

    # A scratch buffer freed where it was allocated: automatic storage beats any pool.
    check_eq "N=$N scratch_buf verdict" stack "$(site_field "$J" scratch_buf verdict)"

    # Kept until exit, one 2 KiB entry per request: many small blocks that die together at the
    # end are an arena's (issue 9), with the bytes it must hold.
    check_eq "N=$N keep_entry verdict" arena "$(site_field "$J" keep_entry verdict)"
    check_eq "N=$N keep_entry arena_bytes" $((2048 * N)) "$(site_field "$J" keep_entry arena_bytes)"
    check_eq "N=$N keep_entry live_at_exit" $N "$(site_field "$J" keep_entry live_at_exit)"
    # Called once per 1000 requests.
    check_eq "N=$N rare_buf verdict" no-pool "$(site_field "$J" rare_buf verdict)"
    check_eq "N=$N rare_buf reason" "too rare" "$(site_field "$J" rare_buf reason)"
    check_eq "N=$N rare_buf allocs" $((N / 1000)) "$(site_field "$J" rare_buf allocs)"

    # Every check row has the documented fields.
    check_eq "N=$N check rows complete" true "$(json_get "$J" '[.sites[].checks[]
        | has("name") and has("pass") and has("value") and has("threshold") and has("why")]
        | all')"

    # With the default min_saving_share (whether a pool is worth it depends on the machine: no
    # assertion on frame_buf's), an arena is still an arena and the table is the built-in one.
    D=$TMP/v$N.json
    check_eq "N=$N default: keep_entry still an arena" arena "$(site_field "$D" keep_entry verdict)"
    check_eq "N=$N default: the cost model is the built-in glibc table" "glibc built-in" \
        "$(json_get "$D" '"\(.cost_model.allocator) \(.cost_model.source[0:8])"')"
done

# The seeds' three benchmark cases (seeds.c), each among the others' work: shapes.
for N in 3000 30000; do
    profiled "seeds-$N" "$TMP/s$N.bin" -- "$WORKLOADS/seeds" $N
    report_to "$TMP/s$N.json" "$TMP/s$N.bin"
    # shellcheck disable=SC2086
    report_to "$TMP/s$N.shape.json" $SHAPE "$TMP/s$N.bin"
    J=$TMP/s$N.shape.json
    # Case 1: a 4 KiB buffer per request, handed to the caller: pool, 1 object of 4096 B.
    check_eq "N=$N render_buf verdict" pool "$(site_field "$J" render_buf verdict)"
    check_eq "N=$N render_buf pool_kind" per-thread "$(site_field "$J" render_buf pool_kind)"
    check_eq "N=$N render_buf capacity" 1 "$(site_field "$J" render_buf capacity)"
    check_eq "N=$N render_buf object_bytes" 4096 "$(site_field "$J" render_buf object_bytes)"
    check_eq "N=$N render_buf retained_bytes" 4096 "$(site_field "$J" render_buf retained_bytes)"
    check_eq "N=$N render_buf hit_rate" "$(((N - 1) * 1000000 / N))" \
        "$(json_get "$J" '.sites[] | select(.key == "render_buf") | .hit_rate * 1000000 | floor')"
    # Case 2: a 16-byte struct. In Go the pool loses; in C a thread-local list still beats
    # malloc (issue 9 measured 0.20x the time): a per-thread pool of one, if it is worth it.
    check_eq "N=$N make_event verdict" pool "$(site_field "$J" make_event verdict)"
    check_eq "N=$N make_event object_bytes" 16 "$(site_field "$J" make_event object_bytes)"
    # Case 3 as the article has it (1 B..1 KiB, rare 1 MiB): "drop oversized buffers before
    # returning them to the pool". The cap is 2 KiB, not 1: 1024 B shares its histogram bucket
    # with 1025..1279 B, so the bulk may reach 1279 B.
    check_eq "N=$N decode_frame verdict" pool-capped "$(site_field "$J" decode_frame verdict)"
    check_eq "N=$N decode_frame cap_bytes" 2048 "$(site_field "$J" decode_frame cap_bytes)"
    check_eq "N=$N decode_frame above_cap_share" "$((N / 1000))" \
        "$(json_get "$J" ".sites[] | select(.key == \"decode_frame\") | .above_cap_share * $N | round")"
    # With the default threshold each is recommended exactly when it saves 1% of the run.
    check_eq "N=$N default: recommended exactly when saving >= 1%" true \
        "$(json_get "$TMP/s$N.json" '[.sites[] | select(.pool_kind != null or .verdict == "no-pool")
            | select(.reason != "too rare")
            | (.verdict != "no-pool") == ((.checks[] | select(.name == "big enough") | .value) >= 0.01)]
            | all')"
done

# Text: recommendations come first, then the table; --site explains one site.
# shellcheck disable=SC2086
"$REPORT" $SHAPE "$TMP/v3000.bin" >"$TMP/text.out"
check_eq "text starts with recommendations" "Recommendations, most time saved first:" \
    "$(sed -n 6p "$TMP/text.out")"
check "text says which cost model" grep -q "savings from the cost model built-in: glibc" "$TMP/text.out"
check_eq "text fits 80 columns" 0 "$(awk 'length > 80' "$TMP/text.out" | wc -l | tr -d ' ')"
check "text gives the capped pool's action" grep -q "dropping blocks over 4.0K B" "$TMP/text.out"
check "text gives the chained advice" grep -q "presize 4.0K, then pool (per-thread, 1 x 4.0K)" \
    "$TMP/text.out"
"$REPORT" --site frame_buf "$TMP/v3000.bin" >"$TMP/explain.out"
check "--site shows the size histogram" grep -q "size (bytes):" "$TMP/explain.out"
check "--site shows the what-if pool" grep -q "what-if free list" "$TMP/explain.out"
check_status "--site with no match exits 2" 2 "$REPORT" --site no_such_fn "$TMP/v3000.bin"

# Thresholds are overridable, and listed with their reasons.
"$REPORT" -f json -t min_saving_share=1 "$TMP/s3000.bin" >"$TMP/big.json"
check_eq "--threshold min_saving_share=1 turns render_buf into no-pool" "too small" \
    "$(site_field "$TMP/big.json" render_buf reason)"
check_status "--threshold with an unknown name exits 2" 2 "$REPORT" -t nope=1 "$TMP/s3000.bin"
check_status "--threshold with a bad value exits 2" 2 "$REPORT" -t min_share=x "$TMP/s3000.bin"
check "--list-thresholds names min_saving_share" sh -c "'$REPORT' --list-thresholds | grep -q min_saving_share"

# Sampling (1 call in 4, fixed seed): the same verdict as exact mode for every site holding 1%
# or more of the allocations, and the report says its figures are estimates. The verdicts are
# compared by shape (min_saving_share=0): the two are separate runs, and a saving near the 1%
# line moves across it with the machine's load, sampled or not.
profiled "verdicts-sampled" "$TMP/vs.bin" -- env POOLPROBE_SAMPLE=4 POOLPROBE_SAMPLE_SEED=7 \
    "$WORKLOADS/verdicts" 30000
report_to "$TMP/vs.json" "$TMP/vs.bin"
# shellcheck disable=SC2086
report_to "$TMP/vs.shape.json" $SHAPE "$TMP/vs.bin"
check_eq "sampled report is marked as estimates" true "$(json_get "$TMP/vs.json" .sampled)"
verdicts_of() { # verdicts_of JSON: "key verdict" of the sites holding >= 1% of allocations
    json_get "$1" '.totals.allocs as $all | [.sites[] | select(.allocs >= $all / 100)
        | "\(.key) \(.verdict)"] | sort | join(",")'
}
check_eq "sampled verdicts equal exact verdicts (sites >= 1%)" \
    "$(verdicts_of "$TMP/v30000.shape.json")" "$(verdicts_of "$TMP/vs.shape.json")"
"$REPORT" "$TMP/vs.bin" >"$TMP/vs.txt"
check "sampled text report says estimates" grep -q "estimate" "$TMP/vs.txt"

# ---- judge.c: the seeds' cases, exercises 2, 6, 8 and 11, and issue 9's table, one per run,
# each allocation-bound (the seed passage each follows is quoted in judge.c) ----
N=40000
judge_run() { # judge_run CASE [REPORT-OPTION...]: profile judge CASE, report to $TMP/j-CASE.json
    local c=$1
    shift
    profiled "judge-$c" "$TMP/j-$c.bin" -- "$WORKLOADS/judge" "$c" $N
    report_to "$TMP/j-$c.json" "$@" "$TMP/j-$c.bin"
}
jsite() { # jsite CASE FUNC FIELD
    site_field "$TMP/j-$1.json" "$2" "$3"
}

# Seeds, case 1, alone: several percent of its run saved -> pool (per-thread, 1 x 4 KiB).
judge_run buf4k
check_eq "buf4k: pool, per-thread, 1 x 4096" "pool per-thread 1 4096 4096" \
    "$(for f in verdict pool_kind capacity_per_thread object_bytes pool_bytes; do jsite buf4k render_buf $f; done | xargs)"
check_eq "buf4k: saving_share above 1%" true \
    "$(json_get "$TMP/j-buf4k.json" '.sites[] | select(.key == "render_buf") | .saving_share > 0.01')"

# Seeds, case 2, alone: a 16 B struct; a thread-local list beats malloc -> pool.
judge_run event16
check_eq "event16: pool, per-thread, 1 x 16" "pool per-thread 1 16" \
    "$(for f in verdict pool_kind capacity_per_thread object_bytes; do jsite event16 make_event $f; done | xargs)"

# Seeds, case 3, alone (payload under 1 KiB, 1 in 1000 at 1 MiB) -> pool-capped at 1 KiB.
# shellcheck disable=SC2086
judge_run frames $SHAPE
check_eq "frames: pool-capped, cap 1024, block 1024, drop above 1024" \
    "pool-capped per-thread 1024 1024 1024" \
    "$(for f in verdict pool_kind cap_bytes object_bytes drop_above_bytes; do jsite frames decode_frame $f; done | xargs)"
check_eq "frames: 0.1% above the cap" "$((N / 1000))" \
    "$(json_get "$TMP/j-frames.json" ".sites[] | select(.key == \"decode_frame\") | .above_cap_share * $N | round")"
check_eq "frames: the capped pool saves time" true \
    "$(json_get "$TMP/j-frames.json" '.sites[] | select(.key == "decode_frame") | .saving_ns > 0')"

# Exercise 11's profile (50% < 1 KiB, 30% 1-16 KiB, 20% 16-256 KiB) -> three 16x tiers.
# shellcheck disable=SC2086
judge_run classes $SHAPE
check_eq "classes: tiered" tiered "$(jsite classes class_buf verdict)"
check_eq "classes: tiers (bound, block, share)" '[[1024,1024,0.5],[16384,16384,0.3],[262144,262144,0.2]]' \
    "$(json_get "$TMP/j-classes.json" '[.sites[] | select(.key == "class_buf") | .tiers[]
        | [.upper_bytes, .block_bytes, (.share * 10 | round / 10)]] | tojson')"
check_eq "classes: drop above the top tier" 262144 "$(jsite classes class_buf drop_above_bytes)"

# "Is there a simpler fix? Pre-sizing": 16 B doubled to 64 KiB -> presize 64K, then pool.
judge_run grow
check_eq "grow: presize 65536" "presize 65536" \
    "$(jsite grow grow_body verdict) $(jsite grow grow_body presize_bytes)"
check_eq "grow: 12 growing reallocs per block" $((12 * N)) "$(jsite grow grow_body realloc_calls_saved)"
# shellcheck disable=SC2086
report_to "$TMP/j-grow.shape.json" $SHAPE "$TMP/j-grow.bin"
check_eq "grow: then pool (per-thread, 1 x 64K)" '{"verdict":"pool","pool_kind":"per-thread","capacity_per_thread":1,"object_bytes":65536}' \
    "$(json_get "$TMP/j-grow.shape.json" '.sites[] | select(.key == "grow_body") | .then
        | {verdict, pool_kind, capacity_per_thread, object_bytes} | tojson')"
"$REPORT" $SHAPE "$TMP/j-grow.bin" >"$TMP/j-grow.txt" 2>&1
check "grow: text says presize 64K, then pool (per-thread, 1 x 64K)" \
    grep -q "presize 64K, then pool (per-thread, 1 x 64K)" "$TMP/j-grow.txt"

# Issue 9: 64 KiB blocks, 3 in flight: glibc's trim cliff -> a pool of 3 saves most of the run.
judge_run inflight3
check_eq "inflight3: pool of 3 x 64 KiB" "pool per-thread 3 65536 196608" \
    "$(for f in verdict pool_kind capacity_per_thread object_bytes pool_bytes; do jsite inflight3 big_scratch $f; done | xargs)"

# Producer/consumer: every block freed by the other thread -> the pool would be shared, and a
# locked list on two threads costs more than glibc's malloc (the cost model's shared2 column).
judge_run handoff
check_eq "handoff: every block freed by another thread" $N "$(jsite handoff handoff_buf cross_thread_frees)"
check_eq "handoff: no-pool, slower than malloc" "no-pool slower than malloc" \
    "$(jsite handoff handoff_buf verdict) $(jsite handoff handoff_buf reason)"

# Exercise 2: occasional huge inputs -> pool-capped, dropping what is over the bulk's 64 KiB.
judge_run ex2
check_eq "ex2: pool-capped at 64 KiB" "pool-capped 65536 65536" \
    "$(for f in verdict cap_bytes drop_above_bytes; do jsite ex2 process_input $f; done | xargs)"

# Exercises 6 and 8, and two threads: per-thread pools (sync.Pool's per-P), never one shared.
for c in threads2:thread_buf ex8:scratch_4k ex6:decoder_scratch; do
    judge_run "${c%%:*}"
    check_eq "${c%%:*}: pool, per-thread" "pool per-thread" \
        "$(jsite "${c%%:*}" "${c#*:}" verdict) $(jsite "${c%%:*}" "${c#*:}" pool_kind)"
done
# Per-thread facts (trace v1.1, STACK_THREADS): each thread holds its own peak, not the sum.
check_eq "threads2: 2 threads x 1 block of 4 KiB" "2 1 8192" \
    "$(for f in threads capacity_per_thread pool_bytes; do jsite threads2 thread_buf $f; done | xargs)"
check_eq "threads2: the site's peak is the sum over its threads" 2 "$(jsite threads2 thread_buf peak_live)"
check_eq "ex8: 2 threads x 1 block" "2 1" \
    "$(jsite ex8 scratch_4k threads) $(jsite ex8 scratch_4k capacity_per_thread)"
check_eq "ex6: 4 threads x 4 decoders x 64 KiB" "4 4 1048576" \
    "$(for f in threads capacity_per_thread pool_bytes; do jsite ex6 decoder_scratch $f; done | xargs)"
check_eq "trace version 1.1" 1.1 "$(json_get "$TMP/j-ex6.json" '.processes[0].trace_version')"
# Exercise 6: the memory all the per-thread pools hold is given, and flagged when large.
report_to "$TMP/j-ex6.small.json" -t max_pool_bytes=65536 "$TMP/j-ex6.bin"
check_eq "ex6: pool_bytes_large over max_pool_bytes" "true false" \
    "$(site_field "$TMP/j-ex6.small.json" decoder_scratch pool_bytes_large) $(jsite ex6 decoder_scratch pool_bytes_large)"

# A tree of 256 small nodes built and freed at once per request -> an arena of 256 x 48 B.
judge_run tree
check_eq "tree: arena of 256 x 48 B" "arena 12288" \
    "$(jsite tree tree_node verdict) $(jsite tree tree_node arena_bytes)"

# Exercises 10 and 12: pools of the program's own, marked with include/poolprobe.h. Foo is hit
# 4 times in 50 gets at ~100 gets/s: "10 saved allocations/sec. Negligible" -> remove.
profiled "judge-ownpools" "$TMP/j-own.bin" -- "$WORKLOADS/judge" ownpools 20000
report_to "$TMP/j-own.json" "$TMP/j-own.bin"
check_eq "ownpools: each pool's counts and verdict" \
    '[["buffers",20000,19999,1,20000,"keep"],["foo",50,4,46,50,"remove"],["frames",40000,19999,20001,40000,"resize"]]' \
    "$(json_get "$TMP/j-own.json" '[.pools | sort_by(.name)[] | [.name, .gets, .hits, .misses, .puts, .verdict]] | tojson')"
check_eq "ownpools: hit rates" '[0.99995,0.08,0.499975]' \
    "$(json_get "$TMP/j-own.json" '[.pools | sort_by(.name)[].hit_rate] | tojson')"
"$REPORT" "$TMP/j-own.bin" >"$TMP/j-own.txt"
check "ownpools: text lists foo as remove" grep -q '^  remove  foo ' "$TMP/j-own.txt"
check_eq "ownpools: the same output without the shim" "$(cat "$TMP/judge-ownpools.out")" \
    "$("$WORKLOADS/judge" ownpools 20000)"
check_eq "a program without markers has no pools" '[]' "$(json_get "$TMP/j-buf4k.json" '.pools | tojson')"

# The cost model: a table the user measured is used and named; a broken one is refused.
mkdir -p "$TMP/cache/poolprobe"
{
    printf '# poolprobe cost model 1\n# allocator\tglibc test\n# machine\ttest machine\n'
    printf 'size\tin_flight\tmalloc_ns\ttls_ns\tshared1_ns\tshared2_ns\n'
    printf '16\t1\t1000\t1\t2\t3\n1048576\t1\t1000\t1\t2\t3\n'
} >"$TMP/cache/poolprobe/costmodel-glibc.tsv"
XDG_CACHE_HOME=$TMP/cache report_to "$TMP/j-cache.json" "$TMP/j-buf4k.bin"
check_eq "cache table: named in cost_model.source" "$TMP/cache/poolprobe/costmodel-glibc.tsv (glibc test, test machine)" \
    "$(json_get "$TMP/j-cache.json" .cost_model.source)"
check_eq "cache table: 999 ns saved per hit" "$((999 * (N - 1)))" \
    "$(json_get "$TMP/j-cache.json" '.sites[] | select(.key == "render_buf") | .saving_ns | round')"
echo "size	in_flight" >"$TMP/cache/poolprobe/costmodel-glibc.tsv"
XDG_CACHE_HOME=$TMP/cache "$REPORT" -f json "$TMP/j-buf4k.bin" >"$TMP/j-bad.json" 2>"$TMP/j-bad.err"
check "broken cache table: warned about, by name" grep -q "costmodel-glibc.tsv: line 1: expected the column header" "$TMP/j-bad.err"
check_eq "broken cache table: the built-in one is used" built-in \
    "$(json_get "$TMP/j-bad.json" '.cost_model.source[0:8]')"

LIB_FINISHED=1
