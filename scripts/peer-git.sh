#!/usr/bin/env bash
# peer-git.sh — git's own test suite natively and with the shim preloaded into every process it
# starts (git, its hooks, filters, remote helpers, daemons, and the shell and tools around them).
# `make peer-git`; not part of `make test` (it builds git and runs for many minutes).
#
# git's source comes from Debian (`apt-get source git`, with a private deb-src list when the
# system has none) into a cache kept between runs, PEER_GIT_CACHE (default
# ~/.cache/poolprobe/peer-git); PEER_GIT_SRC names a git source tree to use instead. git is built
# there without curl, gettext, Tcl/Tk and Python. Each test script in PEER_GIT_TESTS (names or
# globs in git's t/ directory; default: the list below) runs twice, natively and with
# LD_PRELOAD=libpoolprobe.so, PEER_GIT_JOBS (default 2) at a time under `nice -n 10`, and the
# outcome of every test (ok, not ok, skip, known breakage, fixed) is compared, as is each
# script's exit status. A script that differed runs once more both ways, to say whether the
# difference repeats. Exit 0 when all are the same, 1 otherwise (the differing tests and their
# verbose output under the shim are shown), 2 when git could not be obtained or built.
# PEER_GIT_KEEP=1 keeps the logs, trash directories and traces.
# Without apt-get or a reachable source index the run is skipped (exit 0; exit 2 under CI=true).
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
# PEER_GIT_SHIM preloads another library in its place (to check that a faulty one is caught).
shim=${PEER_GIT_SHIM:-$PWD/build/libpoolprobe.so}
[ -e "$shim" ] || { echo "peer-git: $shim is missing (make all)" >&2; exit 2; }
jobs=${PEER_GIT_JOBS:-2}
cache=${PEER_GIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/poolprobe/peer-git}
# What the comparison is about: processes, pipes and descriptors (run-command, filters, hooks,
# pagers, remote helpers, upload-pack/receive-pack over pipes), signals (t0005, t0061, t7006),
# daemons that outlive their parent (credential-cache, simple-ipc), threads (pack-objects,
# index-pack, grep), large files, and the plumbing a trace's exec and fork paths go through.
default_tests="t0000-basic t0001-init t0005-signals t0008-ignores t0021-conversion
t0052-simple-ipc t0060-path-utils t0061-run-command t0070-fundamental t0090-cache-tree
t0300-credentials t0301-credential-cache t0410-partial-clone t1006-cat-file t1050-large
t1300-config t1400-update-ref t1410-reflog t1450-fsck t1500-rev-parse t2400-worktree-add
t3200-branch t3400-rebase t3404-rebase-interactive t3420-rebase-autostash
t3701-add-interactive t3903-stash t5000-tar-tree t5300-pack-object t5302-pack-index
t5500-fetch-pack t5510-fetch t5516-fetch-push t5601-clone t5702-protocol-v2
t5801-remote-helpers t6030-bisect-porcelain t7006-pager t7400-submodule-basic t7810-grep"
# Small and sufficient: no http (curl), no translations, no GUI, no Python helpers.
git_make_flags="NO_CURL=1 NO_EXPAT=1 NO_GETTEXT=1 NO_TCLTK=1 NO_PYTHON=1"

skip() {
    echo "peer-git: skipped: $*" >&2
    [ "${CI:-}" = true ] && exit 2
    exit 0
}
die() { echo "peer-git: error: $*" >&2; exit 2; }

