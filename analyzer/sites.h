/* sites.h — group the recorded stacks of one or more traces into allocation sites.
 *
 * A site is "the first frame outside the allocator": the frames of a stack are symbolized
 * (inlined frames expanded), the leading frames that belong to the allocator are skipped (see
 * pp_is_allocator_frame), then the wrappers the stacks reveal (wrappers.h), and what is left is
 * grouped either by the allocation frame alone (function, file, line, module) or by the whole
 * remaining stack. Each site gets a key that is stable across rebuilds and ASLR (see the comment
 * on keys in sites.c). Sites whose allocating code is the C runtime's own are marked runtime
 * (runtime.h); sites reached through a libstdc++ growth path carry the container (cxx.h).
 */
#ifndef POOLPROBE_SITES_H
#define POOLPROBE_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "site.h"
#include "symbolize.h"
#include "trace_reader.h"
#include "runtime.h"
#include "wrappers.h"

enum pp_group_by { PP_GROUP_BY_SITE, PP_GROUP_BY_STACK };

struct pp_group_options {
    enum pp_group_by group_by;
    bool default_wrappers;       /* skip the built-in wrapper list (xmalloc, g_malloc, ...) */
    const char *const *wrappers; /* more wrapper patterns; '*' matches any run of characters;
                                    a frame with no name matches as "module+0xoffset" */
    size_t nwrappers;
    bool no_auto_wrappers;       /* do not look for wrappers in the stacks (wrappers.h) */
};

/* Everything a report shows: the traces it came from, their totals, and the sites. */
struct pp_verdict;

/* How many modules without names a report points at (the rest are alike). */
#define PP_NAMELESS_MAX 4

struct pp_report {
    size_t ntraces;
    const struct pp_trace *const *traces; /* not owned; must outlive the report */
    uint64_t allocs, frees, bytes;  /* sums of the TOTALS records */
    uint64_t peak_live_bytes;       /* sum of per-process peaks (an upper bound when merged) */
    uint64_t untracked_frees;
    uint64_t duration_ns;           /* longest process duration: the denominator of rates */
    uint64_t ops;                   /* operations the programs declared (poolprobe_ops), summed;
                                       0 = none declared. The caller may override it (--ops) */
    uint32_t sample_every;          /* largest 1-in-N sampling among the traces (1 = exact) */
    bool snapshot;                  /* some trace was written before its process exited */
    bool tracking_lost;             /* some shim ran out of memory and stopped counting */
    bool died;                      /* some process died of a signal (its watcher wrote it) */
    bool stacks_estimated;          /* grouped by stack from site-mode traces: the figures of
                                       each full stack are estimates (stack_estimate.h) */
    size_t nsites;                  /* sorted by allocs, highest first, then by key */
    struct pp_site *sites;
    struct pp_verdict *verdicts;    /* one per site once judged (checklist.h), else NULL */
    struct pp_wrapper_list wrappers; /* frames skipped as wrappers, in the order found */
    bool *pattern_matched;          /* per options->wrappers[i]: did it match any frame? */
    size_t runtime_sites;           /* sites marked runtime, and their allocations */
    uint64_t runtime_allocs;
    const struct pp_pooling_runtime *pooling_runtime; /* seen in a stack, else NULL */
    bool list_runtime;              /* presentation: list runtime sites one by one (--all) */
    size_t nnameless;               /* modules holding a site with no function name: their */
    const char *nameless[PP_NAMELESS_MAX]; /* debug symbols would name it (paths, interned) */
};

/* Build the report for traces[0..n) using sym for names. Allocates; on out of memory returns
 * -1 with a message in err (the report is left empty). */
int pp_report_build(struct pp_report *report, const struct pp_trace *const *traces, size_t n,
                    struct pp_symbolizer *sym, const struct pp_group_options *options,
                    char *err, size_t errlen);
void pp_report_free(struct pp_report *report);

/* Is this frame part of the allocator, to be skipped when finding a site? True for the shim's
 * own module, libc's allocation functions and strdup-like wrappers, every operator new and
 * new[], C++ standard library code (so the site is the container's owner), and the wrapper
 * functions selected by options. */
bool pp_is_allocator_frame(const struct pp_frame *frame, const struct pp_group_options *options);

/* Does name match pattern, where '*' matches any run of characters (possibly empty)? */
bool pp_glob_match(const char *pattern, const char *name);

/* Does a site match pattern by its key or by its allocating function (may be NULL)? How users
 * name sites everywhere (--site, suppressions). */
bool pp_site_matches(const char *pattern, const char *key, const char *function);

#endif
