# tests/robust_lib.sh — helpers shared by tests/t_robust_*.sh, sourced after tests/lib.sh.
#
# Every scenario runs the same command twice, natively and under the shim, each under `timeout`
# (a hang is a failure, never a stuck CI job), and compares what the host program did:
#
#   run_native NAME -- CMD ARGS...       stdout, stderr, status in $TMP/NAME.native.{out,err,rc}
#   run_shim NAME OUT -- CMD ARGS...     the same under the shim, trace to OUT:
#                                        $TMP/NAME.shim.{out,err,rc}
#   same_behaviour NAME [quiet]          checks: neither run timed out, same stdout, same exit
#                                        status; with "quiet", also the same stderr (the shim
#                                        said nothing)
#   trace_ok NAME JSON TRACE...          poolprobe-report exits 0 on TRACE... (JSON report left
#                                        in JSON, or an empty document when it failed, so later
#                                        checks fail one by one instead of ending the test)
#   others DIR                           the names of DIR's files other than trace.bin, one a line
#   like_native NAME FROM                NAME's native results are FROM's (same command)
#   poolprobe_lines FILE                 the number of lines starting "poolprobe:" in FILE
#   site_allocs TRACE FUNC               allocations at the site FUNC in TRACE ("no-site" when
#                                        none, "unreadable" when the report fails)
#   until_true SECONDS CMD...            0 as soon as CMD succeeds (polled), 1 after SECONDS
#   died TRACE                           its process is marked died: the watcher (shim/watcher.c)
#                                        wrote it after a fatal signal; with until_true, waits
#                                        for that write, which follows the death by a few ms
#
# ROBUST_TIMEOUT (seconds, default 60) bounds each run; same_behaviour fails a run that hit it.
# shellcheck shell=bash

ROBUST_TIMEOUT=${ROBUST_TIMEOUT:-60}

run_native() { # run_native NAME -- CMD ARGS...
    local name=$1 rc=0
    shift
    if [ "${1:-}" = "--" ]; then shift; fi
    # The group's 2>/dev/null only hides bash's own "Aborted"/"Segmentation fault" notices.
    { timeout -k 5 "$ROBUST_TIMEOUT" "$@" >"$TMP/$name.native.out" 2>"$TMP/$name.native.err"; } \
        2>/dev/null || rc=$?
    echo "$rc" >"$TMP/$name.native.rc"
}

run_shim() { # run_shim NAME OUT -- CMD ARGS...
    local name=$1 out=$2 rc=0
    shift 2
    if [ "${1:-}" = "--" ]; then shift; fi
    # env, not a prefix assignment: timeout itself must not be traced.
    { timeout -k 5 "$ROBUST_TIMEOUT" env LD_PRELOAD="$SHIM${LD_PRELOAD:+:$LD_PRELOAD}" \
        POOLPROBE_OUT="$out" "$@" >"$TMP/$name.shim.out" 2>"$TMP/$name.shim.err"; } 2>/dev/null ||
        rc=$?
    echo "$rc" >"$TMP/$name.shim.rc"
}

same_behaviour() { # same_behaviour NAME [quiet]
    local name=$1 how rc
    # Both timing out would look the same: a time-out is a failure of its own.
    for how in native shim; do
        rc=$(cat "$TMP/$name.$how.rc")
        check "$name: $how run finished within ${ROBUST_TIMEOUT}s (status $rc)" \
            test "$rc" != 124 -a "$rc" != 137
    done
    check "$name: same stdout with and without the shim" \
        cmp "$TMP/$name.native.out" "$TMP/$name.shim.out"
    check_eq "$name: same exit status with and without the shim" \
        "$(cat "$TMP/$name.native.rc")" "$(cat "$TMP/$name.shim.rc")"
    if [ "${2:-}" = quiet ]; then
        check "$name: same stderr with and without the shim" \
            cmp "$TMP/$name.native.err" "$TMP/$name.shim.err"
    fi
}

trace_ok() { # trace_ok NAME JSON TRACE...
    local name=$1 json=$2 rc=0
    shift 2
    "$REPORT" --format json "$@" >"$json" 2>"$json.err" || rc=$?
    check_eq "$name: poolprobe-report reads the trace (exit status)" 0 "$rc"
    if [ "$rc" != 0 ]; then
        sed 's/^/#   /' "$json.err" | head -5
        echo '{"processes": [], "sites": [], "totals": {}}' >"$json"
    fi
}

others() { # others DIR
    local f
    for f in "$1"/* "$1"/.[!.]*; do
        if [ -e "$f" ] || [ -L "$f" ]; then
            if [ "${f##*/}" != trace.bin ]; then printf '%s\n' "${f##*/}"; fi
        fi
    done
}

like_native() { # like_native NAME FROM
    local ext
    for ext in out err rc; do cp "$TMP/$2.native.$ext" "$TMP/$1.native.$ext"; done
}

poolprobe_lines() { # poolprobe_lines FILE
    grep -c '^poolprobe:' "$1" || true
}

site_allocs() { # site_allocs TRACE FUNC
    local json
    json=$("$REPORT" --format json "$1" 2>/dev/null) || { echo unreadable; return; }
    site_field "$json" "$2" allocs
}

until_true() { # until_true SECONDS CMD...
    local tries
    for ((tries = 0; tries < $1 * 50; tries++)); do
        "${@:2}" 2>/dev/null && return 0
        sleep 0.02
    done
    return 1
}

died() { # died TRACE
    [ "$("$REPORT" --format json "$1" 2>/dev/null | jq -r '.processes[0].died')" = true ]
}
