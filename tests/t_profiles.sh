#!/usr/bin/env bash
# t_profiles.sh — the standard profile formats: --format folded (flame-graph tools) and
# --format pprof (go tool pprof, Pyroscope, Parca), on one trace and on traces merged from
# several processes: every line or sample accounted for, totals equal to the trace's.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/demo"
command -v protoc >/dev/null || { record FAIL "FAIL - t_profiles needs protoc (scripts/install-deps.sh)"; exit 1; }

profile "$TMP/a.bin" -- "$WORKLOADS/demo" 3000 >/dev/null
profile "$TMP/b.bin" -- "$WORKLOADS/demo" 1000 >/dev/null
"$REPORT" -f json -g stack "$TMP/a.bin" >"$TMP/a.json"
"$REPORT" -f json -g stack "$TMP/a.bin" "$TMP/b.bin" >"$TMP/ab.json"
total() { json_get "$1" "$2"; } # total JSON FILTER
sum_folded() { awk '{ s += $NF } END { print s + 0 }' "$1"; }

# --- folded --------------------------------------------------------------------------------------
"$REPORT" -f folded "$TMP/a.bin" >"$TMP/a.folded"
check_eq "folded: every line is 'frame;frame;... COUNT'" 0 \
    "$(grep -cvE '^[^ ;][^;]*(;[^;]+)* [1-9][0-9]*$' "$TMP/a.folded" || true)"
check_eq "folded: one line per stack" "$(total "$TMP/a.json" '[.sites[] | select(.allocs > 0)] | length')" \
    "$(wc -l <"$TMP/a.folded" | tr -d ' ')"
check_eq "folded: allocation counts add up to the trace's total" \
    "$(total "$TMP/a.json" .totals.allocs)" "$(sum_folded "$TMP/a.folded")"
check_eq "folded: render_buf's stack, outermost first, its 3000 allocations" 1 \
    "$(grep -c ';main;handle_request;render_buf 3000$' "$TMP/a.folded")"
"$REPORT" -f folded --folded-value bytes "$TMP/a.bin" >"$TMP/a.bytes"
check_eq "folded bytes: add up to the trace's bytes" "$(total "$TMP/a.json" .totals.bytes)" \
    "$(sum_folded "$TMP/a.bytes")"
check_eq "folded bytes: render_buf 3000 x 4096" 1 \
    "$(grep -c ';render_buf 12288000$' "$TMP/a.bytes")"
"$REPORT" -f folded --folded-value live-bytes "$TMP/a.bin" >"$TMP/a.live"
check_eq "folded live-bytes: add up to the bytes live at the end" \
    "$(total "$TMP/a.json" '[.sites[].live_bytes_at_exit] | add')" "$(sum_folded "$TMP/a.live")"
check_eq "folded live-bytes: cache_put's 512 x 64 B kept to the end" 1 \
    "$(grep -c ';cache_put 32768$' "$TMP/a.live")"
check_eq "folded live-bytes: render_buf (all freed) left out" 0 "$(grep -c ';render_buf ' "$TMP/a.live" || true)"
"$REPORT" -f folded "$TMP/a.bin" "$TMP/b.bin" >"$TMP/ab.folded"
check_eq "folded, two processes merged: counts add up to both totals" \
    "$(total "$TMP/ab.json" .totals.allocs)" "$(sum_folded "$TMP/ab.folded")"
check_eq "folded, merged: render_buf 3000 + 1000" 1 \
    "$(grep -c ';main;handle_request;render_buf 4000$' "$TMP/ab.folded")"

