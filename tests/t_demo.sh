#!/usr/bin/env bash
# t_demo.sh — scripts/demo.sh (make demo) runs and shows every demo site.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/demo"

rc=0
scripts/demo.sh 3000 >"$TMP/demo.out" 2>&1 || rc=$?
check_eq "demo.sh exits 0" 0 "$rc"
check "demo prints its line" grep -q '^demo: served 3000 requests' "$TMP/demo.out"
for site in render_buf make_event decode_frame grow_body cache_put; do
    check "demo report shows $site" grep -q "$site" "$TMP/demo.out"
done
report_to "$TMP/demo.json" build/demo.trace
check_eq "demo: grow_body allocs" 3000 "$(site_field "$TMP/demo.json" grow_body allocs)"
check_eq "demo: cache_put is live at exit" true \
    "$(json_get "$TMP/demo.json" '[.sites[] | select(.frames[0].function == "cache_put")][0]
        | .live_at_exit == .allocs and .allocs > 0')"
