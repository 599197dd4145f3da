/* stack_estimate.h — figures per full stack in a site-mode trace, estimated from samples.
 *
 * In site mode (trace_format.h, STACK_SAMPLES) the shim counts every call exactly under its site
 * prefix (its first few frames) and unwinds full stacks only for a sample of calls. Grouping by
 * site uses the exact prefix figures as they are. Grouping by full stack needs figures per full
 * stack: each sampled stack gets its prefix's figures times its share of the prefix's samples.
 * Those are estimates, and every report that shows them says so.
 */
#ifndef POOLPROBE_STACK_ESTIMATE_H
#define POOLPROBE_STACK_ESTIMATE_H

#include <stdint.h>

#include "trace_reader.h"

/* STATS entries for t's sampled full stacks (stack_id = the full stack), each its prefix's
 * figures scaled by samples / (samples of the prefix); a prefix with figures but no sample
 * keeps its own entry. Counts are rounded to the nearest integer; min and max sizes are the
 * prefix's. Returns 0 and sets *out (free with pp_stack_estimate_free) and *n, or -1 on out of
 * memory. For a trace not in site mode, returns its own entries' count and *out = NULL. */
int pp_stack_estimate(const struct pp_trace *t, struct pp_trace_stats **out, uint32_t *n);
void pp_stack_estimate_free(struct pp_trace_stats *stats, uint32_t n);

/* For each stack id of a site-mode trace, the stack to show it by: for a site prefix, its most
 * sampled full stack (same first frames, more callers); otherwise the id itself. NULL when t is
 * not in site mode or on out of memory (then every stack shows itself). Free with free(). */
uint32_t *pp_stack_estimate_shown(const struct pp_trace *t);

#endif
