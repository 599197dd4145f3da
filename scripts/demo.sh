#!/usr/bin/env bash
# demo.sh — `make demo`: run the bundled request-server demo under the shim and show the report.
#
# Usage: scripts/demo.sh [requests]   (default: the demo's own, 20000)
# The trace is kept as build/demo.trace, so `build/poolprobe-report build/demo.trace` (or with
# --format json) can be run again afterwards. The same report is also written as a flame-graph
# input (build/demo.folded), a pprof profile (build/demo.pb.gz) and a page (build/demo.html).
set -euo pipefail
cd "$(dirname "$0")/.."

shim=build/libpoolprobe.so
report=build/poolprobe-report
demo=build/workloads/demo
for f in "$shim" "$report" "$demo"; do
    if [ ! -x "$f" ] && [ ! -f "$f" ]; then
        echo "demo: $f is missing; run 'make demo' (or make all $demo)" >&2
        exit 2
    fi
done

trace=build/demo.trace
rm -f "$trace"
echo "\$ LD_PRELOAD=$shim POOLPROBE_OUT=$trace $demo${*:+ $*}"
LD_PRELOAD="$PWD/$shim${LD_PRELOAD:+:$LD_PRELOAD}" POOLPROBE_OUT="$trace" "$demo" "$@"
if [ ! -s "$trace" ]; then
    echo "demo: the shim wrote no trace to $trace" >&2
    exit 1
fi
echo
echo "\$ $report $trace"
"$report" "$trace"
echo
"$report" --format folded "$trace" >build/demo.folded
"$report" --format pprof "$trace" >build/demo.pb.gz
"$report" --format html "$trace" >build/demo.html
echo "demo: also written: build/demo.html (open it in a browser), build/demo.folded"
echo "      (flamegraph.pl, inferno, speedscope) and build/demo.pb.gz (go tool pprof)"
