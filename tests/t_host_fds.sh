#!/usr/bin/env bash
# t_host_fds.sh — the program's file descriptors are the program's: under the shim a program
# sees exactly the descriptors it was given and its first open() returns the lowest free number,
# and a daemon that closes every descriptor, opens two files (3 and 4) and then allocates from a
# frame without unwind information writes both files as it does natively. Each case runs
# natively and under the shim (tests/workloads/host_fds.c; the shim's side: shim/validate.c).
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/robust_lib.sh
. "${0%/*}/robust_lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/host_fds"
W=$WORKLOADS/host_fds

# --- a program started with only 0, 1, 2 (and with 5 and 9 passed, as pass_fds does) ----------
for fds in "" "5 9"; do
    name="given ${fds:-nothing}"
    # shellcheck disable=SC2086  # the list of descriptors is split on purpose
    run_native "$name" -- "$W" run $fds
    # shellcheck disable=SC2086
    run_shim "$name" "$TMP/fds.bin" -- "$W" run $fds
    same_behaviour "$name" quiet
    check_eq "$name: descriptors open under the shim" "open: 0 1 2${fds:+ $fds}" \
        "$(sed -n 1p "$TMP/$name.shim.out")"
    check_eq "$name: first open() under the shim" "first open: 3 (lowest free: 3)" \
        "$(sed -n 3p "$TMP/$name.shim.out")"
    check_eq "$name: exit status under the shim" 0 "$(cat "$TMP/$name.shim.rc")"
    trace_ok "$name" "$TMP/fds.json" "$TMP/fds.bin"
    # 100 blocks from the frame without unwind info: the unwinder still walked through it.
    check_eq "$name: noinfo_alloc's allocations, stack walked through it" "100 fds_mode" \
        "$(jq -r '.sites[] | select(.frames[0].function == "noinfo_alloc")
                  | "\(.allocs) \(.frames[2].function)"' "$TMP/fds.json")"
done

# --- a daemon: close everything, open two files, allocate without unwind info, write ---------
mkdir "$TMP/native" "$TMP/shim"
run_native daemon -- "$W" daemon "$TMP/native/A" "$TMP/native/B"
run_shim daemon "$TMP/daemon.bin" -- "$W" daemon "$TMP/shim/A" "$TMP/shim/B"
same_behaviour daemon quiet
check_eq "daemon: exit status under the shim" 0 "$(cat "$TMP/daemon.shim.rc")"
check_eq "daemon: stdout under the shim" "a=3 b=4 writes and closes ok" "$(cat "$TMP/daemon.shim.out")"
check_eq "daemon: file A under the shim" "to A" "$(cat "$TMP/shim/A")"
check_eq "daemon: file B under the shim" "to B" "$(cat "$TMP/shim/B")"
trace_ok daemon "$TMP/daemon.json" "$TMP/daemon.bin"
check_site "$TMP/daemon.json" noinfo_alloc 200 200

LIB_FINISHED=1
