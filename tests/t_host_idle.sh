#!/usr/bin/env bash
# t_host_idle.sh — the watcher (shim/watcher.c): a process that went idle has a current trace
# while it lives and all of its counts after a SIGKILL long after its last allocation; one killed
# by a signal it does not handle gets its final trace, marked "died"; one killed in the middle
# of allocating on two threads gets one too (no wait on a lock a dead thread held); and the
# program sees nothing of the watcher: its threads, waitpid(-1), pending signals, first open()
# and the end of its stdout are what they are natively (tests/workloads/host_idle.c). Without the
# watcher (POOLPROBE_WATCHER=0) the idle process has no trace at all: the check that shows the
# others can fail. A script written by cat under the shim can be exec'd at once (the watcher
# never holds a copy of the program's descriptors). A program that waits with __WALL for every
# child (as strace does) is not kept waiting by its watcher.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/robust_lib.sh
. "${0%/*}/robust_lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/host_idle"
W=$WORKLOADS/host_idle

# Programs started in the background die with the test, even one stopped by its time limit: a
# leftover (a mutant's that spins, say) would be counted by watchers_of in the next run.
started=()
kill_started() {
    local p
    for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
trap 'status_=$?; kill_started; (exit $status_); lib_exit' EXIT

process_field() { # process_field TRACE FIELD: .processes[0].FIELD, or "unreadable"
    "$REPORT" --format json "$1" 2>/dev/null | jq -r ".processes[0].$2" 2>/dev/null ||
        echo unreadable
}

# Watchers still running (not zombies) for a command line: the watcher shares the program's
# memory, so its /proc/PID/cmdline is the program's.
watchers_of() { # watchers_of ARG...
    local f stat want have
    want=$(printf '%s\n' "$@")
    for f in /proc/[0-9]*; do
        read -r stat 2>/dev/null <"$f/stat" || continue
        case $stat in *" (poolprobe-watch) "[!Z]*) ;; *) continue ;; esac
        have=$(tr '\0' '\n' <"$f/cmdline" 2>/dev/null) || continue
        [ "$have" = "$want" ] && echo "${f#/proc/}"
    done
    return 0
}

# shim_bg DIR OUTNAME ENV... -- CMD...: starts CMD under the shim in DIR, in the background;
# its stdout goes to $TMP/OUTNAME.shim.out. Sets $bg_pid.
shim_bg() {
    local dir=$1 name=$2
    shift 2
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    (cd "$dir" && exec env LD_PRELOAD="$SHIM" POOLPROBE_OUT=trace.bin "${envs[@]}" "$@" \
        >"$TMP/$name.shim.out" 2>"$TMP/$name.shim.err") &
    bg_pid=$!
    started+=("$bg_pid")
}

stop_bg() { # SIGKILL to $bg_pid, reaped without bash's "Killed" notice
    { kill -KILL "$bg_pid" && wait "$bg_pid"; } 2>/dev/null || true
}

# --- idle: allocates for a few ms, then sleeps; looked at after 1 s, then SIGKILLed ----------
run_native idle -- "$W" idle 20000 5000 0
mkdir "$TMP/idle"
shim_bg "$TMP/idle" idle POOLPROBE_INTERVAL=0.2 -- "$W" idle 20000 5000 30
until_true 10 grep -q ready "$TMP/idle.shim.out"
check_eq "idle: what the program sees of itself is what it sees natively" \
    "$(head -1 "$TMP/idle.native.out")" "$(head -1 "$TMP/idle.shim.out")"
sleep 1 # five intervals without an allocation
check_eq "idle, 1 s after its last allocation: idle_alloc's 20000 in the trace" 20000 \
    "$(site_allocs "$TMP/idle/trace.bin" idle_alloc)"
check_eq "idle: ... 5000 of them live" 5000 \
    "$("$REPORT" --format json "$TMP/idle/trace.bin" | jq -r '.sites[] | select(.frames[0].function == "idle_alloc") | .live_at_exit')"
check_eq "idle: ... written as a snapshot" true "$(process_field "$TMP/idle/trace.bin" snapshot)"
check_eq "idle: one watcher runs for it" 1 "$(watchers_of "$W" idle 20000 5000 30 | wc -l)"
stop_bg
check "idle, SIGKILLed: its watcher writes the final trace within 5 s" \
    until_true 5 died "$TMP/idle/trace.bin"
check_eq "idle, SIGKILLed: idle_alloc's 20000" 20000 "$(site_allocs "$TMP/idle/trace.bin" idle_alloc)"
check_eq "idle, SIGKILLed: no longer a snapshot" false \
    "$(process_field "$TMP/idle/trace.bin" snapshot)"
check "idle, SIGKILLed: the report says the process died" \
    grep -q "died without exiting" <("$REPORT" "$TMP/idle/trace.bin")
check "idle, SIGKILLed: no watcher left" until_true 5 test -z "$(watchers_of "$W" idle 20000 5000 30)"
check_eq "idle: only trace.bin (no temporary file left)" trace.bin "$(cd "$TMP/idle" && echo *)"

