#!/usr/bin/env bash
# t_allsyms.sh — every allocation entry point: same results with and without the shim, and
# counted by the shim's rules (realloc of a block stays with the site that created it).
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/allsyms"

R=6 # rounds: one successful call per entry point per round; malloc sizes cycle over 6 values
"$WORKLOADS/allsyms" $R >"$TMP/plain.out"
profiled allsyms "$TMP/a.bin" -- "$WORKLOADS/allsyms" $R
check "allsyms: pointers, alignment and errno the same with and without the shim" \
    diff -u "$TMP/plain.out" "$TMP/allsyms.out"
report_to "$TMP/a.json" "$TMP/a.bin"
J=$TMP/a.json

check_eq "call_malloc allocs (failing malloc(SIZE_MAX) not counted)" $R "$(site_field "$J" call_malloc allocs)"
check_eq "call_malloc frees" $R "$(site_field "$J" call_malloc frees)"
check_eq "call_malloc size.min" 0 "$(site_field "$J" call_malloc size.min)"
check_eq "call_malloc size.max" 100000 "$(site_field "$J" call_malloc size.max)"
check_eq "call_malloc bytes" $(((0 + 1 + 24 + 100 + 4096 + 100000) * R / 6)) \
    "$(site_field "$J" call_malloc bytes)"
check_site "$J" call_calloc $R $R 64
check_site "$J" call_realloc_null $R $R 32
check_eq "call_realloc_null live_at_exit (realloc(p,0) frees)" 0 \
    "$(site_field "$J" call_realloc_null live_at_exit)"
check_eq "no site in call_realloc_grow (realloc of a block is not a new one)" no-site \
    "$(site_field "$J" call_realloc_grow allocs)"
check_eq "no site in call_realloc_zero" no-site "$(site_field "$J" call_realloc_zero allocs)"
check_site "$J" call_reallocarray $R $R 128
check_site "$J" call_posix_memalign $R $R 100
check_site "$J" call_aligned_alloc $R $R 512
check_site "$J" call_memalign $R $R 200
check_site "$J" call_valloc $R $R 100
check_eq "call_pvalloc allocs" $R "$(site_field "$J" call_pvalloc allocs)"
check_eq "call_pvalloc frees" $R "$(site_field "$J" call_pvalloc frees)"
check_eq "no site for free(NULL)" no-site "$(site_field "$J" call_free_null allocs)"
check_eq "every site of ours is freed" 0 \
    "$(json_get "$J" '[.sites[] | select(.frames[0].function | startswith("call_")) | .live_at_exit] | add')"
