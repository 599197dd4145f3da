/* wrappers.h — find allocation wrappers by what they do, not by their name.
 *
 * jq allocates through jv_mem_alloc, SQLite through a static function in a stripped library:
 * grouped at the first frame outside malloc, each program is one site, and the advice lands on
 * code that only forwards. A frame (a named function, or in a stripped module a code address)
 * is a wrapper when the stacks that allocate there show that
 *   - many distinct call sites reach it (PP_WRAPPER_MIN_CALLERS or more),
 *   - the sizes follow the caller: its callers do not all request the same sizes (a function
 *     that always allocates one struct is a constructor, and a site worth keeping), and
 *   - it hands the block back: the function itself frees less than half of what it allocates
 *     (unknowable in stripped code, where this condition is not applied).
 * Such a frame is skipped like malloc, its stacks attributed to their callers, and the test is
 * repeated one level up (SQLite wraps its wrapper), until no stack moves.
 *
 * Allocates its scratch state and the list it returns; no I/O.
 */
#ifndef POOLPROBE_WRAPPERS_H
#define POOLPROBE_WRAPPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize.h"
#include "trace_reader.h"

/* Distinct call sites a frame needs before it can be a wrapper: two callers are often one
 * function's two uses of a helper; three with different sizes is a general-purpose allocator. */
#define PP_WRAPPER_MIN_CALLERS 3

/* One recorded stack, symbolized, with the index of the frame currently taken as its site. */
struct pp_stack_view {
    int space;                          /* symbolizer address space of its trace */
    const struct pp_trace_stats *stats;
    uint64_t scale;                     /* the trace's sampling: 1 in scale calls recorded */
    uint64_t allocs, frees;             /* scaled (saturating) */
    struct pp_frame *frames;            /* owned; innermost first, inline frames expanded */
    size_t nframes;
    size_t site;                        /* frames[site] is the allocation site */
};

enum pp_wrapper_origin {
    PP_WRAPPER_AUTO,    /* found by the rules above */
    PP_WRAPPER_GIVEN,   /* matched a --wrappers pattern */
    PP_WRAPPER_BUILTIN, /* matched the built-in list (xmalloc, g_malloc, ...) */
};

/* A frame that was skipped as a wrapper, as the report lists it. */
struct pp_wrapper {
    char *name;                 /* as reports print frames: function, or module+0xoffset */
    enum pp_wrapper_origin origin;
    size_t callers;             /* distinct call sites reaching it (auto only, else 0) */
    uint64_t allocs;            /* allocations attributed through it to its callers */
};

struct pp_wrapper_list {
    size_t n;
    struct pp_wrapper *items;
};

/* "auto", "given", "built-in". */
const char *pp_wrapper_origin_name(enum pp_wrapper_origin origin);

/* Count allocs through the wrapper called name (adding it to the list the first time).
 * Returns its index in the list, or -1 on out of memory. */
long pp_wrapper_note(struct pp_wrapper_list *list, const char *name,
                     enum pp_wrapper_origin origin, size_t callers, uint64_t allocs);

/* Find the wrappers among the site frames of views[0..n), move those views' sites to their
 * callers (repeatedly), and note each wrapper in list. -1 on out of memory. */
int pp_wrappers_detect(struct pp_stack_view *views, size_t n, struct pp_symbolizer *sym,
                       struct pp_wrapper_list *list);

void pp_wrapper_list_free(struct pp_wrapper_list *list);

#endif
