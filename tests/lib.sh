# tests/lib.sh — the one setup file every tests/t_*.sh sources: `. "${0%/*}/lib.sh"`.
#
# It sets strict mode and the C locale, makes a private temp dir ($TMP, removed on exit), names
# the build products, and provides the helpers the tests are written in:
#
#   profile OUT -- CMD ARGS...     run CMD under the shim, writing its trace to OUT
#   report_json TRACE...           poolprobe-report --format json TRACE... on stdout
#   site_field JSON FUNC FIELD     FIELD (a jq path such as allocs or size.p50) of the one site
#                                  whose frames[0].function is FUNC ("FUNC(args)" for C++ also
#                                  matches); JSON is a file or a JSON text. Prints "no-site" when
#                                  none matches and "ambiguous:N" when N sites do.
#   json_get JSON FILTER           any jq filter on JSON (file or text), raw output
#   check NAME CMD...              ok when CMD exits 0
#   check_eq NAME EXPECTED ACTUAL  ok when the two strings are equal
#   check_refused NAME FILE REPORT ARGS...  poolprobe-report refuses FILE (exit 2, one line)
#   check_option_refused NAME MESSAGE ARGS... poolprobe-report refuses these options (exit 2)
#   skip NAME REASON               NAME was not checked, for REASON (a tool is missing): counted
#                                  as skipped, or as a failure when CI=true (CI installs every
#                                  tool, so a skip there means a check silently stopped running)
#
# Each check prints "ok - NAME", "FAIL - NAME (...)" or "skip - NAME (REASON)" and appends one
# line to the results file ($POOLPROBE_RESULTS, set by tests/run.sh). Run alone, a test prints
# its own "N passed, N failed, N skipped" at exit. A test that dies before its end (set -e, a
# signal) records that as one more failure.
#
# Tests run from the top of the tree; nothing here names a path outside it except $TMP.

# shellcheck shell=bash disable=SC2034  # the names set here are used by the tests
set -eu
set -o pipefail 2>/dev/null || true
export LC_ALL=C
unset POOLPROBE_OUT POOLPROBE_DEPTH

TEST_NAME=$(basename "$0" .sh)
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

B=build
SHIM=$TOP/$B/libpoolprobe.so
REPORT=$TOP/$B/poolprobe-report
REPORT_ASAN=$TOP/$B/asan/poolprobe-report
WORKLOADS=$TOP/$B/workloads

TMP=$(mktemp -d -t "poolprobe-$TEST_NAME.XXXXXX")
# Reports use the built-in cost tables, never a table the user measured (costmodel.h).
export XDG_CACHE_HOME=$TMP/no-cache

if [ -n "${POOLPROBE_RESULTS:-}" ]; then
    RESULTS=$POOLPROBE_RESULTS
    STANDALONE=0
else
    RESULTS=$TMP/results
    STANDALONE=1
fi
: >>"$RESULTS"
FAILED_HERE=0 # failures recorded by this script

record() { # record ok|FAIL LINE
    printf '%s\n' "$2"
    printf '%s %s: %s\n' "$1" "$TEST_NAME" "$2" >>"$RESULTS"
    if [ "$1" = FAIL ]; then FAILED_HERE=$((FAILED_HERE + 1)); fi
    return 0
}

lib_exit() {
    rc=$?
    trap - EXIT
    if [ "$rc" != 0 ] && [ "${LIB_FINISHED:-0}" != 1 ]; then
        record FAIL "FAIL - $TEST_NAME stopped early (exit status $rc)"
    fi
    if [ "$STANDALONE" = 1 ]; then
        passed=$(grep -c '^ok ' "$RESULTS" || true)
        failed=$(grep -c '^FAIL ' "$RESULTS" || true)
        skipped=$(grep -c '^skip ' "$RESULTS" || true)
        echo "$passed passed, $failed failed, $skipped skipped"
    fi
    rm -rf "$TMP"
    if [ "$FAILED_HERE" -gt 0 ]; then exit 1; fi
    exit 0
}
trap lib_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --- checks -----------------------------------------------------------------------------------

check_eq() { # check_eq NAME EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then
        record ok "ok - $1"
    else
        record FAIL "FAIL - $1 (expected $2, got $3)"
    fi
}

skip() { # skip NAME REASON
    if [ "${CI:-}" = true ]; then
        record FAIL "FAIL - $1 (skipped in CI, where every tool is installed: $2)"
    else
        record skip "skip - $1 ($2)"
    fi
}

check() { # check NAME CMD...
    local name=$1 rc=0
    shift
    "$@" >"$TMP/check.out" 2>&1 || rc=$?
    if [ "$rc" = 0 ]; then
        record ok "ok - $name"
    else
        record FAIL "FAIL - $name (exit $rc from: $*)"
        sed 's/^/#   /' "$TMP/check.out" | head -20
    fi
}

# check_status NAME EXPECTED_STATUS CMD...: the exit status of CMD (stdout/stderr discarded).
check_status() {
    local name=$1 want=$2 rc=0
    shift 2
    "$@" >/dev/null 2>&1 || rc=$?
    check_eq "$name" "$want" "$rc"
}

