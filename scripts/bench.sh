#!/usr/bin/env bash
# bench.sh — `make bench`: what recording costs under poolprobe, next to heaptrack.
#
# Usage: scripts/bench.sh   (after `make all`; run from anywhere, works from the tree's top)
#   BENCH_RUNS=N     rounds per measurement (default 3; BENCH_RUNS=1 for a quick look)
#   BENCH_SAMPLE=N   the sampled column runs under POOLPROBE_SAMPLE=N (default 100)
#   BENCH_ONLY="w1 w2"  only these workloads (default: all nine; the targets then say n/a)
#
# Nine workloads (allocbench on 1 and 2 threads, sqlite3, python3 with PYTHONMALLOC=malloc,
# cppcheck on a generated 6.8k-line C file, a shell loop of 50 subshells, a loop of 50 short
# processes, and threadstress on 1 and 8 threads) run natively, under the shim, under the shim in
# sampling mode, under the floor (tests/bench/floor.c: a preload that only forwards and counts
# per return address, the limit of any per-site profiler) and under heaptrack (when installed),
# all alternating within each round and the order rotating from round to round, so drift in the
# machine hits them alike. Wall time and peak RSS come from GNU time; the table shows medians.
# Then: trace size against run length, the shim's memory per live allocation and per stack,
# poolprobe-report's speed. The last block sets each figure against its target. With the
# defaults it takes about 6 minutes on a 2-core machine.
#
# A missed target is a measurement, not an error: the exit status is 0. It is 1 when a workload
# failed or printed something different under the shim (that is a shim bug, reported above the
# targets), and 2 when the bench could not start. Everything printed on stdout is also saved to
# build/bench/report.txt; progress goes to stderr. Workloads build into build/bench/, their
# traces, heaptrack files and logs stay in build/bench/out/ for a second look. The shim and the
# report measured are copies taken at the start (build/bench/libpoolprobe.so and
# build/bench/poolprobe-report), so a rebuild while the bench runs cannot mix two builds.
set -eu
set -o pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

unset POOLPROBE_OUT POOLPROBE_DEPTH POOLPROBE_SAMPLE POOLPROBE_INTERVAL POOLPROBE_MAX_MEMORY_MB

B=build
BB=$B/bench
OUT=$BB/out
SHIM=$B/libpoolprobe.so
REPORT=$B/poolprobe-report
WORKLOADS=${BENCH_ONLY:-"alloc-1t alloc-2t sqlite3 python3 cppcheck shell procs threads-1 threads-8"}
# The shell and procs loops: how many subshells / processes each run starts.
LOOP_N=50

die() { # die MESSAGE: the bench cannot run at all
    printf 'bench: error: %s\n' "$*" >&2
    exit 2
}
progress() { printf 'bench: %s\n' "$*" >&2; }

runs=${BENCH_RUNS:-3}
case $runs in '' | *[!0-9]* | 0) die "BENCH_RUNS=$runs is not a positive number" ;; esac
sample=${BENCH_SAMPLE:-100}
case $sample in '' | *[!0-9]* | 0) die "BENCH_SAMPLE=$sample is not a positive number" ;; esac

for f in "$SHIM" "$REPORT"; do
    [ -f "$f" ] || die "$f is missing; run 'make bench' (or make all first)"
done
for tool in gcc sqlite3 cppcheck awk; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (scripts/install-deps.sh installs it)"
done
# GNU time, not the shell keyword: it is what reports peak RSS.
gnu_time=$(type -P time || true)
case $([ -z "$gnu_time" ] || "$gnu_time" --version 2>&1) in
*GNU*) ;;
*) die "GNU time not found (Debian: apt-get install time)" ;;
esac
# The distribution's interpreter: a version manager's python3 in PATH is a script in front of a
# different build, which would be measured instead.
if [ -x /usr/bin/python3 ]; then
    python=/usr/bin/python3
else
    python=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) ||
        die "python3 not found"
fi
have_heaptrack=0
if command -v heaptrack >/dev/null 2>&1; then have_heaptrack=1; fi

