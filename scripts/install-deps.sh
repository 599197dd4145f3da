#!/bin/sh
# install-deps.sh — install what poolprobe needs to build and test, and nothing that is already there.
#
# Usage: scripts/install-deps.sh [--bench] [--fuzz] [--peer-git] [--check]
#   --bench   also install heaptrack (used only by `make bench` for comparison)
#   --fuzz    also install clang and its libFuzzer runtime (used only by `make fuzz`)
#   --peer-git  also install what git's test suite needs for its terminal tests (`make peer-git`)
#   --check   only report what is missing; exit 1 if anything is
#
# Idempotent: asks dpkg which packages are missing and runs apt-get only for those. Runs as root
# directly, or through sudo when not root and sudo exists. Prints one line: what it installed, or
# "all dependencies present". Exit status: 0 ok, 1 something missing that could not be installed.
set -eu

PACKAGES="build-essential pkg-config libunwind-dev uthash-dev libdw-dev libelf-dev
libjansson-dev jq python3 sqlite3 perl git cppcheck valgrind file strace
memcached gawk tcl libjemalloc2 libtcmalloc-minimal4
libprotobuf-c-dev protobuf-c-compiler protobuf-compiler zlib1g-dev chromium xz-utils"
# npm installs the HTML report's libraries (web/package-lock.json) at build time. A Node.js
# from elsewhere (nodesource) brings its own npm, which Debian's npm package would conflict with.
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"
BENCH_PACKAGES="heaptrack"
FUZZ_PACKAGES="clang libclang-rt-dev"
# git's own build needs only build-essential and zlib1g-dev (above); IO::Pty gives its test
# suite a terminal (the TTY prerequisite: pager and progress tests). dpkg-dev unpacks the source.
PEER_GIT_PACKAGES="libio-pty-perl dpkg-dev"

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

check_only=0
for arg in "$@"; do
    case $arg in
    --bench) PACKAGES="$PACKAGES $BENCH_PACKAGES" ;;
    --fuzz) PACKAGES="$PACKAGES $FUZZ_PACKAGES" ;;
    --peer-git) PACKAGES="$PACKAGES $PEER_GIT_PACKAGES" ;;
    --check) check_only=1 ;;
    -h | --help)
        sed -n '2,13s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    *) die "unknown option: $arg (try --help)" ;;
    esac
done

# A package counts as present when dpkg says "install ok installed".
is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    # Not a Debian-like system: we cannot install, but we can say whether the build will work.
    missing=""
    for tool in gcc g++ make pkg-config jq python3 sqlite3 perl git file protoc-c protoc; do
        command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
    done
    for hdr in libunwind.h uthash.h elfutils/libdw.h gelf.h jansson.h protobuf-c/protobuf-c.h zlib.h; do
        found=0
        for dir in /usr/include /usr/local/include; do
            [ -e "$dir/$hdr" ] && found=1
        done
        [ $found = 1 ] || missing="$missing $hdr"
    done
    [ -z "$missing" ] && { say "all dependencies present"; exit 0; }
    die "no dpkg/apt here; install by hand:$missing"
fi

missing=""
for pkg in $PACKAGES; do
    is_installed "$pkg" || missing="$missing $pkg"
done
missing=${missing# }

# The HTML report's libraries: `npm ci` from the committed lock file, when web/node_modules is
# missing or older than the lock file. Nothing is fetched at run time.
web_deps() {
    web=$(dirname "$0")/../web
    if [ -f "$web/node_modules/.package-lock.json" ] &&
        [ ! "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
        return 0
    fi
    if [ $check_only = 1 ]; then
        say "missing: web/node_modules (npm ci in web/)"
        return 1
    fi
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci in web/ failed"
    say "installed web/node_modules (npm ci)"
}

if [ -z "$missing" ]; then
    web_deps || exit 1
    say "all dependencies present"
    exit 0
fi
if [ $check_only = 1 ]; then
    say "missing: $missing"
    exit 1
fi

if [ "$(id -u)" = 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    die "need root (or sudo) to install: $missing"
fi

export DEBIAN_FRONTEND=noninteractive
# apt-get output goes to stderr so the one-line summary stays the only thing on stdout.
# shellcheck disable=SC2086  # $as_root and $missing are deliberately split into words
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 ||
    die "apt-get update failed"
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    $missing </dev/null >&2 || die "apt-get install failed for: $missing"

still=""
for pkg in $missing; do
    is_installed "$pkg" || still="$still $pkg"
done
[ -z "$still" ] || die "still missing after apt-get install:$still"
say "installed $missing"
web_deps
