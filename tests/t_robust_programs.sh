#!/usr/bin/env bash
# t_robust_programs.sh — real programs behave the same with and without the shim (stdout,
# stderr and exit status) and leave readable traces with allocations in them: python3 with
# threads and a child interpreter, perl, sqlite3 on a WAL file database, git (init, commits,
# log), cppcheck, tclsh, jq, gawk, and memcached (multi-threaded) serving a bounded load from
# a small client and stopped with SIGTERM. t_programs covers the plain python3 and sqlite3 runs.
# A program that is not installed is a skip (see skip in tests/lib.sh).
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/robust_lib.sh
. "${0%/*}/robust_lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/robust_mcclient"
ROBUST_TIMEOUT=60

have() { # have NAME: the program is installed, else say skip
    if command -v "$1" >/dev/null 2>&1; then return 0; fi
    skip "$1 under the shim" "$1 not installed"
    return 1
}

# program NAME -- CMD ARGS...: natively, then under the shim with every process's trace in
# $TMP/NAME.d/ (descendants write trace.<pid>.bin beside trace.bin); same behaviour, readable
# traces, allocations counted. Runs in the current directory.
program() {
    local name=$1
    shift
    if [ "${1:-}" = "--" ]; then shift; fi
    mkdir -p "$TMP/$name.d"
    run_native "$name" -- "$@"
    run_shim "$name" "$TMP/$name.d/trace.bin" -- "$@"
    same_behaviour "$name" quiet
    check_eq "$name: exit status 0" 0 "$(cat "$TMP/$name.shim.rc")"
    trace_ok "$name" "$TMP/$name.json" "$TMP/$name.d"/trace*.bin
    check_eq "$name: totals.allocs > 0" true "$(json_get "$TMP/$name.json" '.totals.allocs > 0')"
}

# --- python3: threads, hashlib, and a child interpreter (traced as a descendant) ------------
if py=$(real_python 2>/dev/null) && [ -n "$py" ]; then
    cat >"$TMP/threads.py" <<'PY'
import hashlib, json, subprocess, sys, threading
results = {}
def work(n):
    h = hashlib.sha256()
    for i in range(3000):
        h.update(("%d-%d" % (n, i)).encode() * 3)
    results[n] = h.hexdigest()[:12]
threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(results, sort_keys=True))
child = subprocess.run([sys.executable, "-c", "print(sum(x * x for x in range(10000)))"],
                       capture_output=True, text=True, check=True)
print("child:", child.stdout.strip())
PY
    program python3 -- "$py" "$TMP/threads.py"
    check_eq "python3: the parent and its child interpreter both traced" 2 \
        "$(json_get "$TMP/python3.json" '.processes | length')"
else
    skip "python3 under the shim" "python3 not installed"
fi

# --- perl ---------------------------------------------------------------------------------
if have perl; then
    cat >"$TMP/work.pl" <<'PL'
use strict; use warnings;
my %h; my @words;
for my $i (1..20000) { my $w = "w" . ($i * 7919 % 1000); push @words, $w; $h{$w}++; }
my @top = (sort { $h{$b} <=> $h{$a} || $a cmp $b } keys %h)[0..4];
my $s = join(",", map { "$_=$h{$_}" } @top);
(my $t = $s) =~ s/w(\d+)/W<$1>/g;
printf "%d %s\n%s\n", scalar(@words), $s, $t;
PL
    program perl -- perl "$TMP/work.pl"
fi

# --- sqlite3 on a file database in WAL mode -------------------------------------------------
if have sqlite3; then
    {
        echo "PRAGMA journal_mode=WAL;"
        echo "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER);"
        echo "BEGIN;"
        for i in $(seq 1 300); do echo "INSERT INTO t(name, grp) VALUES ('n$i', $((i % 5)));"; done
        echo "COMMIT;"
        echo "SELECT grp, count(*), max(name) FROM t GROUP BY grp ORDER BY grp;"
        echo "PRAGMA wal_checkpoint(TRUNCATE);"
    } >"$TMP/wal.sql"
    sqlite_wal() { rm -f "$1" "$1-wal" "$1-shm" && sqlite3 "$1" <"$2"; }
    program sqlite3 -- bash -c "$(declare -f sqlite_wal); sqlite_wal '$TMP/wal.db' '$TMP/wal.sql'"
    check "sqlite3: WAL mode on" grep -qx wal "$TMP/sqlite3.shim.out"
fi

# --- git: init, two commits with fixed dates, log --------------------------------------------
if have git; then
    git_work() {
        rm -rf "$1" && mkdir "$1" && cd "$1" &&
            export HOME=$1 GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org \
                GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org \
                GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z' &&
            git init -q -b main . && seq 1 500 >a.txt && printf 'x\n' >b.txt && git add . &&
            git commit -q -m first && seq 2 2 900 >a.txt && git commit -q -am second &&
            git log --stat --format='%H %s' && git status --short
    }
    program git -- bash -c "$(declare -f git_work); git_work '$TMP/repo'"
fi

# --- cppcheck on a small C file --------------------------------------------------------------
if have cppcheck; then
    mkdir "$TMP/cpp"
    cat >"$TMP/cpp/bad.c" <<'C'
