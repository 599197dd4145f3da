#!/usr/bin/env bash
# t_docs.sh — the documentation people look for: man pages that render without warnings and
# document every option the commands accept, make install putting man pages, the pkg-config
# file and bash completion in place with the version from VERSION, the completion itself, and
# a LICENSE.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
require "$SHIM" "$REPORT"
version=$(cat VERSION)

# --- make install (into a staging directory) -----------------------------------------------------
inst=$TMP/inst
rc=0
make --no-print-directory install DESTDIR="$inst" PREFIX=/usr >"$TMP/install.out" 2>&1 || rc=$?
check_eq "make install: exit 0" 0 "$rc"
for f in share/man/man1/poolprobe-report.1 share/man/man1/poolprobe.1 share/man/man3/libpoolprobe.3 \
    lib/pkgconfig/poolprobe.pc share/bash-completion/completions/poolprobe \
    share/bash-completion/completions/poolprobe-report include/poolprobe.h; do
    check "make install: /usr/$f" test -s "$inst/usr/$f"
done

# --- man pages -------------------------------------------------------------------------------------
for page in man1/poolprobe-report.1 man1/poolprobe.1 man3/libpoolprobe.3; do
    f=$inst/usr/share/man/$page
    check_eq "man $page: renders without warnings" "" \
        "$(MANWIDTH=80 man -l --warnings "$f" 2>&1 >/dev/null)"
    MANWIDTH=80 man -l "$f" 2>/dev/null | col -b >"$TMP/page.txt"
    for section in NAME SYNOPSIS DESCRIPTION ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
        check "man $page: has $section" grep -q "^$section\$" "$TMP/page.txt"
    done
    check "man $page: shows version $version" grep -q "poolprobe $version" "$TMP/page.txt"
    check "man $page: no unsubstituted @...@" sh -c "! grep -q '@[A-Z]*@' '$f'"
done
MANWIDTH=80 man -l "$inst/usr/share/man/man1/poolprobe-report.1" 2>/dev/null | col -b >"$TMP/report.txt"
missing=""
for opt in $("$REPORT" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
    grep -q -e "$opt" "$TMP/report.txt" || missing="$missing $opt"
done
check_eq "poolprobe-report(1) documents every option of --help" "" "${missing# }"
MANWIDTH=80 man -l "$inst/usr/share/man/man3/libpoolprobe.3" 2>/dev/null | col -b >"$TMP/lib.txt"
missing=""
for var in $(grep -oE 'POOLPROBE_[A-Z_]+' shim/config.c | sort -u); do
    grep -q -e "$var" "$TMP/lib.txt" || missing="$missing $var"
done
check_eq "libpoolprobe(3) documents every variable the shim reads" "" "${missing# }"

# --- pkg-config -------------------------------------------------------------------------------------
pc() { PKG_CONFIG_PATH=$inst/usr/lib/pkgconfig pkg-config "$@" poolprobe; }
check_eq "pkg-config: version from VERSION" "$version" "$(pc --modversion)"
check_eq "pkg-config: the shim to preload" /usr/lib/libpoolprobe.so "$(pc --variable=shim)"
check_eq "pkg-config: nothing to link" "" "$(pc --libs)"
check_eq "pkg-config: include directory" /usr/include "$(pc --variable=includedir)"

# --- the version, from one place ---------------------------------------------------------------------
check_eq "installed poolprobe --version" "poolprobe $version" "$("$inst/usr/bin/poolprobe" --version | head -n 1)"

# --- bash completion --------------------------------------------------------------------------------
complete_words() { # complete_words FUNCTION WORD...: what completion offers for the last word
    local fn=$1
    shift
    bash -c '. "$1"; shift; fn=$1; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); "$fn";
             printf "%s\n" "${COMPREPLY[@]}"' _ scripts/poolprobe-completion.bash "$fn" "$@" |
        sed 's/ $//' | sort -u | tr '\n' ' ' | sed 's/ $//'
}
check_eq "completion: --form" "--format=" "$(complete_words _poolprobe_report "$REPORT" --form)"
check_eq "completion: --format VALUE" "folded html json markdown pprof text" \
    "$(complete_words _poolprobe_report "$REPORT" --format '')"
check_eq "completion: --format=h" "html" "$(complete_words _poolprobe_report "$REPORT" --format=h)"
check_eq "completion: -t max_l (threshold names from the command)" "max_lifetime_ns=" \
    "$(complete_words _poolprobe_report "$REPORT" -t max_l)"
check_eq "completion: --gate-threshold total" "total_allocs= total_bytes=" \
    "$(complete_words _poolprobe_report "$REPORT" --gate-threshold total)"
check_eq "completion: poolprobe r" "report run" "$(complete_words _poolprobe scripts/poolprobe r)"
check_eq "completion: poolprobe report --gro" "--group-by=" \
    "$(complete_words _poolprobe scripts/poolprobe report --gro)"

# --- licence ------------------------------------------------------------------------------------------
check "LICENSE: the MIT licence" grep -q '^MIT License$' LICENSE
