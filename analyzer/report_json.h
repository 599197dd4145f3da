/* report_json.h — the machine-readable report (--format json), the documented contract:
 * "format": "poolprobe-report", "version": 1, processes, totals and sites with key, frames,
 * allocs, frees, bytes, live_at_exit, peak_live, size and lifetime_ns percentiles. Fields may
 * be added; the meaning of existing ones never changes within a version. */
#ifndef POOLPROBE_REPORT_JSON_H
#define POOLPROBE_REPORT_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "sites.h"

#define PP_REPORT_JSON_VERSION 1
/* Minor versions add fields only. 1: saving_ns, saving_share, pool_kind, capacity_per_thread,
 * threads, pool_bytes, drop_above_bytes, then, tiers[].block_bytes, arena_bytes, cost_model,
 * pools. */
#define PP_REPORT_JSON_MINOR 1

/* Write report as JSON to out, at most top sites (0 = all). Returns -1 on out of memory
 * (nothing or a partial document written); write errors are left for the caller to detect. */
int pp_report_json(FILE *out, const struct pp_report *report, size_t top);

#endif
