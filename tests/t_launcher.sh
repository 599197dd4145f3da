#!/usr/bin/env bash
# t_launcher.sh — scripts/poolprobe: run, report, refusals, and the installed layout.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/seeds" "$WORKLOADS/keeper"
PP=$TOP/scripts/poolprobe

check_status "poolprobe --help exits 0" 0 "$PP" --help
check_status "poolprobe with no command exits 2" 2 "$PP"
check_status "poolprobe bogus exits 2" 2 "$PP" bogus

# run -o FILE: the program's output, exit status and the closing line.
rc=0
"$PP" run -o "$TMP/r.bin" -- "$WORKLOADS/seeds" 100 >"$TMP/run.out" 2>"$TMP/run.err" || rc=$?
check_eq "run: exit 0" 0 "$rc"
check "run: program output" grep -q '^seeds: requests=100 ' "$TMP/run.out"
check_eq "run: says where the trace is" "poolprobe: trace written to $TMP/r.bin" "$(cat "$TMP/run.err")"
check "run: trace written" test -s "$TMP/r.bin"

# report forwards to poolprobe-report.
"$PP" report --format json "$TMP/r.bin" >"$TMP/r.json" || true
check_eq "report: render_buf allocs" 100 "$(site_field "$TMP/r.json" render_buf allocs 2>/dev/null)"
check_status "report --version exits 0" 0 "$PP" report --version
check_status "report of a missing file exits 2" 2 "$PP" report "$TMP/missing.bin"

# The program's exit status is passed on; no trace message when there is no trace.
rc=0
"$PP" run -o "$TMP/false.bin" -- sh -c 'exit 7' 2>/dev/null || rc=$?
check_eq "run: program's exit status passed on" 7 "$rc"

# Without -o: POOLPROBE_OUT, else ./trace.bin; %p becomes the pid.
mkdir "$TMP/cwd"
(cd "$TMP/cwd" && "$PP" run "$WORKLOADS/keeper" 5 >/dev/null 2>"$TMP/cwd.err")
check "run without -o: ./trace.bin" test -s "$TMP/cwd/trace.bin"
check_eq "run without -o: message" "poolprobe: trace written to trace.bin" "$(cat "$TMP/cwd.err")"
"$PP" run -o "$TMP/p.%p.bin" "$WORKLOADS/keeper" 5 >"$TMP/k.out" 2>"$TMP/k.err"
pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$TMP/k.out")
check_eq "run -o with %p: message names the pid" "poolprobe: trace written to $TMP/p.$pid.bin" \
    "$(cat "$TMP/k.err")"

# A program found through PATH, and an existing LD_PRELOAD kept after the shim.
mkdir "$TMP/bin"
cp "$WORKLOADS/keeper" "$TMP/bin/keeper-in-path"
rc=0
PATH="$TMP/bin:$PATH" "$PP" run -o "$TMP/path.bin" keeper-in-path 3 >/dev/null 2>&1 || rc=$?
check_eq "run: program from PATH" 0 "$rc"
preload=$(LD_PRELOAD=libm.so.6 "$PP" run -o "$TMP/env.bin" -- sh -c 'printf %s "$LD_PRELOAD"' 2>/dev/null)
check_eq "run: shim prepended to LD_PRELOAD" "$(readlink -f "$SHIM"):libm.so.6" "$preload"

# Refusals: a static program, a setuid one, a setgid one, something that is not there.
printf 'int main(void) { return 0; }\n' >"$TMP/hello.c"
if cc -static -o "$TMP/static" "$TMP/hello.c" 2>/dev/null; then
    rc=0
    "$PP" run -o "$TMP/s.bin" "$TMP/static" 2>"$TMP/static.err" || rc=$?
    check_eq "static program refused: exit 2" 2 "$rc"
    check "static program refused: says why" grep -q 'statically linked' "$TMP/static.err"
    check "static program refused: no trace" test ! -e "$TMP/s.bin"
else
    record FAIL "FAIL - cannot build a static test program (libc6-dev's libc.a missing?)"
fi
cp "$WORKLOADS/keeper" "$TMP/suid"
chmod u+s "$TMP/suid"
rc=0
"$PP" run -o "$TMP/u.bin" "$TMP/suid" 2>"$TMP/suid.err" || rc=$?
check_eq "setuid program refused: exit 2" 2 "$rc"
check "setuid program refused: says why" grep -q 'setuid' "$TMP/suid.err"
cp "$WORKLOADS/keeper" "$TMP/sgid"
chmod g+s "$TMP/sgid"
check_status "setgid program refused: exit 2" 2 "$PP" run -o "$TMP/g.bin" "$TMP/sgid"
check_status "missing program: exit 2" 2 "$PP" run "$TMP/nope"
check_status "run without a program: exit 2" 2 "$PP" run -o "$TMP/x.bin"

# The installed layout: make install substitutes the library directory.
mkdir -p "$TMP/inst/lib" "$TMP/inst/bin"
cp "$SHIM" "$TMP/inst/lib/libpoolprobe.so"
cp "$REPORT" "$TMP/inst/bin/poolprobe-report"
sed "s|@LIBDIR@|$TMP/inst/lib|" "$PP" >"$TMP/inst/bin/poolprobe"
chmod 0755 "$TMP/inst/bin/poolprobe"
preload=$("$TMP/inst/bin/poolprobe" run -o "$TMP/i.bin" -- sh -c 'printf %s "$LD_PRELOAD"' 2>/dev/null)
check_eq "installed: uses LIBDIR's shim" "$TMP/inst/lib/libpoolprobe.so" "$preload"
check_status "installed: report found next to the launcher" 0 "$TMP/inst/bin/poolprobe" report --version
