#!/usr/bin/env bash
# t_robust_libraries.sh — libraries: a plugin dlopen'ed and dlclose'd 50 times (its allocation
# function still symbolized by name after the dlclose); a plugin opened with RTLD_DEEPBIND; and
# the shim stacked on another allocator (jemalloc, tcmalloc) in both LD_PRELOAD orders.
#
# RTLD_DEEPBIND: the plugin's own references to malloc/free bind to libc's definitions ahead of
# the global scope, so its direct calls bypass the shim (they are simply not counted), while
# allocations libc makes on its behalf (strdup) still reach the shim through the global scope
# and are then freed behind its back (the side table drops such stale entries when the address
# is reused). We require only identical output and a readable trace.
#
# Another allocator: with the shim first (LD_PRELOAD=libpoolprobe.so:libjemalloc.so.2) the shim
# forwards to that allocator (dlsym RTLD_NEXT) and counts exactly. With the allocator first it
# takes every call itself and the shim sees none: the program is unaffected and the trace is
# readable but has (next to) no allocations. Each part is a skip (tests/lib.sh) when the library is absent.
# shellcheck source=tests/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/robust_lib.sh
. "${0%/*}/robust_lib.sh"
require "$SHIM" "$REPORT" "$WORKLOADS/robust_dlopen" "$WORKLOADS/robust_threads"

cat >"$TMP/plugin.c" <<'C'
#include <stdlib.h>
#include <string.h>

static char *ctor_block;

__attribute__((noinline)) char *plugin_ctor_alloc(void) { return malloc(200); }
__attribute__((noinline)) char *plugin_alloc(unsigned i)
{
    char *p = malloc(72);
    if (p)
        p[0] = (char)i;
    return p;
}
__attribute__((constructor)) static void plugin_init(void) { ctor_block = plugin_ctor_alloc(); }
__attribute__((destructor)) static void plugin_fini(void) { free(ctor_block); }

unsigned long plugin_work(unsigned k)
{
    unsigned long sum = 0;
    char *name = strdup("plugin-work-name");
    for (unsigned i = 0; i < k; i++) {
        char *p = plugin_alloc(i);
        sum += (unsigned char)p[0] + strlen(name);
        free(p);
    }
    free(name);
    return sum;
}
C
gcc -shared -fPIC -O1 -g -fno-omit-frame-pointer -fno-inline -o "$TMP/libplugin.so" "$TMP/plugin.c"

# --- dlopen / dlclose 50 times ---------------------------------------------------------------
I=50 K=20
run_native dl -- "$WORKLOADS/robust_dlopen" "$TMP/libplugin.so" $I $K
run_shim dl "$TMP/dl.bin" -- "$WORKLOADS/robust_dlopen" "$TMP/libplugin.so" $I $K
same_behaviour dl quiet
check "dlopen: unloaded every time under the shim too" grep -q "unloaded=$I\$" "$TMP/dl.shim.out"
trace_ok dl "$TMP/dl.json" "$TMP/dl.bin"
check_site "$TMP/dl.json" plugin_alloc $((I * K)) $((I * K)) 72
check_site "$TMP/dl.json" plugin_ctor_alloc $I $I 200
check_eq "dlopen: plugin_alloc symbolized from the plugin's file" "$TMP/libplugin.so" \
    "$(json_get "$TMP/dl.json" '[.sites[] | select(.frames[0].function == "plugin_alloc")][0].frames[0].module')"
check_eq "dlopen: plugin_alloc called from plugin_work" plugin_work \
    "$(json_get "$TMP/dl.json" '[.sites[] | select(.frames[0].function == "plugin_alloc")][0].frames[1].function')"
check_eq "dlopen: strdup's allocation attributed to plugin_work" $I \
    "$(site_field "$TMP/dl.json" plugin_work allocs)"

# --- RTLD_DEEPBIND -------------------------------------------------------------------------
run_native deep -- "$WORKLOADS/robust_dlopen" "$TMP/libplugin.so" $I $K deepbind
run_shim deep "$TMP/deep.bin" -- "$WORKLOADS/robust_dlopen" "$TMP/libplugin.so" $I $K deepbind
same_behaviour deep quiet
trace_ok deep "$TMP/deep.json" "$TMP/deep.bin"
echo "# RTLD_DEEPBIND: the shim counted plugin_alloc: $(site_field "$TMP/deep.json" plugin_alloc allocs)," \
    "plugin_work (strdup): $(site_field "$TMP/deep.json" plugin_work allocs)"

# --- stacked on another allocator ----------------------------------------------------------
N=500
# stacked NAME SONAME [no-pvalloc]: robust_threads mix under the shim stacked on SONAME, both
# orders. no-pvalloc for jemalloc, which does not define pvalloc: glibc's would hand out a block
# jemalloc's free cannot take (that crashes natively too).
stacked() {
    local name=$1 soname=$2 mode=${3:-} lib="" d f
    for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /lib64; do
        if [ -e "$d/$soname" ]; then lib=$d/$soname && break; fi
    done
    if [ -z "$lib" ]; then
        skip "$name stacking" "$soname not installed"
        return 0
    fi
    local sites="mix_malloc mix_calloc mix_realloc mix_reallocarray mix_posix_memalign
        mix_aligned_alloc mix_memalign mix_valloc"
    if [ -z "$mode" ]; then sites="$sites mix_pvalloc"; fi
    # shellcheck disable=SC2086  # $mode is empty or one word
    run_native "$name-first" -- "$WORKLOADS/robust_threads" mix $N $mode
    like_native "$name-last" "$name-first"

    # The shim first: it forwards to $name and counts every call.
    # shellcheck disable=SC2086
    LD_PRELOAD=$lib run_shim "$name-first" "$TMP/$name-first.bin" -- \
        "$WORKLOADS/robust_threads" mix $N $mode
    same_behaviour "$name-first" quiet
    trace_ok "$name under the shim" "$TMP/$name-first.json" "$TMP/$name-first.bin"
    for f in $sites; do
        check_eq "$name under the shim: $f allocs" $((8 * N)) "$(site_field "$TMP/$name-first.json" "$f" allocs)"
        check_eq "$name under the shim: $f frees" $((8 * N)) "$(site_field "$TMP/$name-first.json" "$f" frees)"
    done
    check_eq "$name under the shim: hold_alloc live_at_exit" $((4 * N)) \
        "$(site_field "$TMP/$name-first.json" hold_alloc live_at_exit)"

    # $name first: it takes the calls it defines; the program must not notice either way.
    rc=0
    # shellcheck disable=SC2086
    { timeout -k 5 "$ROBUST_TIMEOUT" env LD_PRELOAD="$lib:$SHIM" POOLPROBE_OUT="$TMP/$name-last.bin" \
        "$WORKLOADS/robust_threads" mix $N $mode >"$TMP/$name-last.shim.out" \
        2>"$TMP/$name-last.shim.err"; } 2>/dev/null || rc=$?
    echo "$rc" >"$TMP/$name-last.shim.rc"
    same_behaviour "$name-last" quiet
    trace_ok "shim under $name" "$TMP/$name-last.json" "$TMP/$name-last.bin"
    echo "# LD_PRELOAD=$soname:libpoolprobe.so: the shim saw" \
        "$(json_get "$TMP/$name-last.json" '.totals.allocs') allocations:" \
        "$(json_get "$TMP/$name-last.json" '[.sites[] | "\(.frames[0].function)=\(.allocs)"] | join(" ")')"
}
stacked jemalloc libjemalloc.so.2 no-pvalloc
stacked tcmalloc libtcmalloc_minimal.so.4