# --- pprof ---------------------------------------------------------------------------------------
decode() { # decode PROFILE.pb.gz: protoc's text form on stdout
    gunzip -c "$1" | protoc --decode perftools.profiles.Profile --proto_path analyzer analyzer/profile.proto
}
# Sum of each sample value column, and the sample types by name: "alloc_objects/count=N ...".
pprof_totals() {
    awk '
        BEGIN { n = 0; nt = 0 }
        /^string_table: / { s = $0; sub(/^string_table: "/, "", s); sub(/"$/, "", s); str[n++] = s }
        /^sample_type \{/ { in_type = 1; next }
        in_type && /type:/ { t[nt] = $2 }
        in_type && /unit:/ { u[nt] = $2 }
        in_type && /^\}/ { in_type = 0; nt++ }
        /^sample \{/ { in_sample = 1; k = 0; next }
        in_sample && /^  value:/ { v[k++] += $2 }
        in_sample && /^\}/ { in_sample = 0 }
        END { for (i = 0; i < nt; i++) printf "%s%s/%s=%d", i ? " " : "", str[t[i]], str[u[i]], v[i]; print "" }
    ' "$1"
}
"$REPORT" -f pprof "$TMP/a.bin" >"$TMP/a.pb.gz"
check_eq "pprof: a gzip file" "1f8b" "$(head -c 2 "$TMP/a.pb.gz" | od -An -tx1 | tr -d ' \n')"
decode "$TMP/a.pb.gz" >"$TMP/a.txt" 2>"$TMP/decode.err" || true
check_eq "pprof: decodes with protoc against profile.proto" "" "$(cat "$TMP/decode.err")"
live_count=$(total "$TMP/a.json" '[.sites[].live_at_exit] | add')
live_bytes=$(total "$TMP/a.json" '[.sites[].live_bytes_at_exit] | add')
check_eq "pprof: the four sample types and their totals" \
    "alloc_objects/count=$(total "$TMP/a.json" .totals.allocs) alloc_space/bytes=$(total "$TMP/a.json" .totals.bytes) inuse_objects/count=$live_count inuse_space/bytes=$live_bytes" \
    "$(pprof_totals "$TMP/a.txt")"
check_eq "pprof: one sample per stack" "$(total "$TMP/a.json" .site_count)" \
    "$(grep -c '^sample {' "$TMP/a.txt")"
check "pprof: functions are named (render_buf)" grep -q '^string_table: "render_buf"$' "$TMP/a.txt"
check "pprof: with their source file" grep -q '^string_table: "tests/workloads/demo.c"$' "$TMP/a.txt"
check "pprof: the demo's module is a mapping with its build-id" \
    sh -c "grep -A8 '^mapping {' '$TMP/a.txt' | grep -q 'build_id: [1-9]'"
check "pprof: string 0 is empty" sh -c "grep -m1 '^string_table:' '$TMP/a.txt' | grep -qx 'string_table: \"\"'"
"$REPORT" -f pprof "$TMP/a.bin" "$TMP/b.bin" >"$TMP/ab.pb.gz"
decode "$TMP/ab.pb.gz" >"$TMP/ab.txt"
check_eq "pprof, merged: allocations of both" "alloc_objects/count=$(total "$TMP/ab.json" .totals.allocs)" \
    "$(pprof_totals "$TMP/ab.txt" | cut -d' ' -f1)"

# --- what does not go with them ------------------------------------------------------------------
check_option_refused "--folded-value without folded" "--folded-value is for --format folded" \
    --folded-value bytes "$TMP/a.bin"
check_option_refused "--format folded --group-by site" "profiles are by call stack" -f folded -g site "$TMP/a.bin"
check_option_refused "--format pprof --top" "--top do not apply" -f pprof --top 3 "$TMP/a.bin"
check_option_refused "unknown --folded-value" "unknown --folded-value 'frees'" -f folded --folded-value frees "$TMP/a.bin"
script -qec "'$REPORT' -f pprof '$TMP/a.bin'" /dev/null >"$TMP/tty.out" || true
check "pprof to a terminal: refused, says to redirect" grep -q 'redirect it to a file' "$TMP/tty.out"

# --- make demo writes both ------------------------------------------------------------------------
scripts/demo.sh 1000 >/dev/null 2>&1
"$REPORT" -f json build/demo.trace >"$TMP/demo.json"
check_eq "make demo: build/demo.folded adds up to the demo's allocations" \
    "$(total "$TMP/demo.json" .totals.allocs)" "$(sum_folded build/demo.folded)"
decode build/demo.pb.gz >"$TMP/demo.txt"
check_eq "make demo: build/demo.pb.gz holds the demo's allocations" \
    "alloc_objects/count=$(total "$TMP/demo.json" .totals.allocs)" \
    "$(pprof_totals "$TMP/demo.txt" | cut -d' ' -f1)"
check "make demo: build/demo.html is the HTML report" grep -q '^<!DOCTYPE html>' build/demo.html