# --- the same without a watcher: no trace until the process writes one at its end -----------
mkdir "$TMP/nowatch"
shim_bg "$TMP/nowatch" nowatch POOLPROBE_INTERVAL=0.2 POOLPROBE_WATCHER=0 -- "$W" idle 20000 5000 30
until_true 10 grep -q ready "$TMP/nowatch.shim.out"
sleep 1
check_eq "POOLPROBE_WATCHER=0, idle for 1 s: no trace yet" "" "$(ls -A "$TMP/nowatch")"
check_eq "POOLPROBE_WATCHER=0: no watcher" "" "$(watchers_of "$W" idle 20000 5000 30)"
stop_bg

# --- the end of stdout: a reader sees it when the program closes it, not when the watcher goes -
exec 3< <(exec env LD_PRELOAD="$SHIM" POOLPROBE_OUT="$TMP/eof.bin" POOLPROBE_INTERVAL=0.2 \
    "$W" idle 100 0 4)
bg_pid=$!
started+=("$bg_pid")
eof_start=$(date +%s%N)
cat <&3 >/dev/null
eof_ms=$((($(date +%s%N) - eof_start) / 1000000))
exec 3<&-
stop_bg
check "stdout's end reached in ${eof_ms} ms, while the program sleeps 4 s" test "$eof_ms" -lt 3000

# --- no reference to the program's files, ever ---------------------------------------------
# A script written by `cat` under the shim and exec'd at once, 500 times, the whole loop on one
# CPU: a watcher holding a copy of cat's descriptors until it first ran made about 1 exec in 200
# fail with "Text file busy" (git's t0000 did this; this loop caught it in 4 runs of 5). Natively
# and now: never.
mkdir "$TMP/etxtbsy"
# shellcheck disable=SC2016  # expanded by the inner shell
etxtbsy=$(taskset -c 0 sh -c '
    fail=0 i=0
    while [ $i -lt 500 ]; do
        i=$((i + 1))
        printf "#!/bin/sh\nexit 0\n" | env LD_PRELOAD="$1" POOLPROBE_OUT="$2/t.bin" cat >"$2/s$i.sh"
        chmod +x "$2/s$i.sh"
        "$2/s$i.sh" 2>/dev/null || fail=$((fail + 1))
    done
    echo $fail' sh "$SHIM" "$TMP/etxtbsy")
check_eq "a script cat just wrote runs at once, 500 times (failures)" 0 "$etxtbsy"

# --- a program that waits for all of its children, clones included (strace, gdb) --------------
# It would wait for its watcher forever; the watcher sees the wait and leaves within 250 ms.
run_native wall -- "$W" wall
run_shim wall "$TMP/wall.bin" -- "$W" wall
same_behaviour wall quiet

# --- a fatal signal with no handler, within the first interval ------------------------------
run_native crash -- "$W" crash 3000
mkdir "$TMP/crash"
(cd "$TMP/crash" && POOLPROBE_INTERVAL=60 run_shim crash trace.bin -- "$W" crash 3000)
same_behaviour crash quiet
check_eq "crash: status 139 (SIGSEGV)" 139 "$(cat "$TMP/crash.shim.rc")"
check "crash: its watcher writes the final trace within 5 s" until_true 5 died "$TMP/crash/trace.bin"
check_eq "crash: crash_alloc's 3000" 3000 "$(site_allocs "$TMP/crash/trace.bin" crash_alloc)"

# --- SIGKILL while two threads allocate: a lane lock may be held by a dead thread ------------
mkdir "$TMP/busy"
shim_bg "$TMP/busy" busy POOLPROBE_INTERVAL=60 -- "$W" busy 2
until_true 20 grep -q ready "$TMP/busy.shim.out"
stop_bg
check "busy, SIGKILLed: its watcher writes the final trace within 5 s" \
    until_true 5 died "$TMP/busy/trace.bin"
busy=$(site_allocs "$TMP/busy/trace.bin" busy_alloc)
check "busy: busy_alloc has the 20000 done before \"ready\" at least ($busy)" \
    test "${busy//[!0-9]/}" -ge 20000 2>/dev/null
check "busy: no watcher left" until_true 5 test -z "$(watchers_of "$W" busy 2)"

# --- an exit reaps the watcher: nothing is left for init (or a subreaper) to adopt -------------
# Under a child subreaper (as under systemd or tini), a watcher that outlived its program would
# be adopted and reaped by it; one the program stopped and reaped at exit is not. A death still
# leaves the watcher to write the final trace, and it is adopted then (the check that can fail).
mkdir "$TMP/reap"
"$W" reaper env LD_PRELOAD="$SHIM" POOLPROBE_OUT="$TMP/reap/exit.bin" "$W" idle 1000 0 0 \
    >"$TMP/reap.exit.out" 2>&1
check_eq "exit: its watcher is reaped by the program itself (adopted by the subreaper)" \
    "adopted 0" "$(tail -n 1 "$TMP/reap.exit.out")"
check_eq "exit: the trace has idle_alloc's 1000" 1000 "$(site_allocs "$TMP/reap/exit.bin" idle_alloc)"
"$W" reaper env LD_PRELOAD="$SHIM" POOLPROBE_OUT="$TMP/reap/crash.bin" "$W" crash 100 \
    >"$TMP/reap.crash.out" 2>&1
check_eq "crash: its watcher outlives it to write the final trace (adopted by the subreaper)" \
    "adopted 1" "$(tail -n 1 "$TMP/reap.crash.out")"
check "crash: ... marked died" died "$TMP/reap/crash.bin"

LIB_FINISHED=1
