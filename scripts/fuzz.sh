#!/usr/bin/env bash
# fuzz.sh — run the trace-reader fuzz target (tests/fuzz/fuzz_trace.c) for a bounded time.
#
# The corpus (build/fuzz/corpus) is seeded from real traces: the golden traces, and traces of
# the workloads recorded here by the shim. Crashes land in tests/fuzz/crashes/ (commit them:
# tests/t_fuzz_regressions.sh replays every file there). FUZZ_SECONDS (default 60) bounds the run.
set -eu
export LC_ALL=C
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
corpus=build/fuzz/corpus
mkdir -p "$corpus" tests/fuzz/crashes
cp tests/golden/*.bin "$corpus/"
for w in seeds verdicts prodcons keeper allsyms; do
    if [ -x "build/workloads/$w" ]; then
        LD_PRELOAD="$PWD/build/libpoolprobe.so" POOLPROBE_OUT="$corpus/$w.bin" \
            "build/workloads/$w" 50 >/dev/null 2>&1 || true
    fi
done
echo "fuzz: $(find "$corpus" -type f | wc -l | tr -d ' ') corpus files, ${seconds}s"
build/fuzz/fuzz_trace -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix=tests/fuzz/crashes/ "$corpus" 2>&1 | tail -n 25
