#!/usr/bin/env bash
# t_sites.sh — the advice lands on code the user can change, on real programs: jq (its own
# jv_mem_alloc wrapper), sqlite3 (wrappers inside libsqlite3), and a C++ workload whose
# containers grow in user functions. Wrappers are found from the stacks, not from a list.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/containers"

# Names of the auto-detected wrappers that are also a site's key: must be none.
wrapper_sites() { # wrapper_sites JSON
    json_get "$1" '[.wrappers[] | select(.origin == "auto") | .name] as $w
        | [.sites[] | select(.key as $k | $w | index($k))] | length'
}

# --- jq: every allocation goes through jv_mem_alloc -------------------------------------------
jq -n '[range(4000) | {id: ., name: "item-\(.)", tags: ["a", "b"], price: (. * 1.5)}]' \
    >"$TMP/in.json"
jq -c . "$TMP/in.json" >"$TMP/jq.plain"
profile_jq() { jq -c . "$TMP/in.json"; }
profiled jq "$TMP/jq.bin" -- profile_jq
check "jq: same output with and without the shim" cmp "$TMP/jq.plain" "$TMP/jq.out"
report_to "$TMP/jq.json" "$TMP/jq.bin"
check_eq "jq: jv_mem_alloc found as a wrapper" auto \
    "$(json_get "$TMP/jq.json" '[.wrappers[] | select(.name == "jv_mem_alloc")][0].origin')"
check_eq "jq: no wrapper holds a site of its own" 0 "$(wrapper_sites "$TMP/jq.json")"
check_eq "jq: no site holds 90% of the allocations" true \
    "$(json_get "$TMP/jq.json" '([.sites[].allocs] | max) < 0.9 * .totals.allocs')"
"$REPORT" --format json --no-auto-wrappers "$TMP/jq.bin" >"$TMP/jq-plain.json"
check_eq "jq --no-auto-wrappers: jv_mem_alloc is the site of 90% and more" true \
    "$(json_get "$TMP/jq-plain.json" '[.sites[] | select(.key == "jv_mem_alloc")][0].allocs
        >= 0.9 * .totals.allocs')"
check_eq "jq --no-auto-wrappers: no wrapper listed" 0 \
    "$(json_get "$TMP/jq-plain.json" '.wrappers | length')"
check_eq "jq: runtime sites are the C runtime's modules" true \
    "$(json_get "$TMP/jq.json" '[.sites[] | select(.runtime) | .frames[0].module
        | test("/(libc|ld-linux|libstdc)[^/]*$")] | (length > 0 and all)')"
"$REPORT" "$TMP/jq.bin" >"$TMP/jq.txt"
check "jq: the text report lists the wrappers it skipped" grep -q '^    jv_mem_alloc (auto, ' "$TMP/jq.txt"
check "jq: runtime sites are one row of the table" grep -q 'runtime: [0-9]* sites\? of the C runtime' "$TMP/jq.txt"
check_eq "jq: no stdio site in the text report" 0 "$(grep -c '_IO_file_doallocate' "$TMP/jq.txt" || true)"
"$REPORT" --all "$TMP/jq.bin" >"$TMP/jq-all.txt"
check "jq --all: the runtime sites are listed" grep -q '_IO_file_doallocate\|libc.so' "$TMP/jq-all.txt"
check_eq "jq: a site with fewer than 5 allocations has no rate" 0 \
    "$(awk '$1 ~ /^[1-4]$/ && $3 != "-"' "$TMP/jq-all.txt" | wc -l | tr -d ' ')"

# Sites named module+0xoffset: the report names their modules once, with the debug package.
check_eq "jq: nameless_modules are the modules of the unnamed sites (at most 4)" \
    "$(json_get "$TMP/jq.json" '[.sites[] | select((.runtime | not) and .frames[0].offset != null)
        | .frames[0].module] | unique | length | if . > 4 then 4 else . end')" \
    "$(json_get "$TMP/jq.json" '.nameless_modules | length')"
if command -v dpkg >/dev/null 2>&1; then
    check_eq "jq: each nameless module's debug package is its dpkg package + -dbgsym" true \
        "$(json_get "$TMP/jq.json" '[.nameless_modules[] | .debug_package | test("-dbgsym$")] | all')"
fi

