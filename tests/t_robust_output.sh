#!/usr/bin/env bash
# t_robust_output.sh — the trace is never lost and never clobbers anything: a run killed by
# SIGKILL has a snapshot covering at least its first second, then its final trace written by
# its watcher; _exit() and abort() after 1.5 s write the final trace, and SIGSEGV's is written
# by the watcher (marked died); an unwritable directory (as a user without the rights,
# else a path under a non-directory), /dev/full, a file that is not a trace and a symlink at
# the output path each cost at most one "poolprobe:" line and leave the program's output, its
# status and the other file untouched.
#
# No check races the snapshot interval: each run sets POOLPROBE_INTERVAL itself (0.1 s, fifteen
# intervals inside a 1.5 s run), and the SIGKILL comes only once the snapshot on disk is seen to
# cover the first second.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/robust_lib.sh
. "${0%/*}/robust_lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/robust_output"
W=$WORKLOADS/robust_output
ROBUST_TIMEOUT=30
ulimit -c 0 # abort and SIGSEGV below: no core files

# --- SIGKILL while working ----------------------------------------------------------------
# The program prints how many allocations it had made at 1 s. Once the snapshot on disk covers
# that count (polled: the event itself, not a sleep guessed against the interval), SIGKILL; the
# trace left behind must still cover it.
{
    env LD_PRELOAD="$SHIM" POOLPROBE_OUT="$TMP/kill.bin" POOLPROBE_INTERVAL=0.1 \
        "$W" work 60000 hang progress >"$TMP/kill.out" 2>"$TMP/kill.err" &
    pid=$!
} 2>/dev/null
first=""
for _ in $(seq 300); do
    first=${first:-$(sed -n 's/^second 1: allocs \([0-9]*\)$/\1/p' "$TMP/kill.out")}
    if [ -n "$first" ] && [ -s "$TMP/kill.bin" ] &&
        [ "$("$REPORT" --format json "$TMP/kill.bin" 2>/dev/null |
            jq --argjson n "$first" '[.sites[] | select(.frames[0].function == "work_alloc")
                | .allocs >= $n] | any')" = true ]; then
        break
    fi
    sleep 0.1
done
rc=0
# One redirected group: bash may report the kill ("Killed") at any command boundary until the
# wait, and that line would look like a failure in the test log.
{
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" || rc=$?
} 2>/dev/null
check_eq "SIGKILL: killed (status 137)" 137 "$rc"
check "SIGKILL: it had printed its second 1" grep -q '^second 1:' "$TMP/kill.out"
check_eq "SIGKILL: nothing on stderr" "" "$(cat "$TMP/kill.err")"
check "SIGKILL: the watcher writes the final trace (marked died) within 5 s" \
    until_true 5 died "$TMP/kill.bin"
trace_ok kill "$TMP/kill.json" "$TMP/kill.bin"
got=$(site_field "$TMP/kill.json" work_alloc allocs)
check "SIGKILL: the trace covers the first second ($got >= ${first:-?} allocations)" \
    test "${got//[!0-9]/}" -ge "${first:-1}" -a -n "${got//[!0-9]/}" -a -n "$first"
check_eq "SIGKILL: not a snapshot" false "$(json_get "$TMP/kill.json" '.processes[0].snapshot')"

# --- _exit(), abort() after 1.5 s: the final trace (shim/exits.c); SIGSEGV: the last snapshot ---
# The runs mostly sleep: all six at once.
for end in _exit abort segv; do
    run_native "$end" -- "$W" work 1500 $end &
    POOLPROBE_INTERVAL=0.1 run_shim "$end" "$TMP/$end.bin" -- "$W" work 1500 $end &
done
wait
for end in _exit abort segv; do
    same_behaviour "$end" quiet
    # abort writes the final trace, then dies of SIGABRT: the watcher writes it again.
    if [ $end != _exit ]; then
        check "$end: the watcher writes the final trace (marked died) within 5 s" \
            until_true 5 died "$TMP/$end.bin"
    fi
    trace_ok "$end" "$TMP/$end.json" "$TMP/$end.bin"
    check_eq "$end: not a snapshot, with work_alloc counted" true \
        "$(json_get "$TMP/$end.json" '.processes[0].snapshot == false and ([.sites[] | select(.frames[0].function == "work_alloc")][0].allocs > 0)')"
done
check_eq "_exit: status 5" 5 "$(cat "$TMP/_exit.shim.rc")"
check_eq "abort: killed by SIGABRT (134)" 134 "$(cat "$TMP/abort.shim.rc")"
check_eq "segv: killed by SIGSEGV (139)" 139 "$(cat "$TMP/segv.shim.rc")"