mkdir -p "$OUT"
# Measure copies: someone may rebuild build/ while this runs (a few minutes).
BUILT_SHIM=$SHIM BUILT_REPORT=$REPORT
cp "$BUILT_SHIM" "$BB/libpoolprobe.so"
cp "$BUILT_REPORT" "$BB/poolprobe-report"
SHIM=$BB/libpoolprobe.so
REPORT=$BB/poolprobe-report
build_id() { # build_id SHIM REPORT: their checksums
    printf 'shim %s, report %s' "$(cksum <"$1" | cut -d' ' -f1)" "$(cksum <"$2" | cut -d' ' -f1)"
}
build_at_start=$(build_id "$SHIM" "$REPORT")
TMP=$(mktemp -d -t poolprobe-bench.XXXXXX)
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# workload -> its time ratio to native under poolprobe, heaptrack, sampling and the floor; and
# the median seconds natively and under poolprobe (set with the table)
declare -A ratio_pp ratio_ht ratio_ps ratio_fl secs_native secs_pp
problems=$TMP/problems # one line per workload that failed or changed its output
: >"$problems"

# --- small helpers ------------------------------------------------------------------------------

# The median of the numbers in column COL of FILE ("-" when there are none).
median() { # median FILE COL
    if [ ! -s "$1" ]; then echo -; return 0; fi
    sort -g -k"$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
        END { if (NR == 0) print "-"
              else if (NR % 2) print v[(NR + 1) / 2]
              else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

calc() { awk "BEGIN { $1 }" </dev/null; } # calc 'printf ..., expr': float arithmetic

minus_kib() { # minus_kib A B: A - B, "-" when either is missing (medians may have decimals)
    if [ "$1" = - ] || [ "$2" = - ]; then echo -; else calc "printf \"%d\", $1 - $2"; fi
}

as_x() { case $1 in - | n/a) echo n/a ;; *) echo "${1}x" ;; esac; } # as_x 2.5: "2.5x"

ratio() { # ratio A B: A/B with two decimals, "n/a" when either is missing or B is 0
    # (GNU time counts CPU in 10 ms steps: a short native run can read 0.00)
    case "$1$2" in *-* | *n/a*) echo n/a ;; *) calc "a = $1; b = $2; if (b == 0) print \"n/a\"; else printf \"%.2f\", a / b" ;; esac
}

human_bytes() { # human_bytes N|-
    case $1 in
    - | n/a) echo n/a ;;
    *) calc "n = $1; if (n < 1024) printf \"%d B\", n; else if (n < 1048576)
            printf \"%.1f KiB\", n / 1024; else printf \"%.1f MiB\", n / 1048576" ;;
    esac
}

human_kib() { # human_kib KIB|-  (GNU time's %M)
    case $1 in - | n/a) echo n/a ;; *) human_bytes "$(calc "printf \"%d\", $1 * 1024")" ;; esac
}

file_size() { if [ -f "$1" ]; then wc -c <"$1" | tr -d ' '; else echo -; fi; }

trace_bytes() { # trace_bytes TAG: the bytes of TAG's trace and its children's, "-" when none
    cat "$OUT/$1.trace" "$OUT/$1".[0-9]*.trace 2>/dev/null | wc -c | awk '{ print $1 ? $1 : "-" }'
}

# verdict OK: PASS when the awk condition OK holds, n/a when a figure is missing.
verdict() { # verdict 'awk condition' FIGURE...
    local cond=$1
    shift
    for v in "$@"; do
        case $v in - | n/a | '') echo n/a; return ;; esac
    done
    calc "if ($cond) print \"PASS\"; else print \"FAIL\""
}

# The argv of workload NAME in the array `cmd`, its stdin in `stdin`.
set_workload() { # set_workload NAME
    stdin=/dev/null
    case $1 in
    alloc-1t) cmd=("$BB/allocbench" 2000000 1) ;;
    alloc-2t) cmd=("$BB/allocbench" 2000000 2) ;;
    sqlite3) cmd=(sqlite3 :memory:) stdin=$BB/work.sql ;;
    python3) cmd=(env PYTHONMALLOC=malloc "$python" tests/bench/pywork.py) ;;
    cppcheck) cmd=(cppcheck --quiet --force "$BB/big.c") ;;
    # Each $(...) is a forked bash that runs echo and exits: what a fork costs.
    shell) cmd=(bash -c "for i in \$(seq $LOOP_N); do x=\$(echo \$i); done") ;;
    # Each /bin/true is a fork and an exec of a process that does almost nothing.
    procs) cmd=(bash -c "for i in \$(seq $LOOP_N); do /bin/true; done") ;;
    threads-1) cmd=("$BB/threadstress" 5000000 1) ;;
    threads-8) cmd=("$BB/threadstress" 1000000 8) ;;
    *) die "no workload $1" ;;
    esac
}