# -w takes the names the report prints, and says when a pattern matched nothing.
key=$(json_get "$TMP/jq.json" '.sites[0].key')
"$REPORT" --format json -w "$key" -w no_such_wrapper "$TMP/jq.bin" >"$TMP/jq-w.json" 2>"$TMP/jq-w.err"
check_eq "jq -w '$key': it is no longer a site" 0 \
    "$(json_get "$TMP/jq-w.json" '[.sites[] | select(.key == "'"$key"'")] | length')"
check_eq "jq -w '$key': listed as given" given \
    "$(json_get "$TMP/jq-w.json" '[.wrappers[] | select(.name == "'"${key%%#*}"'")][0].origin')"
check_eq "jq -w: a pattern that matched nothing is warned about, once" \
    "poolprobe-report: warning: --wrappers 'no_such_wrapper' matched no frame" "$(cat "$TMP/jq-w.err")"

# --- sqlite3: a static wrapper behind sqlite3Malloc, in a library ----------------------------
tests/bench/gen_sql.sh 3000 >"$TMP/work.sql"
sqlite3 :memory: <"$TMP/work.sql" >"$TMP/sql.plain"
profile_sqlite() { sqlite3 :memory: <"$TMP/work.sql"; }
profiled sqlite3 "$TMP/sql.bin" -- profile_sqlite
check "sqlite3: same output with and without the shim" cmp "$TMP/sql.plain" "$TMP/sqlite3.out"
report_to "$TMP/sql.json" "$TMP/sql.bin"
check_eq "sqlite3: no wrapper holds a site of its own" 0 "$(wrapper_sites "$TMP/sql.json")"
check_eq "sqlite3: allocations split over more than 10 sites" true \
    "$(json_get "$TMP/sql.json" '[.sites[] | select(.runtime | not)] | length > 10')"
check_eq "sqlite3: no site holds most of the allocations" true \
    "$(json_get "$TMP/sql.json" '([.sites[].allocs] | max) < 0.5 * .totals.allocs')"
check_eq "sqlite3: the wrapper inside libsqlite3 was found and carries them all" true \
    "$(json_get "$TMP/sql.json" '.totals.allocs as $all | [.wrappers[] | select(.origin == "auto")]
        | max_by(.allocs) | .allocs >= 0.99 * $all')"
"$REPORT" --format json --no-auto-wrappers "$TMP/sql.bin" >"$TMP/sql-plain.json"
check_eq "sqlite3 --no-auto-wrappers: one site holds most" true \
    "$(json_get "$TMP/sql-plain.json" '([.sites[].allocs] | max) > 0.9 * .totals.allocs')"
check_eq "sqlite3: NSS and stdio sites are runtime" true \
    "$(json_get "$TMP/sql.json" '[.sites[] | select(.key | test("^(__nss_|_IO_|__fopen)"))
        | .runtime] | all')"

# --- python3: pymalloc pools objects below malloc; the report says so, and how to see them ----
py=$(real_python)
pyprog="import json; print(len(json.dumps([{'a': i, 'b': 'x' * (i % 50)} for i in range(3000)])))"
profiled python "$TMP/py.bin" -- "$py" -c "$pyprog"
report_to "$TMP/py.json" "$TMP/py.bin"
check_eq "python3: pymalloc recognised" "CPython's pymalloc" \
    "$(json_get "$TMP/py.json" '.pooling_runtime.name')"
"$REPORT" -n 1 "$TMP/py.bin" 2>/dev/null >"$TMP/py.txt"
check "python3: the text report names PYTHONMALLOC=malloc near the top" \
    sh -c "head -n 12 '$TMP/py.txt' | tr '\n' ' ' | grep -q 'PYTHONMALLOC=malloc'"
PYTHONMALLOC=malloc profiled python-malloc "$TMP/pym.bin" -- "$py" -c "$pyprog"
report_to "$TMP/pym.json" "$TMP/pym.bin"
check_eq "python3 with PYTHONMALLOC=malloc: no pooling note" null \
    "$(json_get "$TMP/pym.json" '.pooling_runtime')"
check_eq "python3 with PYTHONMALLOC=malloc: more than 10x the allocations reach malloc" true \
    "$(jq -n --slurpfile a "$TMP/py.json" --slurpfile b "$TMP/pym.json" \
        '$b[0].totals.allocs > 10 * $a[0].totals.allocs')"