# get_source: set $src to an unpacked git source tree, downloading it into $cache if needed.
get_source() {
    if [ -n "${PEER_GIT_SRC:-}" ]; then
        src=$PEER_GIT_SRC
        [ -f "$src/t/test-lib.sh" ] || die "PEER_GIT_SRC=$src is not a git source tree (no t/test-lib.sh)"
        return
    fi
    src=$(find "$cache" -maxdepth 2 -path "$cache/git-*/Makefile" 2>/dev/null | sort -V | tail -1)
    if [ -n "$src" ]; then
        src=${src%/Makefile}
        return
    fi
    command -v apt-get >/dev/null 2>&1 || skip "no apt-get to fetch git's source; set PEER_GIT_SRC to a git source tree"
    command -v dpkg-source >/dev/null 2>&1 || skip "no dpkg-source (Debian: apt-get install dpkg-dev)"
    mkdir -p "$cache/download" || die "cannot create $cache"
    # The system's own deb-src entries first; a Debian system without them gets a private
    # source list (apt's own lists and the system configuration are left alone). apt checks
    # the downloaded files against the signed index, so dpkg-source need not check again.
    if ! (cd "$cache/download" && apt-get -q source --download-only git >"$cache/apt.log" 2>&1); then
        # shellcheck disable=SC1091  # the system's, read for its codename
        codename=$(. /etc/os-release 2>/dev/null && [ "${ID:-}" = debian ] && echo "${VERSION_CODENAME:-}")
        [ -n "$codename" ] || skip "no deb-src entry for git and not a Debian release with a codename; set PEER_GIT_SRC (see $cache/apt.log)"
        apt=$cache/apt
        mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
        printf 'deb-src http://deb.debian.org/debian %s main\n' "$codename" "$codename-updates" >"$apt/sources.list"
        printf 'deb-src http://deb.debian.org/debian-security %s-security main\n' "$codename" >>"$apt/sources.list"
        aptopt=(-q -o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
        echo "peer-git: fetching Debian's source index for $codename (deb-src, into $cache)..."
        apt-get "${aptopt[@]}" update >>"$cache/apt.log" 2>&1 ||
            skip "cannot read Debian's source index (see $cache/apt.log); set PEER_GIT_SRC"
        (cd "$cache/download" && apt-get "${aptopt[@]}" source --download-only git >>"$cache/apt.log" 2>&1) ||
            skip "apt-get source git failed (see $cache/apt.log); set PEER_GIT_SRC"
    fi
    dsc=$(find "$cache/download" -name 'git_*.dsc' | sort -V | tail -1)
    [ -n "$dsc" ] || die "apt-get source left no git_*.dsc in $cache/download"
    version=$(sed -n 's/^Version: \(.*:\)\{0,1\}\([^-]*\).*/\2/p' "$dsc")
    src=$cache/git-$version
    rm -rf "$src"
    dpkg-source --no-check -x "$dsc" "$src" >>"$cache/apt.log" 2>&1 || die "dpkg-source -x $dsc failed (see $cache/apt.log)"
}

get_source
echo "peer-git: building git in $src ($git_make_flags)..."
# shellcheck disable=SC2086  # the flags are words
nice -n 10 make -C "$src" -j"$jobs" $git_make_flags >"$src/peer-git-build.log" 2>&1 ||
    die "building git failed (see $src/peer-git-build.log)"
git_version=$("$src/git" --version) || die "$src/git does not run"

tests=()
for pattern in ${PEER_GIT_TESTS:-$default_tests}; do
    found=0
    # shellcheck disable=SC2231  # the pattern may be a glob
    for t in "$src/t/"${pattern%.sh}*.sh; do
        [ -f "$t" ] || continue
        case ${t##*/} in t[0-9][0-9][0-9][0-9]-*) tests+=("${t##*/}"); found=1 ;; esac
    done
    [ $found = 1 ] || die "no test script in $src/t matches $pattern"
done

work=$(mktemp -d -t poolprobe-peer-git.XXXXXX)
# Daemons of the suite (credential-cache) may still be writing traces: retry the cleanup once.
# PEER_GIT_KEEP=1 keeps the logs, the trash directories and the traces for a closer look.
if [ -n "${PEER_GIT_KEEP:-}" ]; then
    trap 'echo "peer-git: kept $work"' EXIT
else
    trap 'rm -rf "$work" 2>/dev/null || { sleep 1; rm -rf "$work"; }' EXIT
fi
mkdir "$work/native" "$work/shim" "$work/traces"

# test-lib.sh sets LD_PRELOAD=libc_malloc_debug.so.0 around every test, which would put the
# shim's out; glibc's malloc checking is therefore off in both runs alike.
export TEST_NO_MALLOC_CHECK=1
# The trash directories' roots are short and of the same length in both runs: gpg-agent puts
# its sockets there (t5801's GPG prerequisite), and a socket path has at most 107 bytes.
# run_one MODE[ROUND] SCRIPT: run one test script natively or under the shim (ROUND: empty,
# or 2 for the second run of a script that differed); in the directory MODE[ROUND], its TAP
# output goes to NAME.tap, its verbose log to test-results/NAME.out, its exit status to
# NAME.rc and its wall, user and system seconds to NAME.time.
# shellcheck disable=SC2317  # called through xargs
run_one() {
    local out=$work/$1 mode=${1%2} script=$2 name=${2%.sh} preload=()
    local traces=$work/traces/${1#"$mode"}$name
    mkdir -p "$out"
    if [ "$mode" = shim ]; then
        mkdir "$traces"
        preload=(LD_PRELOAD="$shim" POOLPROBE_OUT="$traces/trace.bin")
    fi
    local TIMEFORMAT='%R %U %S'
    {
        time (cd "$src/t" && env "${preload[@]}" TEST_OUTPUT_DIRECTORY="$out" \
            nice -n 10 sh "$script" --root="$work/${1:0:1}${1#"$mode"}" --verbose-log --tee \
            >"$out/$name.tap" 2>&1 </dev/null)
        echo $? >"$out/$name.rc"
    } 2>"$out/$name.time"
    # The traces are counted and dropped: the whole list writes gigabytes.
    if [ "$mode" = shim ]; then
        sleep 1 # a daemon stopped at the script's end may still be writing its trace
        echo "$(find "$traces" -type f -name '*.bin' | wc -l) $(du -sk "$traces" | cut -f1)" \
            >"$out/$name.traces"
        [ -n "${PEER_GIT_KEEP:-}" ] || rm -rf "$traces"
    fi
}
export -f run_one
export src work shim PEER_GIT_KEEP

echo "peer-git: $git_version, ${#tests[@]} test scripts, natively and under the shim, $jobs at a time..."
start=$(date +%s)
# Each script's two runs go out one after the other, so both see the same load.
for t in "${tests[@]}"; do printf 'native %s\nshim %s\n' "$t" "$t"; done |
    xargs -P "$jobs" -n 2 bash -c 'run_one "$@"' run_one
elapsed=$(($(date +%s) - start))

# outcomes TAP: one line per test, "NUMBER OUTCOME"; a script that skipped everything is "all skip".
outcomes() {
    sed -n -e 's/^1\.\.0 # SKIP.*/all skip/p' \
        -e 's/^not ok \([0-9]*\) .*# TODO known breakage$/\1 broken/p' \
        -e 's/^ok \([0-9]*\) .*# TODO known breakage vanished$/\1 fixed/p' \
        -e 's/^ok \([0-9]*\) # skip.*/\1 skip/p' \
        -e '/# TODO known breakage/b' -e '/^ok [0-9]* # skip/b' \
        -e 's/^ok \([0-9]*\) - .*/\1 ok/p' \
        -e 's/^not ok \([0-9]*\) - .*/\1 fail/p' "$1"
}
count() { grep -c " $2\$" "$1"; }
# tally MODE NAME: "ok/fail/skip/broken rc STATUS" of one script's run.
tally() {
    local o=$work/$1/$2.outcomes
    outcomes "$work/$1/$2.tap" >"$o"
    echo "$(count "$o" ok)/$(count "$o" fail)/$(count "$o" skip)/$(count "$o" broken) rc $(cat "$work/$1/$2.rc")"
}
# same ROUND NAME: do the script's runs natively and under the shim agree, test by test?
same() {
    [ "$(tally "native$1" "$2")" = "$(tally "shim$1" "$2")" ] &&
        cmp -s "$work/native$1/$2.outcomes" "$work/shim$1/$2.outcomes"
}
# seconds MODE NAME: "WALL CPU" of one script's run (CPU = user + system).
seconds() { awk '{ printf "%s %.2f", $1, $2 + $3 }' "$work/$1/$2.time"; }

printf '%-30s %-22s %-22s %-16s %s\n' "script" "native ok/fail/skip/TODO" "shim ok/fail/skip/TODO" "wall s native/shim" "traces"
differ=()
for t in "${tests[@]}"; do
    name=${t%.sh}
    native=$(tally native "$name") shim=$(tally shim "$name")
    read -r native_wall native_cpu <<<"$(seconds native "$name")"
    read -r shim_wall shim_cpu <<<"$(seconds shim "$name")"
    printf '%-30s %-22s %-22s %-16s %s\n' "$name" "$native" "$shim" "$native_wall/$shim_wall" \
        "$(cut -d' ' -f1 "$work/shim/$name.traces")"
    echo "$name $native_wall $native_cpu $shim_wall $shim_cpu" >>"$work/times"
    same "" "$name" || differ+=("$name")
done

cat "$work"/native/*.outcomes >"$work/native.all"
cat "$work"/shim/*.outcomes >"$work/shim.all"
for mode in native shim; do
    echo "peer-git: $mode: $(wc -l <"$work/$mode.all" | tr -d ' ') tests: $(count "$work/$mode.all" ok) ok," \
        "$(count "$work/$mode.all" fail) not ok, $(count "$work/$mode.all" skip) skipped," \
        "$(count "$work/$mode.all" broken) known breakage, $(count "$work/$mode.all" fixed) fixed"
done
awk '{ nw += $2; nc += $3; sw += $4; sc += $5 }
     END { printf "peer-git: summed over the scripts: native %.0f s wall, %.0f s CPU; under the shim %.0f s wall, %.0f s CPU\n", nw, nc, sw, sc }' "$work/times"
echo "peer-git: ${elapsed}s in all;" \
    "$(cat "$work"/shim/*.traces | awk '{ n += $1; k += $2 } END { printf "%d traces written, %d KiB", n, k }');" \
    "$(cat "$work"/shim/test-results/*.out 2>/dev/null | grep -c '^poolprobe:') poolprobe: lines in the verbose logs"
if [ ${#differ[@]} = 0 ]; then
    echo "peer-git: same outcome for every test"
    exit 0
fi
# A second run of each script that differed tells a difference that repeats from one that
# comes and goes with timing (which may still be the shim's: its processes run slower).
for name in "${differ[@]}"; do printf 'native2 %s.sh\nshim2 %s.sh\n' "$name" "$name"; done |
    xargs -P "$jobs" -n 2 bash -c 'run_one "$@"' run_one
echo "peer-git: outcomes differ in ${differ[*]} (< native, > under the shim):"
for name in "${differ[@]}"; do
    if same 2 "$name"; then
        echo "--- $name: not on a second run (native $(tally native2 "$name"), shim $(tally shim2 "$name"))"
    else
        echo "--- $name: again on a second run (native $(tally native2 "$name"), shim $(tally shim2 "$name"))"
    fi
    diff "$work/native/$name.outcomes" "$work/shim/$name.outcomes" | grep '^[<>]' | head -40
    # Each test that failed under the shim: its verbose log (body, output, "not ok" line).
    awk '/^(ok|not ok) [0-9]+ / { if (/^not ok/ && !/# TODO/) { printf "%s", block; print } block = ""; next }
         { block = block $0 "\n" }' "$work/shim/test-results/$name.out" | head -80
done
exit 1
