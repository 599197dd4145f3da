#!/usr/bin/env bash
# t_keeper.sh — blocks never freed are live at exit; blocks freed at once are not.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/keeper"

K=1000
profiled keeper "$TMP/k.bin" -- "$WORKLOADS/keeper" $K
report_to "$TMP/k.json" "$TMP/k.bin"
J=$TMP/k.json

check_site "$J" keep_forever $K 0 100
check_eq "keep_forever live_at_exit" $K "$(site_field "$J" keep_forever live_at_exit)"
check_eq "keep_forever peak_live" $K "$(site_field "$J" keep_forever peak_live)"
check_site "$J" scratch $K $K 24
check_eq "scratch live_at_exit" 0 "$(site_field "$J" scratch live_at_exit)"
check_eq "scratch peak_live" 1 "$(site_field "$J" scratch peak_live)"
check_eq "keeper command line" "$WORKLOADS/keeper $K" "$(json_get "$J" '.processes[0].command')"
pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$TMP/keeper.out")
check_eq "keeper pid" "$pid" "$(json_get "$J" '.processes[0].pid')"
check_eq "keeper duration_ns > 0" true "$(json_get "$J" '.processes[0].duration_ns > 0')"
