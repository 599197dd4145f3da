#!/usr/bin/env bash
# t_cxx.sh — new/delete: the site is the C++ function that says new, not operator new.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/cxxnew"

N=10000
"$WORKLOADS/cxxnew" $N >"$TMP/plain.out"
profiled cxxnew "$TMP/c.bin" -- "$WORKLOADS/cxxnew" $N
check "cxxnew: same output with and without the shim" cmp "$TMP/plain.out" "$TMP/cxxnew.out"
report_to "$TMP/c.json" "$TMP/c.bin"
J=$TMP/c.json

check_site "$J" make_widget $N $N 48
check_eq "make_widget demangled" "make_widget(unsigned long)" \
    "$(json_get "$J" '[.sites[] | select(.frames[0].function | startswith("make_widget"))][0].frames[0].function')"
check_eq "no site is operator new" 0 \
    "$(json_get "$J" '[.sites[] | select(.frames[0].function | test("operator new|^_Zn"))] | length')"
check_eq "no site is a mangled name" 0 \
    "$(json_get "$J" '[.sites[] | select(.frames[0].function | startswith("_Z"))] | length')"