# heaptrack traces the process it starts and not what that process execs: `heaptrack env
# PYTHONMALLOC=malloc python3` traced env alone (36 allocations). So a workload's leading `env
# VAR=VALUE...` goes in front of heaptrack: cmd_env gets the assignments, cmd_prog the rest.
split_env() {
    cmd_env=() cmd_prog=("${cmd[@]}")
    [ "${cmd_prog[0]}" = env ] || return 0
    cmd_prog=("${cmd_prog[@]:1}")
    while [[ ${cmd_prog[0]} == *=* ]]; do
        cmd_env+=("${cmd_prog[0]}")
        cmd_prog=("${cmd_prog[@]:1}")
    done
}

# run_mode MODE NAME TAG [ENV=VALUE...]: run workload NAME natively, under the shim (pp), under
# the shim sampling 1 in $sample (ps), under the floor (fl) or under heaptrack (ht), appending "seconds peak-KiB" to $TMP/TAG.MODE.time. stdout and stderr
# go to $OUT/TAG.MODE.out / .err; the trace to $OUT/TAG.trace, heaptrack's to
# $OUT/TAG.heaptrack.zst.
run_mode() {
    local mode=$1 name=$2 tag=$3 rc=0
    shift 3
    set_workload "$name"
    local tf=$TMP/$tag.$mode.one
    # Wall time from the shell's microsecond clock (GNU time's %e has only two decimals, too
    # coarse for the short loops); GNU time still gives the peak RSS.
    local t0=$EPOCHREALTIME
    case $mode in
    native) "$gnu_time" -f '%e %M %U %S' -o "$tf" "${cmd[@]}" ;;
    pp)
        rm -f "$OUT/$tag.trace" "$OUT/$tag".*.trace
        "$gnu_time" -f '%e %M %U %S' -o "$tf" env LD_PRELOAD="$PWD/$SHIM" \
            POOLPROBE_OUT="$OUT/$tag.trace" "$@" "${cmd[@]}"
        ;;
    ps)
        rm -f "$OUT/$tag.sampled.trace" "$OUT/$tag.sampled".*.trace
        "$gnu_time" -f '%e %M %U %S' -o "$tf" env LD_PRELOAD="$PWD/$SHIM" POOLPROBE_SAMPLE="$sample" \
            POOLPROBE_OUT="$OUT/$tag.sampled.trace" "$@" "${cmd[@]}"
        ;;
    fl) "$gnu_time" -f '%e %M %U %S' -o "$tf" env LD_PRELOAD="$PWD/$BB/floor.so" "${cmd[@]}" ;;
    ht)
        rm -f "$OUT/$tag.heaptrack".*
        split_env
        "$gnu_time" -f '%e %M %U %S' -o "$tf" env "${cmd_env[@]}" heaptrack \
            -o "$OUT/$tag.heaptrack" "${cmd_prog[@]}"
        ;;
    esac <"$stdin" >"$OUT/$tag.$mode.out" 2>"$OUT/$tag.$mode.err" || rc=$?
    local t1=$EPOCHREALTIME
    if [ "$rc" != 0 ]; then
        echo "$tag under $mode: exit status $rc (see $OUT/$tag.$mode.err)" >>"$problems"
        progress "$tag under $mode failed with exit status $rc"
        return 0
    fi
    # GNU time writes "Command exited..." lines first when the status is not 0; keep its last.
    # Columns: wall s, peak RSS KiB, CPU s (user + system, children included).
    calc "printf \"%.4f %d %.2f\\n\", $t1 - $t0, $(tail -n 1 "$tf" |
        awk '{ print $2 ", " $3 " + " $4 }')" >>"$TMP/$tag.$mode.time"
}

# The heaptrack output file of TAG (zstd, gzip or plain, whichever heaptrack wrote).
ht_file() {
    for f in "$OUT/$1.heaptrack.zst" "$OUT/$1.heaptrack.gz" "$OUT/$1.heaptrack"; do
        if [ -f "$f" ]; then echo "$f"; return; fi
    done
    echo -
}

# Same stdout and stderr natively and under the shim? Checked on the first round only.
compare_outputs() { # compare_outputs TAG
    local tag=$1
    for stream in out err; do
        if ! cmp -s "$OUT/$tag.native.$stream" "$OUT/$tag.pp.$stream"; then
            echo "$tag: std$stream differs under poolprobe (diff -u $OUT/$tag.native.$stream" \
                "$OUT/$tag.pp.$stream)" >>"$problems"
            diff -u "$OUT/$tag.native.$stream" "$OUT/$tag.pp.$stream" \
                >"$OUT/$tag.$stream.diff" || true
        fi
    done
}

sh_quote() { # the words as one shell command line
    local out="" w
    for w in "$@"; do
        case $w in *[!A-Za-z0-9_./:=+,-]* | '') w="'${w//\'/\'\\\'\'}'" ;; esac
        out="$out${out:+ }$w"
    done
    printf '%s' "$out"
}