#include <stdlib.h>
#include <string.h>
int f(int n)
{
    char buf[8];
    char *p = malloc(16);
    strcpy(buf, "0123456789");
    if (n > 3)
        return buf[n];
    return p[0];
}
C
    (cd "$TMP/cpp" && program cppcheck -- cppcheck --enable=warning,style --inconclusive \
        --error-exitcode=0 bad.c)
    check "cppcheck: found the overflow" grep -q 'bad.c' "$TMP/cppcheck.shim.err"
fi

# --- tclsh -------------------------------------------------------------------------------
if have tclsh; then
    cat >"$TMP/work.tcl" <<'TCL'
set d [dict create]
for {set i 0} {$i < 20000} {incr i} { dict incr d "k[expr {$i * 7919 % 500}]" }
set l [lsort -integer -decreasing [dict values $d]]
puts "[dict size $d] [lrange $l 0 4] [string length [join [dict keys $d] ,]]"
puts [string map {k K} [lsort [lrange [dict keys $d] 0 5]]]
TCL
    program tclsh -- tclsh "$TMP/work.tcl"
fi

# --- jq ----------------------------------------------------------------------------------
if have jq; then
    seq 1 3000 | awk '{printf "{\"id\":%d,\"grp\":\"g%d\",\"v\":[%d,%d]}\n", $1, $1 % 7, $1, $1 * 2}' \
        >"$TMP/in.jsonl"
    program jq -- jq -s -c 'group_by(.grp) | map({grp: .[0].grp, n: length, s: (map(.v[1]) | add)})' \
        "$TMP/in.jsonl"
fi

# --- gawk --------------------------------------------------------------------------------
if have gawk; then
    seq 1 30000 | awk '{print "w" ($1 * 7919 % 997), $1}' >"$TMP/in.txt"
    # shellcheck disable=SC2016  # an awk program, not shell
    program gawk -- gawk '{ c[$1]++; s[$1] += $2 } END { PROCINFO["sorted_in"] = "@ind_str_asc";
        n = 0; for (k in c) if (n++ < 5) printf "%s %d %d\n", k, c[k], s[k]; print length(c) }' \
        "$TMP/in.txt"
fi

# --- memcached: a multi-threaded server under a bounded load, stopped by SIGTERM -------------
if have memcached; then
    user=()
    if [ "$(id -u)" = 0 ]; then user=(-u root); fi
    mc_round() { # mc_round NAME shim|native: server, client load, SIGTERM; results in $TMP/NAME.*
        local name=$1 how=$2 port rc=0 spid
        mkdir -p "$TMP/$name.d"
        for _ in 1 2 3 4 5; do
            port=$((20000 + RANDOM % 40000))
            if [ "$how" = shim ]; then
                env LD_PRELOAD="$SHIM" POOLPROBE_OUT="$TMP/$name.d/trace.bin" \
                    memcached -l 127.0.0.1 -p $port -U 0 -t 4 "${user[@]}" 2>"$TMP/$name.server.err" &
            else
                memcached -l 127.0.0.1 -p $port -U 0 -t 4 "${user[@]}" 2>"$TMP/$name.server.err" &
            fi
            spid=$!
            sleep 0.3
            if kill -0 "$spid" 2>/dev/null; then break; fi # else the port was taken: another
        done
        timeout -k 5 30 "$WORKLOADS/robust_mcclient" $port 2000 4 >"$TMP/$name.$how.out" \
            2>"$TMP/$name.$how.err" || rc=$?
        echo "$rc" >"$TMP/$name.$how.rc"
        kill -TERM "$spid" 2>/dev/null || true
        rc=0
        # Bounded wait for the server: a hang on SIGTERM is a failure, not a stuck test.
        for _ in $(seq 100); do
            if ! kill -0 "$spid" 2>/dev/null; then break; fi
            sleep 0.1
        done
        if kill -0 "$spid" 2>/dev/null; then
            kill -KILL "$spid" 2>/dev/null || true
            echo hung >"$TMP/$name.$how.server"
        fi
        # (braces: bash's own "Killed" notice would look like a failure in the log)
        { wait "$spid"; } 2>/dev/null || rc=$?
        echo "$rc" >>"$TMP/$name.$how.server"
    }
    mc_round mc native
    mc_round mc shim
    check "memcached: client output identical" cmp "$TMP/mc.native.out" "$TMP/mc.shim.out"
    check_eq "memcached: client status 0 under the shim" 0 "$(cat "$TMP/mc.shim.rc")"
    check "memcached: client stored and read 2000" grep -q 'stored=2000 hits=2000' "$TMP/mc.shim.out"
    check_eq "memcached: server's end (SIGTERM) the same" "$(cat "$TMP/mc.native.server")" \
        "$(cat "$TMP/mc.shim.server")"
    check_eq "memcached: nothing from the shim on the server's stderr" 0 \
        "$(poolprobe_lines "$TMP/mc.server.err")"
    trace_ok memcached "$TMP/mc.json" "$TMP/mc.d"/trace*.bin
    check_eq "memcached: totals.allocs > 0" true "$(json_get "$TMP/mc.json" '.totals.allocs > 0')"
    check_eq "memcached: the final trace (clean exit on SIGTERM)" false \
        "$(json_get "$TMP/mc.json" '.processes[0].snapshot')"
fi
