#!/usr/bin/env bash
# t_valgrind.sh — the shim under valgrind's memcheck: no invalid read or write, no use of
# uninitialized memory, in the hooks, the tables, the unwinder glue or the writer.
#
# The shim cannot run under ASan (it replaces the allocator ASan needs), so memcheck is how its
# own memory accesses are checked. somalloc=nouserintercepts keeps valgrind from replacing the
# shim's own malloc (it would otherwise take over every library's malloc and the shim would see
# nothing); valgrind's malloc then sits underneath the shim, which forwards to it as to any
# allocator. tests/valgrind.supp lists the deliberate reports (libunwind's address probing, the
# frame cache reading stack words that were never written). Leak checking is off: the shim
# keeps its tables for the life of the process on purpose. Skipped when valgrind is missing.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/seeds" "$WORKLOADS/prodcons" "$WORKLOADS/forker" \
    "$WORKLOADS/cxxnew" "$WORKLOADS/verdicts"

if ! command -v valgrind >/dev/null 2>&1; then
    skip "the shim under memcheck" "valgrind not installed"
    LIB_FINISHED=1
    exit 0
fi

memcheck() { # memcheck NAME TRACE -- CMD...: under the shim and memcheck, errors fail
    local name=$1 out=$2 rc=0
    shift 3
    LD_PRELOAD="$SHIM" POOLPROBE_OUT="$out" valgrind -q --error-exitcode=99 --leak-check=no \
        --soname-synonyms=somalloc=nouserintercepts --suppressions=tests/valgrind.supp \
        --trace-children=no "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
    check_eq "$name: no memcheck error (exit status)" 0 "$rc"
    if [ "$rc" != 0 ]; then sed 's/^/#   /' "$TMP/$name.err" | head -30; fi
    check "$name: trace readable" "$REPORT" "$out"
}

memcheck seeds "$TMP/seeds.bin" -- "$WORKLOADS/seeds" 2000
check_eq "seeds under memcheck: exact render_buf count" 2000 \
    "$("$REPORT" -f json "$TMP/seeds.bin" | jq -r '.sites[] | select(.key == "render_buf") | .allocs')"
memcheck prodcons "$TMP/prodcons.bin" -- "$WORKLOADS/prodcons" 2000
memcheck forker "$TMP/forker.bin" -- "$WORKLOADS/forker"
memcheck cxxnew "$TMP/cxxnew.bin" -- "$WORKLOADS/cxxnew" 2000
memcheck verdicts "$TMP/verdicts.bin" -- "$WORKLOADS/verdicts" 2000

LIB_FINISHED=1