# --- build --------------------------------------------------------------------------------------

build_cmds=(
    "gcc -O2 -g -pthread -fno-omit-frame-pointer -fno-optimize-sibling-calls tests/bench/allocbench.c -o $BB/allocbench"
    "gcc -O2 -g -pthread tests/bench/livemem.c -o $BB/livemem"
    "gcc -O1 -g -pthread -fno-inline -fno-optimize-sibling-calls tests/bench/manystacks.c -o $BB/manystacks"
    "gcc -O2 -g -pthread tests/bench/costmodel.c -o $BB/costmodel"
    "gcc -O2 -g -pthread tests/bench/threadstress.c -o $BB/threadstress"
    "gcc -O2 -g -shared -fPIC tests/bench/floor.c -o $BB/floor.so -ldl"
    "gcc -O2 -g tests/bench/clockcost.c -o $BB/clockcost"
    "tests/bench/gen_sql.sh 200000 > $BB/work.sql"
    "$python tests/bench/gen_c.py 30 > $BB/big.c"
)
progress "building workloads into $BB/"
for c in "${build_cmds[@]}"; do
    sh -c "$c" || die "could not run: $c"
done

main() {
    echo "poolprobe bench — recording overhead, next to heaptrack ($runs round(s) per figure)"
    echo
    echo "machine"
    printf '  %-10s %s\n' nproc "$(nproc)"
    printf '  %-10s %s\n' cpu "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    printf '  %-10s %s\n' kernel "$(uname -r)"
    printf '  %-10s %s\n' gcc "$(gcc --version | head -n 1)"
    printf '  %-10s %s\n' sqlite3 "$(sqlite3 --version | cut -d' ' -f1)"
    printf '  %-10s %s\n' python3 "$("$python" --version 2>&1)"
    printf '  %-10s %s\n' cppcheck "$(cppcheck --version)"
    if [ $have_heaptrack = 1 ]; then
        printf '  %-10s %s\n' heaptrack "$(heaptrack --version 2>&1 | head -n 1)"
    else
        printf '  %-10s %s\n' heaptrack "not installed: its columns say n/a"
    fi
    if git rev-parse --short HEAD >/dev/null 2>&1; then
        local dirty=""
        git diff --quiet HEAD -- shim analyzer 2>/dev/null || dirty=" + uncommitted changes in shim/ or analyzer/"
        printf '  %-10s %s\n' poolprobe "$(git rev-parse --short HEAD)$dirty"
    fi
    printf '  %-10s %s (copies of %s and %s)\n' cksum "$build_at_start" "$BUILT_SHIM" \
        "$BUILT_REPORT"
    printf '  %-10s %s\n' loadavg "$(cut -d' ' -f1-3 /proc/loadavg) at the start"
    echo
    echo "commands (from the top of the tree)"
    for c in "${build_cmds[@]}"; do echo "  \$ $c"; done
    echo "  each run timed as: time -f '%e %M' -o FILE COMMAND  (GNU time: wall s, peak RSS KiB)"
    for name in $WORKLOADS; do
        set_workload "$name"
        local redir=""
        [ "$stdin" = /dev/null ] || redir=" < $stdin"
        echo "  $name:"
        echo "    native     \$ $(sh_quote "${cmd[@]}")$redir"
        echo "    poolprobe  \$ LD_PRELOAD=$SHIM POOLPROBE_OUT=$OUT/$name.trace $(sh_quote "${cmd[@]}")$redir"
        echo "    sampled    \$ LD_PRELOAD=$SHIM POOLPROBE_SAMPLE=$sample POOLPROBE_OUT=$OUT/$name.sampled.trace $(sh_quote "${cmd[@]}")$redir"
        echo "    floor      \$ LD_PRELOAD=$BB/floor.so $(sh_quote "${cmd[@]}")$redir"
        if [ $have_heaptrack = 1 ]; then
            split_env
            echo "    heaptrack  \$ $(sh_quote "${cmd_env[@]}")${cmd_env[*]:+ }heaptrack -o $OUT/$name.heaptrack $(sh_quote "${cmd_prog[@]}")$redir"
        fi
    done
    echo

    # --- the table ------------------------------------------------------------------------------
    local modes="native pp ps fl" order round name mode
    [ $have_heaptrack = 0 ] || modes="native pp ps fl ht"
    for round in $(seq 1 "$runs"); do
        # Rotate which of the three goes first, so none always runs on a cold (or warm) machine.
        order=$(echo "$modes" | awk -v r="$round" '{ for (i = 0; i < NF; i++)
            printf "%s%s", (i ? " " : ""), $((i + r - 1) % NF + 1); print "" }')
        for name in $WORKLOADS; do
            progress "round $round/$runs: $name ($order)"
            for mode in $order; do run_mode "$mode" "$name" "$name"; done
            [ "$round" != 1 ] || compare_outputs "$name"
        done
    done

    echo "overhead: medians of $runs run(s); cpu s = user + system CPU seconds (children included);"
    echo "x = CPU time / native CPU time (on a shared machine, wall time mostly measures the other"
    echo "load); RSS = peak resident set"
    echo "pp = poolprobe; smp = poolprobe with POOLPROBE_SAMPLE=$sample; floor = forward and count"
    echo "per return address only (tests/bench/floor.c); ht = heaptrack, whose RSS is the largest"
    echo "process of its tree (the program or heaptrack_interpret)"
    echo
    local fmt='%-9s %8s %6s %6s %6s %6s %6s %6s %9s %9s %9s %9s %9s\n'
    # shellcheck disable=SC2059  # the format is ours
    printf "$fmt" workload "nat cpu" "pp cpu" "pp x" "smp x" "floor x" "ht cpu" "ht x" "pp trace" \
        "ht output" "RSS nat" "RSS pp" "RSS ht"
    printf '%.112s\n' "$(printf '%0120d' 0 | tr 0 -)"
    local nat_s pp_s ht_s
    for name in $WORKLOADS; do
        nat_s=$(median "$TMP/$name.native.time" 3 2>/dev/null || echo -)
        pp_s=$(median "$TMP/$name.pp.time" 3 2>/dev/null || echo -)
        ht_s=n/a
        [ $have_heaptrack = 0 ] || ht_s=$(median "$TMP/$name.ht.time" 3 2>/dev/null || echo -)
        local ppx htx
        ppx=$(ratio "$pp_s" "$nat_s")
        htx=$(ratio "$ht_s" "$nat_s")
        ratio_pp[$name]=$ppx
        ratio_ht[$name]=$htx
        ratio_ps[$name]=$(ratio "$(median "$TMP/$name.ps.time" 3 2>/dev/null || echo -)" "$nat_s")
        ratio_fl[$name]=$(ratio "$(median "$TMP/$name.fl.time" 3 2>/dev/null || echo -)" "$nat_s")
        secs_native[$name]=$nat_s
        secs_pp[$name]=$pp_s
        local ht_out=n/a ht_rss=n/a
        if [ $have_heaptrack = 1 ]; then
            ht_out=$(human_bytes "$(file_size "$(ht_file "$name")")")
            ht_rss=$(human_kib "$(median "$TMP/$name.ht.time" 2 2>/dev/null || echo -)")
        fi
        # shellcheck disable=SC2059
        printf "$fmt" "$name" "$nat_s" "$pp_s" "$ppx" "${ratio_ps[$name]}" "${ratio_fl[$name]}" \
            "$ht_s" "$htx" "$(human_bytes "$(trace_bytes "$name")")" "$ht_out" \
            "$(human_kib "$(median "$TMP/$name.native.time" 2 2>/dev/null || echo -)")" \
            "$(human_kib "$(median "$TMP/$name.pp.time" 2 2>/dev/null || echo -)")" "$ht_rss"
    done
    echo "(pp trace: the bytes of every trace the run wrote; the shell and procs loops write one"
    echo "per process)"
    echo
    if [ -s "$problems" ]; then
        echo "outputs: a workload failed or printed something else under a profiler (PROBLEMS below)"
    else
        echo "outputs: stdout and stderr of every workload identical natively and under poolprobe"
    fi
    echo

    # --- a. trace size against run length -------------------------------------------------------
    echo "a. trace size vs run length (allocbench, 1 thread, 10x the requests)"
    local small big
    for n in 200000 2000000; do
        echo "  \$ LD_PRELOAD=$SHIM POOLPROBE_OUT=$OUT/len-$n.trace $BB/allocbench $n 1"
        rm -f "$OUT/len-$n.trace"
        LD_PRELOAD="$PWD/$SHIM" POOLPROBE_OUT="$OUT/len-$n.trace" "$BB/allocbench" "$n" 1 \
            >/dev/null 2>"$OUT/len-$n.err" ||
            echo "allocbench $n under pp: exit status $?" >>"$problems"
    done
    small=$(file_size "$OUT/len-200000.trace")
    big=$(file_size "$OUT/len-2000000.trace")
    local len_ratio
    len_ratio=$(ratio "$big" "$small")
    echo "  200000 requests: $small bytes; 2000000 requests: $big bytes; ratio $len_ratio"
    echo

    # --- b. memory per live allocation ----------------------------------------------------------
    echo "b. shim memory per live allocation (32-byte blocks from one site, all live at exit)"
    local n
    for n in 1000 1000000; do
        echo "  \$ $BB/livemem $n"
        echo "  \$ LD_PRELOAD=$SHIM POOLPROBE_OUT=$OUT/livemem-$n.trace $BB/livemem $n"
    done
    progress "livemem"
    for round in $(seq 1 "$runs"); do
        for n in 1000 1000000; do
            rm -f "$OUT/livemem-$n.trace"
            for mode in native pp; do
                local tf=$TMP/livemem-$n.$mode.one rc=0
                if [ $mode = native ]; then
                    "$gnu_time" -f '%e %M %U %S' -o "$tf" "$BB/livemem" "$n" >/dev/null || rc=$?
                else
                    "$gnu_time" -f '%e %M %U %S' -o "$tf" env LD_PRELOAD="$PWD/$SHIM" \
                        POOLPROBE_OUT="$OUT/livemem-$n.trace" "$BB/livemem" "$n" >/dev/null || rc=$?
                fi
                if [ $rc = 0 ]; then
                    tail -n 1 "$tf" >>"$TMP/livemem-$n.$mode.time"
                else
                    echo "livemem $n under $mode: exit status $rc" >>"$problems"
                fi
            done
        done
    done
    local fixed_kib big_kib per_live=- raw_per_live=-
    fixed_kib=$(minus_kib "$(median "$TMP/livemem-1000.pp.time" 2)" \
        "$(median "$TMP/livemem-1000.native.time" 2)")
    big_kib=$(minus_kib "$(median "$TMP/livemem-1000000.pp.time" 2)" \
        "$(median "$TMP/livemem-1000000.native.time" 2)")
    if [ "$fixed_kib" != - ] && [ "$big_kib" != - ]; then
        raw_per_live=$(calc "printf \"%.1f\", $big_kib * 1024 / 1000000")
        per_live=$(calc "printf \"%.1f\", ($big_kib - $fixed_kib) * 1024 / (1000000 - 1000)")
    fi
    echo "  peak RSS, native -> poolprobe: 1000 blocks $(human_kib "$(median "$TMP/livemem-1000.native.time" 2)")" \
        "-> $(human_kib "$(median "$TMP/livemem-1000.pp.time" 2)");" \
        "1000000 blocks $(human_kib "$(median "$TMP/livemem-1000000.native.time" 2)")" \
        "-> $(human_kib "$(median "$TMP/livemem-1000000.pp.time" 2)")"
    echo "  fixed cost (1000 blocks): $(human_kib "$fixed_kib")"
    echo "  per live allocation: $raw_per_live B including the fixed cost," \
        "$per_live B beyond it"
    echo

    # --- c. poolprobe-report speed --------------------------------------------------------------
    echo "c. poolprobe-report speed (wall time, median of $runs)"
    progress "manystacks and poolprobe-report"
    echo "  \$ $REPORT $OUT/sqlite3.trace > /dev/null"
    for round in $(seq 1 "$runs"); do
        "$gnu_time" -f '%e %M' -o "$TMP/rep-sql.one" "$REPORT" "$OUT/sqlite3.trace" >/dev/null &&
            tail -n 1 "$TMP/rep-sql.one" >>"$TMP/rep-sql.time" ||
            echo "poolprobe-report on the sqlite3 trace failed" >>"$problems"
    done
    local rep_sql rep_many rep_stack stacks
    rep_sql=$(median "$TMP/rep-sql.time" 1)
    echo "    $rep_sql s, peak RSS $(human_kib "$(median "$TMP/rep-sql.time" 2)")"
    # Full stacks: this measures the stack table and the report on 131k distinct stacks (in
    # site mode they would share a few site prefixes).
    echo "  \$ POOLPROBE_STACKS=full POOLPROBE_DEPTH=64 LD_PRELOAD=$SHIM POOLPROBE_OUT=$OUT/manystacks.trace $BB/manystacks 17"
    rm -f "$OUT/manystacks.trace"
    "$gnu_time" -f '%e %M' -o "$TMP/ms-run.one" env POOLPROBE_STACKS=full POOLPROBE_DEPTH=64 LD_PRELOAD="$PWD/$SHIM" \
        POOLPROBE_OUT="$OUT/manystacks.trace" "$BB/manystacks" 17 >/dev/null ||
        echo "manystacks under pp failed" >>"$problems"
    echo "    $(tail -n 1 "$TMP/ms-run.one" | awk '{ print $1 }') s," \
        "peak RSS $(human_kib "$(tail -n 1 "$TMP/ms-run.one" | awk '{ print $2 }')")," \
        "trace $(human_bytes "$(file_size "$OUT/manystacks.trace")")" \
        "(natively: $("$gnu_time" -f '%e s, peak RSS %M KiB' "$BB/manystacks" 17 2>&1 >/dev/null | tail -n 1))"
    echo "  \$ $REPORT $OUT/manystacks.trace > /dev/null"
    for round in $(seq 1 "$runs"); do
        "$gnu_time" -f '%e %M' -o "$TMP/rep-many.one" "$REPORT" "$OUT/manystacks.trace" \
            >/dev/null && tail -n 1 "$TMP/rep-many.one" >>"$TMP/rep-many.time" ||
            echo "poolprobe-report on the manystacks trace failed" >>"$problems"
    done
    rep_many=$(median "$TMP/rep-many.time" 1)
    echo "    $rep_many s, peak RSS $(human_kib "$(median "$TMP/rep-many.time" 2)")"
    # The text report's header counts the groups; --format json would say the same through
    # .sites | length, but writing (and parsing) every frame of every stack takes far longer.
    echo "  \$ $REPORT --group-by stack $OUT/manystacks.trace   (once; its header counts the stacks)"
    "$gnu_time" -f '%e %M' -o "$TMP/rep-stack.one" "$REPORT" --group-by stack \
        "$OUT/manystacks.trace" >"$OUT/manystacks.stacks.txt" ||
        echo "poolprobe-report --group-by stack on the manystacks trace failed" >>"$problems"
    rep_stack=$(tail -n 1 "$TMP/rep-stack.one" | awk '{ print $1 }')
    stacks=$(awk '/^  [0-9]+ sites?( |$)/ { print $1; exit }' "$OUT/manystacks.stacks.txt")
    echo "    $rep_stack s, peak RSS $(human_kib "$(tail -n 1 "$TMP/rep-stack.one" | awk '{ print $2 }')")," \
        "${stacks:-an unknown number of} distinct stacks"
    local ms_native_kib per_stack=-
    ms_native_kib=$("$gnu_time" -f '%M' "$BB/manystacks" 17 2>&1 >/dev/null | tail -n 1)
    if [ -n "$stacks" ] && [ "$fixed_kib" != - ]; then
        per_stack=$(calc "printf \"%.0f\", ($(tail -n 1 "$TMP/ms-run.one" | awk '{ print $2 }') - \
            $ms_native_kib - $fixed_kib) * 1024 / $stacks")
    fi
    echo "  shim memory per distinct stack: $per_stack B (peak RSS beyond native and the fixed cost," \
        "over $stacks stacks)"
    echo

    # --- d. forks and short processes ----------------------------------------------------------
    echo "d. what one process costs: (poolprobe CPU s - native CPU s) / $LOOP_N, from the shell and procs rows"
    local fork_ms=n/a proc_ms=n/a
    per_process_ms() { # per_process_ms NAME: extra ms per process of that loop, n/a without it
        case "${secs_pp[$1]:-n/a}${secs_native[$1]:-n/a}" in
        *n/a* | *-*) echo n/a ;;
        *) calc "printf \"%.2f\", (${secs_pp[$1]} - ${secs_native[$1]}) * 1000 / $LOOP_N" ;;
        esac
    }
    fork_ms=$(per_process_ms shell)
    proc_ms=$(per_process_ms procs)
    echo "    a forked subshell: $fork_ms ms more than natively; a short process (fork + exec" \
        "of /bin/true): $proc_ms ms more"
    echo

    # --- e. the cost model behind the checklist's "big enough" ------------------------------------
    echo "e. cost model: malloc+free against a free list, ns per object (README, The checklist)"
    echo "  \$ $BB/costmodel --scale 0.25"
    progress "cost model"
    "$BB/costmodel" --scale 0.25 2>/dev/null | sed 's/^/    /'
    echo

    # --- f. the checklist's predictions against the fixes written by hand --------------------
    echo "f. predicted saving against the fix applied by hand (tests/workloads/judge.c)"
    echo "  \$ scripts/bench_fixes.sh"
    progress "fixes by hand"
    make --no-print-directory "$B/workloads/judge" >/dev/null
    scripts/bench_fixes.sh | sed 's/^/    /' || echo "bench_fixes.sh failed" >>"$problems"
    echo

    # --- g. what exact lifetimes in ns cost by themselves -----------------------------------
    echo "g. the clock: exact lifetimes in ns read it twice per block (at the allocation and at the free)"
    echo "  \$ $BB/clockcost 10   (ns per reading; a malloc(16)/free pair alone and with two TSC readings, medians of 7 alternated rounds)"
    progress "clock cost"
    "$BB/clockcost" 10 | sed 's/^/    /' || echo "clockcost failed" >>"$problems"
    echo

    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ "$(build_id "$BUILT_SHIM" "$BUILT_REPORT")" != "$build_at_start" ]; then
        echo "note: $BUILT_SHIM or $BUILT_REPORT was rebuilt during the bench;" \
            "the figures are for the copies taken at the start"
    fi
    echo
    if [ -s "$problems" ]; then
        echo "PROBLEMS"
        sed 's/^/  /' "$problems"
        echo
    fi

    # --- targets --------------------------------------------------------------------------------
    local tfmt='  %-46s %-30s %s\n'
    echo "targets"
    # shellcheck disable=SC2059
    {
        local name x h
        for name in $WORKLOADS; do
            x=${ratio_pp[$name]}
            printf "$tfmt" "$name x <= 2" "$(as_x "$x") (floor $(as_x "${ratio_fl[$name]}"))" \
                "$(verdict "$x <= 2" "$x")"
        done
        for name in $WORKLOADS; do
            x=${ratio_pp[$name]} h=${ratio_ht[$name]}
            printf "$tfmt" "$name x <= heaptrack x / 3" "$(as_x "$x") vs $(as_x "$h") / 3" \
                "$(verdict "$x <= $h / 3" "$x" "$h")"
        done
        for name in $WORKLOADS; do
            x=${ratio_ps[$name]}
            printf "$tfmt" "$name sampled 1/$sample x <= 1.1" "$(as_x "$x")" \
                "$(verdict "$x <= 1.1" "$x")"
        done
        local a1=${ratio_pp[alloc-1t]:-n/a} a2=${ratio_pp[alloc-2t]:-n/a}
        local t1=${ratio_pp[threads-1]:-n/a} t8=${ratio_pp[threads-8]:-n/a}
        printf "$tfmt" "alloc-2t x <= 1.3 * alloc-1t x" "$(as_x "$a2") vs 1.3 * $(as_x "$a1")" \
            "$(verdict "$a2 <= 1.3 * $a1" "$a2" "$a1")"
        printf "$tfmt" "threads-8 x <= 1.3 * threads-1 x" "$(as_x "$t8") vs 1.3 * $(as_x "$t1")" \
            "$(verdict "$t8 <= 1.3 * $t1" "$t8" "$t1")"
        printf "$tfmt" "a forked subshell < 1 ms more than native" "$fork_ms ms" \
            "$(verdict "$fork_ms < 1" "$fork_ms")"
        printf "$tfmt" "a short process < 1 ms more than native" "$proc_ms ms" \
            "$(verdict "$proc_ms < 1" "$proc_ms")"
        printf "$tfmt" "trace at 10x the run: within 10%, < 256 KiB" \
            "ratio $len_ratio, $(human_bytes "$big")" \
            "$(verdict "$len_ratio >= 0.9 && $len_ratio <= 1.1 && $big < 262144 && $small < 262144" \
                "$len_ratio" "$big" "$small")"
        printf "$tfmt" "bytes per live allocation <= 48 (+ fixed)" "$per_live B (fixed $(human_kib "$fixed_kib"))" \
            "$(verdict "$per_live <= 48" "$per_live")"
        printf "$tfmt" "shim memory per stack <= 2.7 KiB" "$per_stack B" \
            "$(verdict "$per_stack <= 2764" "$per_stack")"
        printf "$tfmt" "report on the sqlite3 trace < 1 s" "$rep_sql s" \
            "$(verdict "$rep_sql < 1" "$rep_sql")"
        printf "$tfmt" "report on ${stacks:-?} stacks < 5 s" "$rep_many s" \
            "$(verdict "$rep_many < 5" "$rep_many")"
        printf "$tfmt" "  the same with --group-by stack < 5 s" "$rep_stack s" \
            "$(verdict "$rep_stack < 5" "$rep_stack")"
        if [ -s "$problems" ]; then
            printf "$tfmt" "every run completes with the same output" \
                "$(wc -l <"$problems" | tr -d ' ') problem(s), see PROBLEMS" FAIL
        fi
    }
    [ ! -s "$problems" ]
}

# Under set -e and pipefail: main's status (1 for problems) becomes the script's.
main | tee "$BB/report.txt"
