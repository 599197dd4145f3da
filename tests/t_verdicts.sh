#!/usr/bin/env bash
# t_verdicts.sh — the checklist's verdicts on sites whose answer can be argued from the seeds,
# asserted exactly, with the numbers needed to act; and the same verdicts at 10x the run length
# (a verdict that flips with run length is a bug).
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/verdicts" "$WORKLOADS/seeds"

for N in 3000 30000; do
    profiled "verdicts-$N" "$TMP/v$N.bin" -- "$WORKLOADS/verdicts" $N
    report_to "$TMP/v$N.json" "$TMP/v$N.bin"
    J=$TMP/v$N.json

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

    # A scratch buffer freed where it was allocated: automatic storage beats any pool.
    check_eq "N=$N scratch_buf verdict" stack "$(site_field "$J" scratch_buf verdict)"

    # Kept until exit, and called once per 1000 requests.
    check_eq "N=$N keep_entry verdict" no-pool "$(site_field "$J" keep_entry verdict)"
    check_eq "N=$N keep_entry reason" retained "$(site_field "$J" keep_entry reason)"
    check_eq "N=$N keep_entry live_at_exit" $N "$(site_field "$J" keep_entry live_at_exit)"
    check_eq "N=$N rare_buf verdict" no-pool "$(site_field "$J" rare_buf verdict)"
    check_eq "N=$N rare_buf reason" "too rare" "$(site_field "$J" rare_buf reason)"
    check_eq "N=$N rare_buf allocs" $((N / 1000)) "$(site_field "$J" rare_buf allocs)"

    # Every check row has the documented fields.
    check_eq "N=$N check rows complete" true "$(json_get "$J" '[.sites[].checks[]
        | has("name") and has("pass") and has("value") and has("threshold") and has("why")]
        | all')"
done

# The seeds' three benchmark cases (seeds.c).
for N in 3000 30000; do
    profiled "seeds-$N" "$TMP/s$N.bin" -- "$WORKLOADS/seeds" $N
    report_to "$TMP/s$N.json" "$TMP/s$N.bin"
    J=$TMP/s$N.json
    # Case 1: a 4 KiB buffer per request, handed to the caller: pool, 1 object of 4096 B.
    check_eq "N=$N render_buf verdict" pool "$(site_field "$J" render_buf verdict)"
    check_eq "N=$N render_buf capacity" 1 "$(site_field "$J" render_buf capacity)"
    check_eq "N=$N render_buf object_bytes" 4096 "$(site_field "$J" render_buf object_bytes)"
    check_eq "N=$N render_buf retained_bytes" 4096 "$(site_field "$J" render_buf retained_bytes)"
    check_eq "N=$N render_buf hit_rate" "$(((N - 1) * 1000000 / N))" \
        "$(json_get "$J" '.sites[] | select(.key == "render_buf") | .hit_rate * 1000000 | floor')"
    # Case 2: a 16-byte struct: the allocator's fast path is as cheap as a pool.
    check_eq "N=$N make_event verdict" no-pool "$(site_field "$J" make_event verdict)"
    check_eq "N=$N make_event reason" "too small" "$(site_field "$J" make_event reason)"
    # Case 3 as the article has it (1 B..1 KiB, rare 1 MiB): in C the sizes are too spread and
    # the bulk is in glibc's per-thread cache range anyway.
    check_eq "N=$N decode_frame verdict" no-pool "$(site_field "$J" decode_frame verdict)"
    check_eq "N=$N decode_frame reason" "sizes too spread" "$(site_field "$J" decode_frame reason)"
done

# Text: recommendations come first, then the table; --site explains one site.
"$REPORT" "$TMP/v3000.bin" >"$TMP/text.out"
check_eq "text starts with recommendations" "Recommendations, most allocations saved first:" \
    "$(sed -n 6p "$TMP/text.out")"
check_eq "text fits 80 columns" 0 "$(awk 'length > 80' "$TMP/text.out" | wc -l | tr -d ' ')"
check "text gives the capped pool's action" grep -q "dropping blocks over 4.0K B" "$TMP/text.out"
"$REPORT" --site frame_buf "$TMP/v3000.bin" >"$TMP/explain.out"
check "--site shows the size histogram" grep -q "size (bytes):" "$TMP/explain.out"
check "--site shows the what-if pool" grep -q "what-if free list" "$TMP/explain.out"
check_status "--site with no match exits 2" 2 "$REPORT" --site no_such_fn "$TMP/v3000.bin"

# Thresholds are overridable, and listed with their reasons.
"$REPORT" -f json -t big_enough_bytes=8192 "$TMP/s3000.bin" >"$TMP/big.json"
check_eq "--threshold big_enough_bytes=8192 turns render_buf into no-pool" "too small" \
    "$(site_field "$TMP/big.json" render_buf reason)"
check_status "--threshold with an unknown name exits 2" 2 "$REPORT" -t nope=1 "$TMP/s3000.bin"
check_status "--threshold with a bad value exits 2" 2 "$REPORT" -t min_share=x "$TMP/s3000.bin"
check "--list-thresholds names big_enough_bytes" sh -c "'$REPORT' --list-thresholds | grep -q big_enough_bytes"

# Sampling (1 call in 4, fixed seed): the same verdict as exact mode for every site holding 1%
# or more of the allocations, and the report says its figures are estimates.
profiled "verdicts-sampled" "$TMP/vs.bin" -- env POOLPROBE_SAMPLE=4 POOLPROBE_SAMPLE_SEED=7 \
    "$WORKLOADS/verdicts" 30000
report_to "$TMP/vs.json" "$TMP/vs.bin"
check_eq "sampled report is marked as estimates" true "$(json_get "$TMP/vs.json" .sampled)"
verdicts_of() { # verdicts_of JSON: "key verdict" of the sites holding >= 1% of allocations
    json_get "$1" '.totals.allocs as $all | [.sites[] | select(.allocs >= $all / 100)
        | "\(.key) \(.verdict)"] | sort | join(",")'
}
check_eq "sampled verdicts equal exact verdicts (sites >= 1%)" "$(verdicts_of "$TMP/v30000.json")" \
    "$(verdicts_of "$TMP/vs.json")"
"$REPORT" "$TMP/vs.bin" >"$TMP/vs.txt"
check "sampled text report says estimates" grep -q "estimate" "$TMP/vs.txt"

LIB_FINISHED=1
