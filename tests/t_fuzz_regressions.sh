#!/usr/bin/env bash
# t_fuzz_regressions.sh — replay what fuzzing found through the sanitized analyzer.
#
# tests/fuzz/corpus/  inputs libFuzzer kept because they reach new code in the reader and the
#                     analyzer (a merged corpus of `make fuzz`, files without local paths)
# tests/fuzz/crashes/ inputs that once crashed it (make fuzz writes them there; commit them)
# Each must give exit 0 or 2 from the ASan+UBSan build of poolprobe-report, never a sanitizer
# report or a signal; exit 2 must come with a "poolprobe-report: error: FILE: ..." line.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$REPORT_ASAN"

replay() { # replay FILE
    local f=$1 rc=0
    ASAN_OPTIONS=detect_leaks=1 "$REPORT_ASAN" --format json "$f" >/dev/null 2>"$TMP/err" || rc=$?
    if grep -q -e "Sanitizer" -e "runtime error" "$TMP/err"; then
        record FAIL "FAIL - ${f#tests/fuzz/}: sanitizer report"
        sed 's/^/#   /' "$TMP/err" | head -15
    elif [ "$rc" = 0 ]; then
        record ok "ok - ${f#tests/fuzz/}: read"
    elif [ "$rc" = 2 ] && grep -q "^poolprobe-report: error: $f: " "$TMP/err"; then
        record ok "ok - ${f#tests/fuzz/}: refused cleanly"
    else
        record FAIL "FAIL - ${f#tests/fuzz/}: exit $rc: $(head -c 200 "$TMP/err")"
    fi
}

n=0
for f in tests/fuzz/corpus/* tests/fuzz/crashes/*; do
    [ -f "$f" ] || continue
    replay "$f"
    n=$((n + 1))
done
check "replayed the committed fuzz corpus" test "$n" -ge 10

LIB_FINISHED=1
