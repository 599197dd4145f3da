#!/usr/bin/env bash
# t_fork.sh — a forked child writes its own trace, counted from fork; the parent keeps trace.bin.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/forker" "$WORKLOADS/keeper" "$WORKLOADS/host_exec"

A=1000 C=500
mkdir "$TMP/f"
profiled forker "$TMP/f/trace.bin" -- "$WORKLOADS/forker" $A $C
child=$(sed -n 's/.*child=\([0-9]*\).*/\1/p' "$TMP/forker.out")
parent=$(sed -n 's/.*parent=\([0-9]*\).*/\1/p' "$TMP/forker.out")
check "child's trace is trace.<child pid>.bin" test -s "$TMP/f/trace.$child.bin"
check_eq "exactly two trace files" "trace.$child.bin trace.bin" "$(cd "$TMP/f" && echo *)"

report_to "$TMP/parent.json" "$TMP/f/trace.bin"
P=$TMP/parent.json
check_site "$P" parent_alloc $A $A 48
check_eq "parent: no child_alloc site" no-site "$(site_field "$P" child_alloc allocs)"
check_eq "parent: pid" "$parent" "$(json_get "$P" '.processes[0].pid')"

report_to "$TMP/child.json" "$TMP/f/trace.$child.bin"
Q=$TMP/child.json
check_site "$Q" child_alloc $C $C 80
check_eq "child: no parent_alloc site (inherited blocks are not its own)" no-site \
    "$(site_field "$Q" parent_alloc allocs)"
check_eq "child: pid" "$child" "$(json_get "$Q" '.processes[0].pid')"

report_to "$TMP/both.json" "$TMP/f/trace.bin" "$TMP/f/trace.$child.bin"
M=$TMP/both.json
check_eq "merged: two processes" 2 "$(json_get "$M" '.processes | length')"
check_eq "merged: pids" "$(printf '%s\n' "$child" "$parent" | sort -n | paste -sd' ')" \
    "$(json_get "$M" '[.processes[].pid] | sort | map(tostring) | join(" ")')"
check_site "$M" parent_alloc $A $A 48
check_site "$M" child_alloc $C $C 80

# A program exec'd by a traced process (LD_PRELOAD inherited) writes its own file too. bash
# forks, its child allocates and execs keeper: keeper, the pid's last image, has
# trace.<pid>.bin; the forked shell's image before the exec was moved aside to trace.<pid>.0.bin.
mkdir "$TMP/e"
profiled exec "$TMP/e/trace.bin" -- bash -c '"$1" 10; true' bash "$WORKLOADS/keeper"
kpid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$TMP/exec.out")
check "exec'd program's trace is trace.<its pid>.bin" test -s "$TMP/e/trace.$kpid.bin"
report_to "$TMP/exec.json" "$TMP/e/trace.$kpid.bin"
check_eq "exec'd program: keep_forever allocs" 10 "$(site_field "$TMP/exec.json" keep_forever allocs)"
check "the forked shell's image before the exec: trace.<pid>.0.bin" test -s "$TMP/e/trace.$kpid.0.bin"
report_to "$TMP/pre-exec.json" "$TMP/e/trace.$kpid.0.bin"
check_eq "the forked shell's image has no keep_forever" no-site \
    "$(site_field "$TMP/pre-exec.json" keep_forever allocs)"
report_to "$TMP/sh.json" "$TMP/e/trace.bin"
check_eq "the shell's own trace has no keep_forever" no-site \
    "$(site_field "$TMP/sh.json" keep_forever allocs)"

# What recorded nothing writes nothing, except the first traced process: a forked child that
# only freed blocks it inherited, and a program a traced process started that allocated
# nothing (/bin/true under a traced shell), leave no file beside the first one.
mkdir "$TMP/n1" "$TMP/n2" "$TMP/n3"
profiled quiet-child "$TMP/n1/trace.bin" -- "$WORKLOADS/forker" $A 0
check_eq "a forked child that allocated nothing: no file of its own" trace.bin \
    "$(cd "$TMP/n1" && echo *)"
profiled quiet-exec "$TMP/n2/trace.bin" -- "$WORKLOADS/host_exec" forkexec 0 0 0
check_eq "a child that allocated nothing before its exec, nor after: no file of its own" \
    trace.bin "$(cd "$TMP/n2" && echo *)"
profiled quiet-first "$TMP/n3/trace.bin" -- "$WORKLOADS/host_exec" chain 0 0
check_eq "the first traced process writes its file even with nothing recorded" trace.bin \
    "$(cd "$TMP/n3" && echo *)"
report_to "$TMP/quiet-first.json" "$TMP/n3/trace.bin"
check_eq "... with 0 allocations" 0 "$(json_get "$TMP/quiet-first.json" '.totals.allocs')"