# --- output that cannot or must not be written -------------------------------------------
# Each runs fifteen snapshot intervals (0.1 s in 1.5 s), so the shim tries many times: still
# one line.
export POOLPROBE_INTERVAL=0.1
# The runs mostly sleep, so they run side by side; the checks follow.
refused() { # refused NAME: same stdout and status as plain, exactly one poolprobe: line
    local name=$1
    like_native "$name" plain
    same_behaviour "$name"
    check_eq "$name: exactly one line on stderr" 1 "$(wc -l <"$TMP/$name.shim.err" | tr -d ' ')"
    check_eq "$name: and it starts poolprobe:" 1 "$(poolprobe_lines "$TMP/$name.shim.err")"
}
mkdir "$TMP/ro" "$TMP/p" "$TMP/l" "$TMP/bin"
chmod 555 "$TMP/ro"
chmod 755 "$TMP" "$TMP/bin"
printf 'precious\n' >"$TMP/p/trace.bin"
cp "$TMP/p/trace.bin" "$TMP/precious.copy"
printf 'keep me\n' >"$TMP/l/target.txt"
ln -s "$TMP/l/target.txt" "$TMP/l/trace.bin"
ln -s "$TMP/l/nothere.txt" "$TMP/l/dangling.bin"

# A directory the user cannot write: as root (who ignores permissions) run as nobody, with the
# shim and the program copied where nobody can reach them (the build may sit in root's home).
rodir=skip
if [ "$(id -u)" != 0 ]; then
    rodir=self
    run_shim rodir "$TMP/ro/trace.bin" -- "$W" work 1500 exit &
elif command -v setpriv >/dev/null 2>&1; then
    rodir=nobody
    cp "$SHIM" "$W" "$TMP/bin/"
    {
        rc=0
        timeout -k 5 "$ROBUST_TIMEOUT" setpriv --reuid=65534 --regid=65534 --clear-groups \
            env LD_PRELOAD="$TMP/bin/${SHIM##*/}" POOLPROBE_OUT="$TMP/ro/trace.bin" \
            "$TMP/bin/${W##*/}" work 1500 exit \
            >"$TMP/rodir.shim.out" 2>"$TMP/rodir.shim.err" || rc=$?
        echo "$rc" >"$TMP/rodir.shim.rc"
    } &
fi
run_native plain -- "$W" work 1500 exit &
# A path under a non-directory: fails for root too.
run_shim notdir /dev/null/trace.bin -- "$W" work 1500 exit &
# /dev/full: refused (not a regular file), the device is left alone.
run_shim full /dev/full -- "$W" work 1500 exit &
# A file that is not a trace: byte-identical afterwards; the trace goes to the pid-named file.
run_shim precious "$TMP/p/trace.bin" -- "$W" work 1500 exit &
# A symlink at the output path: the file it points to is never modified (the link itself may
# be replaced by the trace); a dangling link's target is never created.
run_shim link "$TMP/l/trace.bin" -- "$W" work 1500 exit &
run_native dangling -- "$W" work 100 exit &
run_shim dangling "$TMP/l/dangling.bin" -- "$W" work 100 exit &
wait
unset POOLPROBE_INTERVAL

if [ $rodir = skip ]; then
    skip "rodir: an unwritable directory as another user" "setpriv not installed"
else
    refused rodir
    check "rodir: says permission denied" grep -q 'permission denied' "$TMP/rodir.shim.err"
    check "rodir: nothing written" test -z "$(ls -A "$TMP/ro")"
fi

refused notdir
check "notdir: says not a directory" grep -q 'not a directory' "$TMP/notdir.shim.err"

refused full
check "full: /dev/full is still a character device" test -c /dev/full

refused precious
check "precious: the file is byte-identical" cmp "$TMP/precious.copy" "$TMP/p/trace.bin"
alt=$(others "$TMP/p")
check "precious: the trace is the only other file, trace.<pid>.bin" \
    test "$(echo "$alt" | grep -c '^trace\.[0-9]*\.bin$')" = 1 -a "$(echo "$alt" | wc -l)" = 1
check "precious: the line names the file written instead" grep -q "writing $TMP/p/$alt instead" \
    "$TMP/precious.shim.err"
trace_ok precious "$TMP/precious.json" "$TMP/p/$alt"
check_eq "precious: the final trace" false "$(json_get "$TMP/precious.json" '.processes[0].snapshot')"

like_native link plain
same_behaviour link
check_eq "link: the target is unchanged" "keep me" "$(cat "$TMP/l/target.txt")"
check "link: at most one poolprobe: line" test "$(poolprobe_lines "$TMP/link.shim.err")" -le 1
check "link: the line says it is a symbolic link" grep -q "is a symbolic link" "$TMP/link.shim.err"
written=""
for f in "$TMP/l"/trace*.bin; do
    if [ ! -L "$f" ]; then written=$f; fi
done
check "link: a trace was written (replacing the link or beside it)" test -n "$written"
if [ -n "$written" ]; then trace_ok link "$TMP/link.json" "$written"; fi

same_behaviour dangling
check "dangling: the link's target was not created" test ! -e "$TMP/l/nothere.txt"
