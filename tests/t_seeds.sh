#!/usr/bin/env bash
# t_seeds.sh — the three cases of the seed article, counted exactly per site.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/seeds"

N=3000 # requests: 3 of them carry a 1 MiB frame
"$WORKLOADS/seeds" $N >"$TMP/plain.out"
profiled seeds "$TMP/seeds.bin" -- "$WORKLOADS/seeds" $N
check "seeds: same output with and without the shim" cmp "$TMP/plain.out" "$TMP/seeds.out"
report_to "$TMP/seeds.json" "$TMP/seeds.bin"
J=$TMP/seeds.json

# Case 1: a 4 KiB buffer per request.
check_site "$J" render_buf $N $N 4096
check_eq "render_buf live_at_exit" 0 "$(site_field "$J" render_buf live_at_exit)"
check_eq "render_buf peak_live" 1 "$(site_field "$J" render_buf peak_live)"

# Case 2: three 16-byte events per request, each freed at once by the caller.
check_site "$J" make_event $((3 * N)) $((3 * N)) 16
check_eq "make_event live_at_exit" 0 "$(site_field "$J" make_event live_at_exit)"
check_eq "make_event peak_live" 1 "$(site_field "$J" make_event peak_live)"

# Case 3: frames of 1 B .. 1 KiB, and a 1 MiB one every 1000 requests.
check_eq "decode_frame allocs" $N "$(site_field "$J" decode_frame allocs)"
check_eq "decode_frame frees" $N "$(site_field "$J" decode_frame frees)"
check_eq "decode_frame size.min" 1 "$(site_field "$J" decode_frame size.min)"
check_eq "decode_frame size.max" 1048576 "$(site_field "$J" decode_frame size.max)"
check_eq "decode_frame p50 within 1..1024" true \
    "$(json_get "$J" "[.sites[] | select(.frames[0].function == \"decode_frame\") | .size.p50]
        | length == 1 and .[0] >= 1 and .[0] <= 1024")"
check_eq "decode_frame p99 not above max" true \
    "$(json_get "$J" "[.sites[] | select(.frames[0].function == \"decode_frame\")][0]
        | .size.p99 <= .size.max and .size.p95 <= .size.p99 and .size.p50 <= .size.p95")"
check_eq "decode_frame live_at_exit" 0 "$(site_field "$J" decode_frame live_at_exit)"

# The frame above the allocating function is the caller named in the source.
check_eq "render_buf frames[1] is handle_request" handle_request \
    "$(json_get "$J" '[.sites[] | select(.frames[0].function == "render_buf")][0].frames[1].function')"
check_eq "render_buf frames[0].file" seeds.c \
    "$(json_get "$J" '[.sites[] | select(.frames[0].function == "render_buf")][0].frames[0].file
        | split("/") | last')"
check_eq "no site in handle_request or main" 0 \
    "$(json_get "$J" '[.sites[] | select(.frames[0].function == "handle_request"
        or .frames[0].function == "main")] | length')"

# The process and the totals.
check_eq "one process" 1 "$(json_get "$J" '.processes | length')"
check_eq "process command" "$WORKLOADS/seeds $N" "$(json_get "$J" '.processes[0].command')"
check_eq "process pid is a number" number "$(json_get "$J" '.processes[0].pid | type')"
check_eq "totals cover the three sites" true \
    "$(json_get "$J" ".totals.allocs >= $((5 * N)) and .totals.frees >= $((5 * N))")"
check_eq "totals.allocs is the sum over sites" true \
    "$(json_get "$J" '.totals.allocs == ([.sites[].allocs] | add)')"

# A shallow stack limit still finds the allocating function.
profiled depth4 "$TMP/depth4.bin" -- env POOLPROBE_DEPTH=4 "$WORKLOADS/seeds" 200
report_to "$TMP/depth4.json" "$TMP/depth4.bin"
check_eq "POOLPROBE_DEPTH=4: render_buf allocs" 200 "$(site_field "$TMP/depth4.json" render_buf allocs)"
check_eq "POOLPROBE_DEPTH=4: make_event allocs" 600 "$(site_field "$TMP/depth4.json" make_event allocs)"

# Where the trace goes: trace.bin in the working directory by default; %p is the pid.
mkdir "$TMP/cwd"
(cd "$TMP/cwd" && LD_PRELOAD=$SHIM "$WORKLOADS/keeper" 10 >"$TMP/keeper.out")
check "default trace file is ./trace.bin" test -s "$TMP/cwd/trace.bin"
check_eq "nothing else written in the working directory" trace.bin "$(ls "$TMP/cwd")"
pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$TMP/keeper.out")
profile "$TMP/pct.%p.bin" -- "$WORKLOADS/keeper" 10 >"$TMP/keeper.out"
pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$TMP/keeper.out")
check "POOLPROBE_OUT %p expands to the pid" test -s "$TMP/pct.$pid.bin"
check_eq "trace file mode is 0600" 600 "$(stat -c %a "$TMP/cwd/trace.bin")"
