#!/usr/bin/env bash
# t_golden.sh — traces written by earlier builds keep reading, and report the same.
#
# tests/golden/ holds one committed trace per format version:
#   v1.0-synthetic.bin  every field of v1.0 with known values (tests/unit/trace_builder.h's
#                       tb_valid_trace), with its expected text and JSON reports (.txt, .json);
#                       module files do not exist, so frames show module+offset everywhere
#   v1.0-seeds.bin      a real trace of tests/workloads/seeds.c (200 requests) written by the
#                       v1.0 shim; its modules may not match this machine's, so only the exact
#                       counts are compared
# A format change that breaks these needs a new major version and a new golden file, never an
# edit of an old one.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$REPORT"
G=tests/golden

"$REPORT" "$G/v1.0-synthetic.bin" >"$TMP/synthetic.txt" 2>/dev/null
check "v1.0 synthetic: text report unchanged" diff -u "$G/v1.0-synthetic.txt" "$TMP/synthetic.txt"
"$REPORT" --format json "$G/v1.0-synthetic.bin" >"$TMP/synthetic.json" 2>/dev/null
check "v1.0 synthetic: JSON report unchanged" diff -u "$G/v1.0-synthetic.json" "$TMP/synthetic.json"

report_to "$TMP/seeds.json" "$G/v1.0-seeds.bin"
check_eq "v1.0 seeds: allocs" 1001 "$(json_get "$TMP/seeds.json" .totals.allocs)"
check_eq "v1.0 seeds: frees" 1000 "$(json_get "$TMP/seeds.json" .totals.frees)"
check_eq "v1.0 seeds: bytes" 935276 "$(json_get "$TMP/seeds.json" .totals.bytes)"
check_eq "v1.0 seeds: trace version" 1.0 "$(json_get "$TMP/seeds.json" '.processes[0].trace_version')"
check_eq "v1.0 seeds: per-site allocs" "[1,200,200,600]" \
    "$(json_get "$TMP/seeds.json" '[.sites[].allocs] | sort | tojson')"

LIB_FINISHED=1