# check_refused NAME FILE REPORT ARGS...: REPORT ARGS... refuses FILE as poolprobe-report must:
# exit 2, one "poolprobe-report: error: FILE: ..." line on stderr, nothing on stdout, and no
# sanitizer report when REPORT is the ASan build. Leaves stderr in $TMP/bad.err.
check_refused() {
    local name=$1 f=$2 report=$3 rc=0
    shift 3
    "$report" "$@" >"$TMP/bad.out" 2>"$TMP/bad.err" || rc=$?
    check_eq "$name: exit 2" 2 "$rc"
    check "$name: 'poolprobe-report: error: FILE: ...' on stderr" \
        grep -q "^poolprobe-report: error: $f: ." "$TMP/bad.err"
    check_eq "$name: nothing on stdout" "" "$(head -c 200 "$TMP/bad.out")"
    if [ "$report" = "$REPORT_ASAN" ]; then
        check "$name: no sanitizer report" sh -c "! grep -q 'Sanitizer' '$TMP/bad.err'"
    fi
}

# check_option_refused NAME MESSAGE-PART ARGS...: poolprobe-report ARGS... refuses an option or a
# combination of options: exit 2, MESSAGE-PART in what it says on stderr, nothing on stdout.
check_option_refused() {
    local name=$1 want=$2 rc=0
    shift 2
    "$REPORT" "$@" >"$TMP/ref.out" 2>"$TMP/ref.err" || rc=$?
    check_eq "$name: exit 2" 2 "$rc"
    check "$name: says why" grep -qF -e "$want" "$TMP/ref.err"
    check_eq "$name: nothing on stdout" "" "$(cat "$TMP/ref.out")"
}

# Stops the test with one failure when a build product it needs is missing.
require() {
    local f
    for f in "$@"; do
        if [ ! -e "$f" ]; then
            record FAIL "FAIL - $TEST_NAME needs ${f#"$TOP"/}, which is not built (run make check-build)"
            LIB_FINISHED=1
            exit 1
        fi
    done
}

# --- running under the shim ---------------------------------------------------------------------

# profile OUT -- CMD ARGS...: CMD's status is profile's; stdout and stderr are CMD's.
profile() {
    local out=$1
    shift
    if [ "${1:-}" = "--" ]; then shift; fi
    LD_PRELOAD="$SHIM${LD_PRELOAD:+:$LD_PRELOAD}" POOLPROBE_OUT="$out" "$@"
}

report_json() { # report_json TRACE...
    "$REPORT" --format json "$@"
}

# jq on a file or on a JSON text.
jq_on() { # jq_on JSON JQ-ARGS...
    local json=$1
    shift
    if [ -f "$json" ]; then
        jq "$@" <"$json"
    else
        printf '%s' "$json" | jq "$@"
    fi
}

json_get() { # json_get JSON FILTER
    jq_on "$1" -r "$2"
}

site_field() { # site_field JSON FUNC FIELD
    jq_on "$1" -r --arg f "$2" "
        [ .sites[] | select(.frames[0].function as \$n
            | \$n == \$f or (\$n | startswith(\$f + \"(\"))) ] as \$m
        | if (\$m | length) == 0 then \"no-site\"
          elif (\$m | length) > 1 then \"ambiguous:\(\$m | length)\"
          else \$m[0].$3 | if . == null then \"null\" else tostring end end"
}

# The number of sites whose frames[0].function is FUNC.
site_count() { # site_count JSON FUNC
    jq_on "$1" -r --arg f "$2" '
        [ .sites[] | select(.frames[0].function as $n
            | $n == $f or ($n | startswith($f + "("))) ] | length'
}

# Every field of a constant-size site at once: allocs, frees, size min/max/p50.
check_site() { # check_site JSON FUNC ALLOCS FREES SIZE
    check_eq "$2 allocs" "$3" "$(site_field "$1" "$2" allocs)"
    check_eq "$2 frees" "$4" "$(site_field "$1" "$2" frees)"
    if [ -n "${5:-}" ]; then
        check_eq "$2 size.min" "$5" "$(site_field "$1" "$2" size.min)"
        check_eq "$2 size.max" "$5" "$(site_field "$1" "$2" size.max)"
        check_eq "$2 size.p50" "$5" "$(site_field "$1" "$2" size.p50)"
        check_eq "$2 bytes" "$(($3 * $5))" "$(site_field "$1" "$2" bytes)"
    fi
}

# profiled NAME OUT -- CMD ARGS...: run CMD under the shim with stdout in $TMP/NAME.out and
# stderr in $TMP/NAME.err; check that it exits 0, says nothing on stderr (the shim must not be
# noticed) and leaves the trace OUT.
profiled() {
    local name=$1 out=$2 rc=0
    shift 2
    profile "$out" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
    check_eq "$name: exit status under the shim" 0 "$rc"
    check_eq "$name: nothing on stderr" "" "$(head -c 300 "$TMP/$name.err")"
    check "$name: trace written" test -s "$out"
}

# report_to JSON TRACE...: write the JSON report of TRACE... to the file JSON and check that the
# report exits 0 with a valid poolprobe-report document. Without one, every later check of the
# test would fail for the same reason, so the test ends here.
report_to() {
    local json=$1 rc=0
    shift
    report_json "$@" >"$json" 2>"$json.err" || rc=$?
    if [ "$rc" = 0 ] && jq -e '.format == "poolprobe-report" and .version == 1 and
            (.sites | type) == "array" and (.processes | type) == "array"' \
            <"$json" >/dev/null 2>&1; then
        record ok "ok - report of ${*##*/}"
    else
        record FAIL "FAIL - report of ${*##*/} (exit $rc, not a poolprobe-report JSON document)"
        sed 's/^/#   /' "$json.err" | head -10
        LIB_FINISHED=1
        exit 1
    fi
}

# A program's real executable: a version manager's shim script in PATH (pyenv and the like)
# would put an extra traced process in front of the program itself.
real_python() {
    python3 -c 'import sys; print(sys.executable)'
}
