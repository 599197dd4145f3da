#!/usr/bin/env bash
# mutate.sh — `make mutate`: do the tests catch small deliberate bugs?
#
# Makes one-token mutants of the shim and analyzer sources (scripts/mutants.py: comparison
# flips, && <-> ||, + <-> -, constants +/-1, a - b -> b - a, a statement removed), applies each
# alone to a scratch copy of the tree (never to the working tree), rebuilds it, and runs a test
# subset against it. A mutant is killed when the build's tests fail or time out, survives when
# they pass, and is left out of the rate when it does not build or is listed as equivalent.
# Prints one line per mutant, then every survivor (file:line, change) and the kill rate per
# directory. Not part of `make test`: each mutant costs a rebuild and a test run.
#
# Settings (environment, or make variables: make mutate FILES=shim/stack.c N=40):
#   FILES     sources to mutate (default: shim/*.c analyzer/*.c)
#   N         mutants to try, a random sample of all of them (default 60; 0 = all)
#   SEED      the sample's seed (default 1): the same seed tries the same mutants
#   TESTS     integration tests to run per mutant (default "t_exact t_golden"); unit tests
#             build/tests/test_* always run, except test_reader (20 s of bit flips) which runs
#             only for mutants of analyzer/trace_reader.c
#   LIMIT     seconds per mutant's test run (default 120; a hang counts as killed)
#   EQUIVALENT  file of mutants that cannot change behaviour, one a line:
#             FILE:LINE:OLD -> NEW  # reason   (default scripts/mutate-equivalent.txt)
#   KEEP=1    keep the scratch tree (its path is printed)
# Exit status: 0 when every tried mutant was killed (or excluded), 1 when some survived.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
top=$(pwd)

files=${FILES:-$(echo shim/*.c analyzer/*.c)}
sample=${N:-60}
seed=${SEED:-1}
tests=${TESTS:-t_exact t_golden}
limit=${LIMIT:-120}
equivalent=${EQUIVALENT:-scripts/mutate-equivalent.txt}

scratch=$(mktemp -d -t poolprobe-mutate.XXXXXX)
if [ "${KEEP:-0}" = 1 ]; then
    echo "# scratch tree: $scratch"
else
    trap 'rm -rf "$scratch"' EXIT
fi
trap 'exit 130' INT TERM

# The tree as committed plus uncommitted edits, without build products.
tar --exclude=./build --exclude=./.git -cf - . | tar -C "$scratch" -xf -

run_tests() { # run_tests FILE: the subset for a mutant of FILE; status 0 = all passed
    local file=$1 t
    for t in build/tests/test_*; do
        case $t in *.d | *.o) continue ;; esac
        if [ "${t##*/}" = test_reader ] && [ "$file" != analyzer/trace_reader.c ]; then continue; fi
        "$t" >/dev/null 2>&1 || return 1
    done
    # shellcheck disable=SC2086  # a list of test names
    POOLPROBE_TEST_TIMEOUT=$limit tests/run.sh $tests >/dev/null 2>&1
}

build() {
    make -j2 --no-print-directory check-build >/dev/null 2>&1
}

cd "$scratch" || exit 2
echo "# building the unmutated scratch tree"
if ! build; then
    echo "mutate: the unmutated tree does not build" >&2
    exit 2
fi
export tests limit
if ! timeout -k 5 $((limit * 3)) bash -c "$(declare -f run_tests); run_tests analyzer/trace_reader.c"; then
    echo "mutate: the unmutated tree fails the tests ($tests and the unit tests)" >&2
    exit 2
fi

# shellcheck disable=SC2086  # a list of files
python3 "$top/scripts/mutants.py" list $files >"$scratch/.all"
total=$(wc -l <"$scratch/.all")
if [ "$sample" != 0 ] && [ "$sample" -lt "$total" ]; then
    python3 -c 'import random, sys
lines = open(sys.argv[1]).read().splitlines()
random.Random(int(sys.argv[2])).shuffle(lines)
print("\n".join(sorted(lines[:int(sys.argv[3])], key=lambda l: (l.split(":")[0], int(l.split(":")[1])))))' \
        "$scratch/.all" "$seed" "$sample" >"$scratch/.chosen"
else
    cp "$scratch/.all" "$scratch/.chosen"
fi
echo "# $(wc -l <"$scratch/.chosen") of $total mutants (seed $seed); tests: unit + $tests"

is_equivalent() { # is_equivalent FILE LINE OLD NEW
    [ -f "$top/$equivalent" ] && grep -qF -- "$1:$2:$3 -> $4" "$top/$equivalent"
}

: >"$scratch/.results"
while IFS=$'\t' read -r where old new; do
    file=${where%%:*} rest=${where#*:}
    line=${rest%%:*} col=${rest#*:}
    change="$old -> $new"
    if is_equivalent "$file" "$line" "$old" "$new"; then
        status=equivalent
    else
        cp "$file" "$scratch/.orig"
        if python3 "$top/scripts/mutants.py" apply "$file" "$line" "$col" "$old" "$new" \
            >"$scratch/.mutant" && cp "$scratch/.mutant" "$file" && build; then
            if timeout -k 5 "$limit" bash -c "$(declare -f run_tests); run_tests $file"; then
                status=SURVIVED
            else
                status=killed
            fi
        else
            status=no-build
        fi
        cp "$scratch/.orig" "$file"
    fi
    printf '%-10s %s:%s: %s\n' "$status" "$file" "$line" "$change" | tee -a "$scratch/.results"
done <"$scratch/.chosen"
# Leave the scratch build unmutated for a KEEP=1 look.
build

echo
if grep -q '^SURVIVED' "$scratch/.results"; then
    echo "# survivors (add a test that fails on each, or list it in $equivalent with the reason):"
    sed -n 's/^SURVIVED */  /p' "$scratch/.results"
fi
echo "# kill rate per directory (equivalent and unbuildable mutants left out):"
awk '{ split($2, p, "/"); d = p[1]; n[d]++ }
     $1 == "killed" { k[d]++ } $1 == "SURVIVED" { s[d]++ }
     $1 == "equivalent" { e[d]++ } $1 == "no-build" { b[d]++ }
     END { for (d in n) { t = k[d] + s[d];
           printf "  %-9s %3d of %3d killed (%5.1f%%), %d equivalent, %d did not build\n",
                  d "/", k[d], t, t ? 100 * k[d] / t : 100, e[d], b[d] } }' \
    "$scratch/.results" | sort
! grep -q '^SURVIVED' "$scratch/.results"
