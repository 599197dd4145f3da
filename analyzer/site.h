/* site.h — the in-memory model of one allocation site: everything the trace's STATS entries say
 * about it, summed over the stacks (and traces) that were grouped into it.
 *
 * A site is built by sites.c from STATS entries with pp_site_add_stats(); output formats and the
 * coming "should you pool this" checklist read it. Merging rules (documented here because every
 * consumer depends on them):
 *   - counters (allocs, frees, bytes, live bytes, cross-thread frees, realloc fields, lifetime
 *     sum) add; min and max combine;
 *   - peak_live and peak_live_bytes add: the stacks of a site need not peak at the same moment,
 *     so the sum is an upper bound of the site's true peak (exact when one stack makes the site);
 *   - free callers add by function name; pool simulations add hits by capacity;
 *   - histograms add bucket-wise and stay exact while every input was exact (hist.h).
 */
#ifndef POOLPROBE_SITE_H
#define POOLPROBE_SITE_H

#include <stddef.h>
#include <stdint.h>

#include "cxx.h"
#include "hist.h"
#include "symbolize.h"
#include "trace_reader.h"

struct pp_site_free_caller {
    const char *function; /* symbolized function that called free(); owned by the symbolizer */
    uint64_t count;
};

struct pp_site_pool {
    uint32_t capacity; /* what-if free list capacity */
    uint64_t hits;     /* allocations it would have served */
};

struct pp_site {
    char *key;                 /* stable symbolic identity (see sites.c); owned */
    size_t nframes;            /* frames[0] is the allocation frame, then its callers */
    struct pp_frame *frames;   /* owned array; strings owned by the symbolizer */
    size_t nstacks;            /* recorded stacks grouped here */
    uint64_t best_stack_allocs; /* allocs of the stack whose frames are shown */
    uint64_t allocs, frees, bytes;
    uint64_t min_size, max_size; /* exact; meaningful when allocs > 0 */
    uint64_t live_bytes;       /* bytes still live when the trace was written */
    uint64_t peak_live, peak_live_bytes; /* upper bounds, see above */
    uint64_t cross_thread_frees;
    uint64_t realloc_calls, realloc_grows, chains_freed;
    uint64_t lifetime_ns_sum;  /* over freed blocks */
    size_t nfree_callers;      /* sorted by count, highest first */
    struct pp_site_free_caller *free_callers;
    uint64_t other_free_callers;
    size_t npools;             /* sorted by capacity */
    struct pp_site_pool *pools;
    struct pp_hist hists[PP_STATS_HIST_COUNT]; /* indexed by enum pp_stats_hist */
    bool runtime;              /* the allocating code is the C runtime's (runtime.h) */
    struct pp_cxx_container cxx; /* the libstdc++ growth path of its busiest stack, if any */
};

/* An empty site with each histogram in the v1 shim's layout. No allocation. */
void pp_site_init(struct pp_site *site);
void pp_site_free(struct pp_site *site);

/* Add one STATS entry, every count multiplied by scale (the sampling rate of its trace, 1 for
 * an exact trace; sizes, lifetimes and min/max are not scaled). free_caller_names[i] names
 * stats->free_callers[i] (NULL = unknown). Allocates; -1 on out of memory (the site stays
 * consistent but incomplete). */
int pp_site_add_stats(struct pp_site *site, const struct pp_trace_stats *stats,
                      const char *const *free_caller_names, uint64_t scale);

/* Blocks allocated here and not freed when the trace was written. */
uint64_t pp_site_live_at_exit(const struct pp_site *site);

/* Requested size at percentile pct, clamped to the exact [min, max] of the site. */
uint64_t pp_site_size_percentile(const struct pp_site *site, double pct);

/* The size of one element as the sizes show it: the greatest common divisor of the exact
 * sizes (a vector's capacities are multiples of its element size), else the smallest size. */
uint64_t pp_site_element_bytes(const struct pp_site *site);

/* Lifetime (ns) of freed blocks at percentile pct; 0 when none were freed. */
uint64_t pp_site_lifetime_percentile(const struct pp_site *site, double pct);

#endif