# --- C++: containers growing in user functions ------------------------------------------------
R=200
"$WORKLOADS/containers" $R >"$TMP/cx.plain"
profiled containers "$TMP/cx.bin" -- "$WORKLOADS/containers" $R
check "containers: same output with and without the shim" cmp "$TMP/cx.plain" "$TMP/containers.out"
report_to "$TMP/cx.json" "$TMP/cx.bin"
J=$TMP/cx.json
cx() { # cx FUNC KIND FILTER: FILTER on the one site of FUNC whose container kind is KIND
    json_get "$J" "[.sites[] | select((.key | startswith(\"$1(\")) and .container.kind == \"$2\")]
        | if length == 1 then .[0] | $3 else \"sites:\(length)\" end"
}
check_eq "fill_points: vector growth, 11 per round" \
    "$((11 * R)) std::vector<Point> Point 1024" \
    "$(cx fill_points vector '"\(.allocs) \(.container.type) \(.container.element) \(.container.reserve)"')"
check_eq "build_label: string growth, 6 per round, reserve(960)" \
    "$((6 * R)) std::string 960" \
    "$(cx build_label string '"\(.allocs) \(.container.type) \(.container.reserve)"')"
check_eq "count_words: one node per key" "$((500 * R)) std::unordered_map<int, long>" \
    "$(cx count_words node '"\(.allocs) \(.container.type)"')"
check_eq "count_words: bucket arrays apart, with reserve" "$((6 * R)) true" \
    "$(cx count_words hash-buckets '"\(.allocs) \(.container.reserve >= 500)"')"
check_eq "make_orders: make_shared<Order>" "$((100 * R)) Order" \
    "$(cx make_orders shared '"\(.allocs) \(.container.element)"')"
check_eq "churn_session: a plain object, no container" "$((100 * R)) null" \
    "$(json_get "$J" '[.sites[] | select(.key | startswith("churn_session("))][0]
        | "\(.allocs) \(.container)"')"
check_eq "no site is libstdc++ code" 0 \
    "$(json_get "$J" '[.sites[] | select(.key | test("^(std::|__gnu_cxx::|void std::)"))] | length')"
"$REPORT" "$TMP/cx.bin" >"$TMP/cx.txt"
check "the text report gives fill_points the reserve advice" \
    grep -q 'std::vector<Point> grows one reallocation at a time: reserve(1024)' "$TMP/cx.txt"

# --- names in stripped code: MiniDebugInfo (.gnu_debugdata), as Fedora ships its binaries ----
# Built the way Fedora's find-debuginfo does: the function symbols that .dynsym lacks, in an
# xz-compressed ELF inside the stripped program.
cp "$WORKLOADS/cxxnew" "$TMP/full"
cp "$TMP/full" "$TMP/mini-prog"
nm -D "$TMP/full" --format=posix --defined-only | awk '{print $1}' | sort >"$TMP/dynsyms"
nm "$TMP/full" --format=posix --defined-only | awk '$2 == "T" || $2 == "t" {print $1}' |
    sort >"$TMP/funcsyms"
comm -13 "$TMP/dynsyms" "$TMP/funcsyms" >"$TMP/keep"
objcopy --only-keep-debug "$TMP/full" "$TMP/mini.debug"
objcopy -S --remove-section .comment --keep-symbols="$TMP/keep" "$TMP/mini.debug" "$TMP/mini"
xz -f "$TMP/mini"
strip --strip-all "$TMP/mini-prog"
cp "$TMP/mini-prog" "$TMP/bare-prog"
objcopy --add-section .gnu_debugdata="$TMP/mini.xz" "$TMP/mini-prog"
profiled mini "$TMP/mini.bin" -- "$TMP/mini-prog" 100
profiled bare "$TMP/bare.bin" -- "$TMP/bare-prog" 100
report_to "$TMP/mini.json" "$TMP/mini.bin"
report_to "$TMP/bare.json" "$TMP/bare.bin"
check_eq "stripped program with .gnu_debugdata: the site is named" "make_widget(unsigned long) 100" \
    "$(json_get "$TMP/mini.json" '[.sites[] | select(.runtime | not)][0] | "\(.key) \(.allocs)"')"
check_eq "the same program stripped bare: module+0xoffset, and the module named once" \
    "bare-prog+0x 1" \
    "$(json_get "$TMP/bare.json" '[.sites[] | select(.runtime | not)][0].key[0:12] + " " +
        (.nameless_modules | length | tostring)')"

LIB_FINISHED=1
