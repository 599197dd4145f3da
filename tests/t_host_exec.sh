#!/usr/bin/env bash
# t_host_exec.sh — nothing recorded is lost when an image ends without exit(): a process that
# execs itself twice leaves three traces (its last image's trace.bin, the two before it moved
# aside to trace.<pid>.0.bin and trace.<pid>.1.bin), a forked child that execs before and after
# one snapshot interval keeps all of its allocations (trace.<pid>.0.bin; its exec'd image has
# trace.<pid>.bin), and _exit, _Exit and abort
# within the first interval leave the final trace. A pid-named file an earlier process with the
# same pid left moves aside, byte for byte. Every count is exact; every run is compared with a
# native one (tests/workloads/host_exec.c; the shim's side: shim/exits.c, shim/writer.c).
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/robust_lib.sh
. "${0%/*}/robust_lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/host_exec"
W=$WORKLOADS/host_exec

# --- exec of itself, twice: three images, three files -----------------------------------------
mkdir "$TMP/self"
run_native self -- "$W" chain 2 100
(cd "$TMP/self" && run_shim self trace.bin -- "$W" chain 2 100)
same_behaviour self quiet
pid=$("$REPORT" --format json "$TMP/self/trace.bin" | jq -r '.processes[0].pid')
check_eq "self: the files" "trace.$pid.0.bin trace.$pid.1.bin trace.bin" \
    "$(cd "$TMP/self" && echo *)"
for f in "trace.$pid.0.bin" "trace.$pid.1.bin" trace.bin; do
    check_eq "self: $f has chain_alloc's 100" 100 "$(site_allocs "$TMP/self/$f" chain_alloc)"
done
check_eq "self: one pid in all three" "$pid $pid $pid" \
    "$(for f in "trace.$pid.0.bin" "trace.$pid.1.bin" trace.bin; do
        "$REPORT" --format json "$TMP/self/$f" | jq -r '.processes[0].pid'; done | paste -sd' ')"

# --- fork, then exec under one interval and after one ------------------------------------------
# POOLPROBE_INTERVAL 0.2 s: the "over" child waits 400 ms between its two halves, so its second
# half begins with a snapshot; the "under" child execs within a few ms.
for case in "under 0" "over 400"; do
    set -- $case
    name=forkexec-$1
    mkdir "$TMP/$name"
    run_native "$name" -- "$W" forkexec 1000 "$2"
    (cd "$TMP/$name" && POOLPROBE_INTERVAL=0.2 run_shim "$name" trace.bin -- "$W" forkexec 1000 "$2")
    same_behaviour "$name" quiet
    check_eq "$name: the child's status" "child status 0" "$(cat "$TMP/$name.shim.out")"
    child=$(others "$TMP/$name" | sed -n 's/^trace\.\([0-9]*\)\.bin$/\1/p')
    check_eq "$name: the files" "trace.$child.0.bin trace.$child.bin trace.bin" \
        "$(cd "$TMP/$name" && echo *)"
    check_eq "$name: the child's image before exec has child_alloc's 1000" 1000 \
        "$(site_allocs "$TMP/$name/trace.$child.0.bin" child_alloc)"
    check_eq "$name: ... written whole, not as a snapshot" false \
        "$("$REPORT" --format json "$TMP/$name/trace.$child.0.bin" | jq -r '.processes[0].snapshot')"
    check_eq "$name: the exec'd image has chain_alloc's 7" 7 \
        "$(site_allocs "$TMP/$name/trace.$child.bin" chain_alloc)"
    check_eq "$name: the exec'd image has no child_alloc" no-site \
        "$(site_allocs "$TMP/$name/trace.$child.bin" child_alloc)"
    check_eq "$name: the parent has no child_alloc" no-site \
        "$(site_allocs "$TMP/$name/trace.bin" child_alloc)"
done

# --- _exit, _Exit, abort within the first interval ---------------------------------------------
for how in _exit _Exit abort; do
    mkdir "$TMP/$how"
    run_native "$how" -- "$W" end $how 500
    (cd "$TMP/$how" && POOLPROBE_INTERVAL=60 run_shim "$how" trace.bin -- "$W" end $how 500)
    same_behaviour "$how" quiet
    check_eq "$how: the one file" trace.bin "$(cd "$TMP/$how" && echo *)"
    check_eq "$how: end_alloc's 500" 500 "$(site_allocs "$TMP/$how/trace.bin" end_alloc)"
    check_eq "$how: all 500 live at the end" 500 \
        "$("$REPORT" --format json "$TMP/$how/trace.bin" | jq -r '.sites[] | select(.frames[0].function == "end_alloc") | .live_at_exit')"
done
check_eq "exit statuses: _exit, _Exit, abort" "3 4 134" \
    "$(cat "$TMP/_exit.shim.rc") $(cat "$TMP/_Exit.shim.rc") $(cat "$TMP/abort.shim.rc")"

# --- a pid the kernel reused: the earlier process's file moves aside, never replaced ------------
# The shell makes the file an earlier process with its pid would have left (a real trace with
# the pid patched in, an hour old), then execs the program under the shim with %p in the name.
mkdir "$TMP/reuse"
"$REPORT" --format json "$TMP/self/trace.bin" >/dev/null # the source trace reads
sh -c '
    pid=$$
    cp "$1" "$2/t.$pid.bin"
    # PROCESS record payload starts at 32 + 16: the pid, little-endian
    printf "$(printf "\\\\%03o\\\\%03o\\\\%03o\\\\%03o" $((pid & 255)) $((pid >> 8 & 255)) \
        $((pid >> 16 & 255)) $((pid >> 24 & 255)))" |
        dd of="$2/t.$pid.bin" bs=1 seek=48 conv=notrunc 2>/dev/null
    touch -d "1 hour ago" "$2/t.$pid.bin"
    cp "$2/t.$pid.bin" "$2/earlier.copy"
    echo $pid >"$2/pid"
    exec env LD_PRELOAD="$3" POOLPROBE_OUT="$2/t.%p.bin" "$4" chain 0 100
' sh "$TMP/self/trace.bin" "$TMP/reuse" "$SHIM" "$W" >/dev/null
pid=$(cat "$TMP/reuse/pid")
check_eq "pid reuse: the files" "earlier.copy pid t.$pid.0.bin t.$pid.bin" \
    "$(cd "$TMP/reuse" && echo *)"
check "pid reuse: the earlier process's file is kept as it was" \
    cmp "$TMP/reuse/earlier.copy" "$TMP/reuse/t.$pid.0.bin"
check_eq "pid reuse: the program's own trace has chain_alloc's 100" 100 \
    "$(site_allocs "$TMP/reuse/t.$pid.bin" chain_alloc)"

LIB_FINISHED=1
