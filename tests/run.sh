#!/usr/bin/env bash
# tests/run.sh — run every test and end with one line: "N passed, N failed, N skipped".
#
#   1. every unit test program build/tests/test_* (built by `make check-build`): its own closing
#      "N passed, N failed" line is added to the totals (and shown as "# test_x: ..."); a program
#      without that line counts as one test, passed when it exits 0;
#   2. every integration test tests/t_*.sh (see tests/lib.sh), or only those named on the
#      command line: tests/run.sh t_seeds t_fork
#
# Each program gets a time limit (POOLPROBE_TEST_TIMEOUT seconds, default 180), so a hang is a
# failure, not a stuck CI job. Checks a test skipped (a tool it needs is missing; see skip in
# tests/lib.sh) are listed with their reasons before the closing line; with CI=true a skip is
# recorded as a failure instead. Exit status: 0 when nothing failed, 1 otherwise.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2

limit=${POOLPROBE_TEST_TIMEOUT:-180}
work=$(mktemp -d -t poolprobe-run.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
export POOLPROBE_RESULTS=$work/results
: >"$POOLPROBE_RESULTS"

passed=0
failed=0
summary_re='^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$'

with_limit() {
    if command -v timeout >/dev/null 2>&1; then
        timeout -k 10 "$limit" "$@"
    else
        "$@"
    fi
}

run_unit() { # run_unit PROGRAM
    local prog=$1 name rc=0 line p f s
    name=$(basename "$prog")
    echo "# $name"
    with_limit "$prog" >"$work/unit.out" 2>&1 || rc=$?
    line=$(grep -E "$summary_re" "$work/unit.out" | tail -n 1 || true)
    sed -E "s/$summary_re/# $name: &/" "$work/unit.out"
    if [[ $line =~ $summary_re ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[4]:-0}
        for ((; s > 0; s--)); do
            echo "skip $name: a check it skipped (see its output above)" >>"$POOLPROBE_RESULTS"
        done
        # A crash after the summary, or a nonzero status with no failure counted, still fails.
        if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
    elif [ "$rc" = 0 ]; then
        p=1 f=0
    else
        p=0 f=1
    fi
    if [ "$rc" != 0 ]; then echo "FAIL - $name exited with status $rc"; fi
    passed=$((passed + p))
    failed=$((failed + f))
}

run_script() { # run_script tests/t_x.sh
    local script=$1 name rc=0 before after
    name=$(basename "$script" .sh)
    echo "# $name"
    before=$(grep -c '^FAIL ' "$POOLPROBE_RESULTS" || true)
    with_limit bash "$script" </dev/null || rc=$?
    after=$(grep -c '^FAIL ' "$POOLPROBE_RESULTS" || true)
    if [ "$rc" != 0 ] && [ "$before" = "$after" ]; then
        # Killed before it could record anything (timeout, signal): still a failure.
        echo "FAIL - $name exited with status $rc"
        echo "FAIL $name: exited with status $rc" >>"$POOLPROBE_RESULTS"
    fi
}

if [ $# -eq 0 ]; then
    for prog in build/tests/test_*; do
        if [ ! -f "$prog" ] || [ ! -x "$prog" ]; then continue; fi
        case $prog in *.d | *.o) continue ;; esac
        run_unit "$prog"
    done
    scripts=(tests/t_*.sh)
else
    scripts=()
    for t in "$@"; do scripts+=("tests/${t%.sh}.sh"); done
fi

for script in "${scripts[@]}"; do
    if [ -f "$script" ]; then
        run_script "$script"
    elif [ "$script" != "tests/t_*.sh" ]; then
        echo "FAIL - $script: no such test"
        echo "FAIL $script: no such test" >>"$POOLPROBE_RESULTS"
    fi
done

passed=$((passed + $(grep -c '^ok ' "$POOLPROBE_RESULTS" || true)))
failed=$((failed + $(grep -c '^FAIL ' "$POOLPROBE_RESULTS" || true)))
skipped=$(grep -c '^skip ' "$POOLPROBE_RESULTS" || true)
if [ "$skipped" != 0 ]; then
    echo "# skipped (not checked on this machine):"
    sed -n 's/^skip /#   /p' "$POOLPROBE_RESULTS"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
