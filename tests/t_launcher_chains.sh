#!/usr/bin/env bash
# t_launcher_chains.sh — `poolprobe run` through launchers: a version manager's shim is replaced
# by the program it stands for; an `exec "$@"` wrapper leaves the named program as the main
# trace, its helpers in .<pid> files; the report puts the named program first, says which
# process allocated most, and --process picks processes by pid or command.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/cxxnew"
PP=$TOP/scripts/poolprobe

# --- a pyenv-style shim: script -> manager (more shell) -> the real program -------------------
mkdir -p "$TMP/mgr/libexec" "$TMP/shims"
cat >"$TMP/mgr/libexec/pyenv" <<EOF2
#!/bin/sh
# A stand-in manager: "which NAME" names the real program; "exec" runs it after some shell.
case \$1 in
which) [ "\$2" = cxxnew ] && echo "$WORKLOADS/cxxnew" ;;
exec) shift 2; ls / >/dev/null; exec "$WORKLOADS/cxxnew" "\$@" ;;
esac
EOF2
cat >"$TMP/shims/cxxnew" <<EOF2
#!/usr/bin/env bash
set -e
program="\${0##*/}"
export FAKEENV_ROOT="$TMP/mgr"
exec "$TMP/mgr/libexec/pyenv" exec "\$program" "\$@"
EOF2
chmod +x "$TMP/mgr/libexec/pyenv" "$TMP/shims/cxxnew"
rc=0
PATH="$TMP/shims:$PATH" "$PP" run -o "$TMP/v.bin" cxxnew 300 >"$TMP/v.out" 2>"$TMP/v.err" || rc=$?
check_eq "shim: exit 0" 0 "$rc"
check_eq "shim: the program ran" "cxxnew: make_widget=300 sum=45450" "$(cat "$TMP/v.out")"
check_eq "shim: says it traces the real program" \
    "poolprobe: $TMP/shims/cxxnew is a version manager shim: tracing $WORKLOADS/cxxnew" \
    "$(head -n 1 "$TMP/v.err")"
check_eq "shim: one trace, no shell processes" "$TMP/v.bin" "$(ls "$TMP"/v*.bin)"
report_to "$TMP/v.json" "$TMP/v.bin"
check_eq "shim: the traced process is cxxnew" "$WORKLOADS/cxxnew 300" \
    "$(json_get "$TMP/v.json" '.processes[0].command')"
check_eq "shim: make_widget 300 allocations" 300 "$(site_field "$TMP/v.json" make_widget allocs)"

# --- an exec "$@" wrapper that runs a helper first ---------------------------------------------
cat >"$TMP/wrap.sh" <<'EOF2'
#!/bin/sh
ls / >/dev/null
exec "$@"
EOF2
chmod +x "$TMP/wrap.sh"
rc=0
"$PP" run -o "$TMP/w.bin" "$TMP/wrap.sh" "$WORKLOADS/cxxnew" 3000 >"$TMP/w.out" 2>"$TMP/w.err" || rc=$?
check_eq "wrapper: exit 0" 0 "$rc"
# Three traces: the program (the last image of the process, in w.bin), the shell's image before
# its exec (moved aside to w.<pid>.0.bin) and ls (w.<pid>.bin).
check_eq "wrapper: three traces (the program, the shell image before it, ls)" 3 \
    "$(ls "$TMP"/w*.bin | wc -l | tr -d ' ')"
check "wrapper: the launcher says more traces were written" grep -q '2 more from the processes it started' "$TMP/w.err"
# A shell glob lists w.<pid>.bin before w.bin; the report still starts with the named program.
"$REPORT" --format json "$TMP"/w*.bin >"$TMP/w.json"
check_eq "wrapper: the report lists cxxnew first, then the shell image it replaced" \
    "$WORKLOADS/cxxnew 3000|/bin/sh $TMP/wrap.sh $WORKLOADS/cxxnew 3000" \
    "$(json_get "$TMP/w.json" '[.processes[0,1].command] | join("|")')"
"$REPORT" "$TMP"/w*.bin >"$TMP/w.txt"
pid=$(json_get "$TMP/w.json" '.processes[0].pid')
check "wrapper: the text report names the process with most allocations" \
    grep -q "most allocations: pid $pid (cxxnew)" "$TMP/w.txt"
"$REPORT" --format json --process cxxnew "$TMP"/w*.bin >"$TMP/p.json"
check_eq "--process cxxnew: that process only" "1 3000" \
    "$(json_get "$TMP/p.json" '"\(.processes | length) \(.totals.allocs - ([.sites[] | select(.runtime)] | map(.allocs) | add // 0))"')"
lspid=$(json_get "$TMP/w.json" '.processes[2].pid')
"$REPORT" --format json --process "$lspid" "$TMP"/w*.bin >"$TMP/l.json"
check_eq "--process PID: that process only" "1 ls" \
    "$(json_get "$TMP/l.json" '"\(.processes | length) \(.processes[0].argv[0] | split("/") | last)"')"
rc=0
"$REPORT" --process no-such-command "$TMP/w.bin" >"$TMP/n.out" 2>"$TMP/n.err" || rc=$?
check_eq "--process matching nothing: exit 2, one line" \
    "2 poolprobe-report: error: no process matches 'no-such-command'" "$rc $(cat "$TMP/n.err")"
LIB_FINISHED=1
