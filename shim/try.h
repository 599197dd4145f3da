/* try.h — "try" mode of libpoolprobe.so: serve chosen sites from an emulated pool (try.c).
 *
 * POOLPROBE_TRY=FILE switches the shim from recording to trying: nothing is recorded and no
 * trace is written; the sites FILE names are served as their verdict says (a free list per
 * thread or shared, capped, tiered; pre-sized; a per-thread scratch block), and the counts of
 * what the pool did are written at exit to POOLPROBE_TRY_OUT.<pid>. The hooks call into try.c
 * with one branch each when pp_try_on is set; every function here returns what the real
 * allocator would have made of the call (errno, alignment, zeroing, failure) for blocks the
 * pool does not serve, and the same contract for blocks it does.
 *
 * None of these functions calls the host's malloc for the shim's own state; all are
 * thread-safe; none is async-signal-safe.
 */
#ifndef POOLPROBE_TRY_H
#define POOLPROBE_TRY_H

#include <stddef.h>
#include <stdint.h>

#include "shim.h"

PP_HIDDEN extern int pp_try_on; /* set once at start, never cleared */

/* At start, after pp_config_load: reads POOLPROBE_TRY. Returns 1 when try mode is on (the
 * caller then skips recording), 0 otherwise. */
PP_HIDDEN int pp_try_init(void);

/* ret, cfa: the hook's return address (the allocating call site) and its caller's stack
 * pointer before the call, both taken in the exported function (see hooks.c). */
PP_HIDDEN void *pp_try_malloc(size_t size, uintptr_t ret, uintptr_t cfa);
PP_HIDDEN void *pp_try_calloc(size_t n, size_t size, uintptr_t ret, uintptr_t cfa);
PP_HIDDEN void *pp_try_realloc(void *p, size_t size, uintptr_t ret, uintptr_t cfa);
/* Frees p; returns 1 when p was a pooled block (then the real free must not see it). */
PP_HIDDEN int pp_try_free(void *p);
/* malloc_usable_size of p: the class size of a pooled block, else the real allocator's. */
PP_HIDDEN size_t pp_try_usable_size(const void *p);

#endif
