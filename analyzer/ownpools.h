/* ownpools.h — the program's own pools (include/poolprobe.h's markers): keep, resize or remove.
 *
 * The seeds' exercise 10 instruments a pool (gets, misses, hit rate over time); exercise 12
 * removes one that no longer helps ("100 RPS * 10% hit rate = 10 saved allocations/sec.
 * Negligible"). A pool is judged by what it saves and how often it misses:
 *   remove  it saves fewer than min_rate allocations a second (hits per second);
 *   keep    it is hit at least min_hit_rate of the gets;
 *   resize  busy, but missing too often: a larger capacity, or one pool per size class.
 * Pure computation, no I/O, no allocation.
 */
#ifndef POOLPROBE_OWNPOOLS_H
#define POOLPROBE_OWNPOOLS_H

#include <stdint.h>

#include "checklist.h"
#include "trace_reader.h"

struct pp_own_pool_verdict {
    const char *name;      /* the pool's, as marked; owned by the trace */
    uint64_t gets, hits, misses, puts;
    double gets_per_s;     /* over the run */
    double hit_rate;       /* hits / gets, or 1 - misses / gets when only misses were marked */
    double hits_per_s;     /* allocations the pool saves a second */
    const char *verdict;   /* "keep", "resize", "remove" */
    char why[96];          /* one line, with the numbers */
};

void pp_judge_own_pool(const struct pp_trace_own_pool *pool, uint64_t duration_ns,
                       const struct pp_thresholds *t, struct pp_own_pool_verdict *out);

#endif
