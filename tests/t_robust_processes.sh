#!/usr/bin/env bash
# t_robust_processes.sh — processes: fork while other threads allocate (the child's counts in
# its own file), fork+exec, posix_spawn, system(), vfork+exec (the started program writes its
# own trace.<pid>.bin), and a daemon that closes every descriptor and chdir("/") before it
# allocates (the trace lands at the POOLPROBE_OUT resolved at start; nothing is written to
# whatever reuses fd 2). Plain fork without threads is t_fork's.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/robust_lib.sh
. "${0%/*}/robust_lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/robust_procs"
W=$WORKLOADS/robust_procs
N=300

# --- fork while two threads allocate ---------------------------------------------------------
mkdir "$TMP/fork"
run_native fork -- "$W" fork $N
run_shim fork "$TMP/fork/trace.bin" -- "$W" fork $N
same_behaviour fork quiet
child=$(others "$TMP/fork")
check "fork: one child trace trace.<pid>.bin" test "$(echo "$child" | grep -c '^trace\.[0-9]*\.bin$')" = 1
trace_ok fork "$TMP/fork-child.json" "$TMP/fork/$child"
check_site "$TMP/fork-child.json" child_alloc $N $N 72
check_eq "fork child: no spin_alloc (the parent's threads)" no-site \
    "$(site_field "$TMP/fork-child.json" spin_alloc allocs)"
check_eq "fork child: flagged forked_child" true \
    "$(json_get "$TMP/fork-child.json" '.processes[0].forked_child')"
trace_ok fork "$TMP/fork-parent.json" "$TMP/fork/trace.bin"
check_eq "fork parent: no child_alloc" no-site "$(site_field "$TMP/fork-parent.json" child_alloc allocs)"
check_eq "fork parent: spin_alloc frees = allocs" true \
    "$(json_get "$TMP/fork-parent.json" '[.sites[] | select(.frames[0].function == "spin_alloc")][0] | .allocs > 0 and .frees == .allocs')"

# --- a program started by fork+exec, posix_spawn, system(), vfork+exec -----------------------
for how in exec spawn system vfork; do
    mkdir "$TMP/$how"
    run_native "$how" -- "$W" $how $N
    run_shim "$how" "$TMP/$how/trace.bin" -- "$W" $how $N
    same_behaviour "$how" quiet
    check "$how: parent's trace.bin" test -s "$TMP/$how/trace.bin"
    # system() runs /bin/sh, which may leave its own trace too: find the leaf's by content.
    trace_ok "$how" "$TMP/$how-all.json" "$TMP/$how"/trace*.bin
    check_site "$TMP/$how-all.json" leaf_alloc $N $N 56
    trace_ok "$how" "$TMP/$how-parent.json" "$TMP/$how/trace.bin"
    check_eq "$how: the leaf's allocations are not in the parent's trace" no-site \
        "$(site_field "$TMP/$how-parent.json" leaf_alloc allocs)"
    leaf=""
    for f in $(others "$TMP/$how"); do
        if [ "$("$REPORT" --format json "$TMP/$how/$f" | jq -r '.processes[0].argv[1]')" = leaf ]; then
            leaf=$f
        fi
    done
    check "$how: the leaf wrote trace.<its pid>.bin" test -n "$leaf"
    if [ -n "$leaf" ]; then
        check_eq "$how: the leaf is flagged a descendant" true \
            "$("$REPORT" --format json "$TMP/$how/$leaf" | jq -r '.processes[0].descendant')"
    fi
done

# --- a daemon: closes 0, 1, 2 and every other descriptor, chdir("/"), then allocates ---------
mkdir "$TMP/d" "$TMP/d/run" "$TMP/d/io"
run_daemon() { # run_daemon NAME: the daemon from $TMP/d/run with a relative POOLPROBE_OUT
    local name=$1
    (cd "$TMP/d/run" && run_native "$name" -- "$W" daemon "$TMP/d/io/$name.native.out" \
        "$TMP/d/io/$name.native.err" 1000)
    (cd "$TMP/d/run" && run_shim "$name" trace.bin -- "$W" daemon "$TMP/d/io/$name.shim.out" \
        "$TMP/d/io/$name.shim.err" 1000)
    check_eq "$name: same exit status" "$(cat "$TMP/$name.native.rc")" "$(cat "$TMP/$name.shim.rc")"
    check "$name: same output (to the file it opened as fd 1)" \
        cmp "$TMP/d/io/$name.native.out" "$TMP/d/io/$name.shim.out"
    check_eq "$name: nothing written to the file that reused fd 2" "" \
        "$(cat "$TMP/d/io/$name.shim.err")"
    check_eq "$name: nothing on the original stderr either" "" "$(cat "$TMP/$name.shim.err")"
}
run_daemon daemon
check "daemon: output names cwd=/" grep -q 'cwd=/$' "$TMP/d/io/daemon.shim.out"
check_eq "daemon: the trace is where POOLPROBE_OUT pointed at start" trace.bin \
    "$(cd "$TMP/d/run" && echo *)"
check "daemon: nothing written to /" test ! -e /trace.bin
trace_ok daemon "$TMP/daemon.json" "$TMP/d/run/trace.bin"
check_site "$TMP/daemon.json" daemon_alloc 1000 500 88
check_eq "daemon: live_at_exit" 500 "$(site_field "$TMP/daemon.json" daemon_alloc live_at_exit)"

# The same with a file at the path that is not a trace: the shim has something to say, and must
# not say it into the daemon's fd 2. The trace goes beside it.
printf 'precious\n' >"$TMP/d/run/trace.bin"
run_daemon daemon2
check_eq "daemon2: the foreign file is untouched" precious "$(cat "$TMP/d/run/trace.bin")"
alt=$(others "$TMP/d/run")
check "daemon2: trace written to trace.<pid>.bin" test "$(echo "$alt" | grep -c '^trace\.[0-9]*\.bin$')" = 1
trace_ok daemon2 "$TMP/daemon2.json" "$TMP/d/run/$alt"
check_site "$TMP/daemon2.json" daemon_alloc 1000 500 88
