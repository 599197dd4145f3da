/* report_explain.h — `poolprobe-report --site PATTERN`: one site in full (its stack, histograms
 * drawn as text bars, the checklist, and the what-if pool at every simulated capacity).
 * Writes to out; the caller checks for write errors. */
#ifndef POOLPROBE_REPORT_EXPLAIN_H
#define POOLPROBE_REPORT_EXPLAIN_H

#include <stddef.h>
#include <stdio.h>

#include "sites.h"

/* Explain every judged site whose key or allocation function matches pattern ('*' = any
 * text). Returns how many matched. */
size_t pp_report_explain(FILE *out, const struct pp_report *report, const char *pattern);

struct pp_hist_span;
/* Merge adjacent spans that start in the same power of two, in place, for a histogram drawn
 * with fewer bars; returns how many are left. Shared with the HTML report. No allocation. */
size_t pp_spans_merge_octaves(struct pp_hist_span *spans, size_t n);

#endif
